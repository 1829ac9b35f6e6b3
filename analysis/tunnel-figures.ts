import type { LossClearedReason, LossSource, TunnelDirection } from '../model/flow.js';
import type { TunnelFlag, TunnelHealth } from './health.js';
import type { Encapsulation, SaEndReason } from '../model/tunnel.js';
import type { ClearedCounts } from '../model/tunnel-bucket.js';

/** The observation point whose packets a direction shows. */
export interface ObservedBy {
  readonly exporter: string;
  readonly domainId: number;
}

/** One loss figure of a direction, with where it came from. */
export interface SourcedLoss {
  readonly source: LossSource;
  readonly lost: number | null;
  readonly lossRatio: number | null;
  /** The point that measured it; null for two-point (both points together). */
  readonly observedBy: ObservedBy | null;
}

/** One direction's figures over a bucket or a window (DESIGN.md "HTTP"). */
export interface DirectionFigures {
  /** From the point near the sender when one is known, else from the point that saw the most. */
  readonly packets: number;
  readonly octets: number;
  /** ESP flow records that started in the bucket (or window), from the same observation point. */
  readonly flows: number;
  /** Null when nothing measured it (not zero: unknown). */
  readonly lost: number | null;
  /** lost / packets sent (packets + lost; for two-point, the upstream packets). */
  readonly lossRatio: number | null;
  /** The packets sent that `lossRatio` is taken of (the ratio's denominator); null when no loss was measured. */
  readonly sent: number | null;
  readonly lossSource: LossSource | null;
  /** Loss values cleared as bogus, by reason. */
  readonly bogusCleared: ClearedCounts;
  readonly observedBy: ObservedBy | null;
  /**
   * Every loss figure measured for the direction, one per source and observation point (a
   * probe's sequence count beside another point's reported loss, or beside a two-point
   * figure): `lost` / `lossSource` above is the one the precedence picks (reported, then
   * sequence, then two-point).
   */
  readonly lossFigures: readonly SourcedLoss[];
}

/** A two-point loss figure that covers several buckets (see two-point-loss.ts). */
export interface LossSpan {
  readonly startMs: number;
  /** End of the last bucket of the span (exclusive). */
  readonly endMs: number;
  readonly lost: number | null;
  readonly lossRatio: number | null;
  readonly clearedReason: LossClearedReason | null;
  /** False when records cross the span's edge at the window's start or end: no figure. */
  readonly complete: boolean;
}

export interface BucketDirectionFigures extends DirectionFigures {
  /** Set when this bucket's two-point loss can only be given for a run of buckets. */
  readonly lossSpan: LossSpan | null;
}

export interface SaView {
  readonly id: string;
  readonly direction: TunnelDirection;
  readonly spi: number | null;
  readonly src: string;
  readonly dst: string;
  readonly generation: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly ended: number | null;
  readonly endReason: SaEndReason | null;
  readonly pairedSaId: string | null;
}

export interface ObservationPointView {
  readonly exporter: string;
  readonly domainId: number;
  readonly near: 'a' | 'b' | null;
  readonly placedBy: 'config' | 'inferred' | 'unknown';
}

/** An item of `GET /api/v1/tunnels` and the body of `GET /api/v1/tunnels/:id`. */
export interface TunnelSummary {
  readonly id: string;
  readonly name: string | null;
  readonly peerA: string;
  readonly peerB: string;
  readonly encapsulation: Encapsulation;
  readonly state: TunnelHealth;
  readonly flags: TunnelFlag[];
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly sas: SaView[];
  readonly aToB: DirectionFigures;
  readonly bToA: DirectionFigures;
  readonly fragments: number;
  readonly icmpFragNeeded: number;
  readonly ikePackets: number;
  readonly leakPackets: number;
  readonly observationPoints: ObservationPointView[];
}

/** An item of `GET /api/v1/tunnels/:id/buckets`. */
export interface TunnelBucketView {
  readonly start: number;
  readonly aToB: BucketDirectionFigures;
  readonly bToA: BucketDirectionFigures;
  readonly fragments: number;
  readonly icmpFragNeeded: number;
  readonly ikePackets: number;
  readonly leakPackets: number;
  readonly state: TunnelHealth;
  readonly flags: TunnelFlag[];
}

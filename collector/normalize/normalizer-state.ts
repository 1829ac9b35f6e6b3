import type { TunnelDirection } from '../../model/flow.js';
import type { Encapsulation, SaEndReason } from '../../model/tunnel.js';
import type { NormalizerCounters } from './normalizer-counters.js';

/** A tunnel as the normalizer keeps it (plain data, so a snapshot is plain JSON). */
export interface TunnelState {
  id: string;
  name: string | null;
  peerA: string;
  peerB: string;
  encapsulation: Encapsulation;
  ipVersion: 4 | 6;
  firstSeenMs: number;
  lastSeenMs: number;
  /** End of the latest ESP flow: which of a hub's tunnels an ICMP frag-needed most likely concerns. */
  lastEspMs: number | null;
  /** SA ids per direction, oldest first, at most `saHistory` each. */
  saIds: Record<TunnelDirection, string[]>;
}

/** An SA as the normalizer keeps it. */
export interface SaState {
  id: string;
  /** src|dst|spi (spi empty when not exported): the key generations are counted on. */
  key: string;
  tunnelId: string;
  direction: TunnelDirection;
  src: string;
  dst: string;
  spi: number | null;
  generation: number;
  firstSeenMs: number;
  lastSeenMs: number;
  endedMs: number | null;
  endReason: SaEndReason | null;
  pairedSaId: string | null;
}

/** Everything the normalizer remembers; `JSON.stringify` it, `createNormalizer(config, it)` restores it. */
export interface NormalizerSnapshot {
  readonly version: 1;
  readonly tunnels: readonly TunnelState[];
  readonly sas: readonly SaState[];
  /** Observation points (exporter|domain) seen exporting an SPI: their SPI-less ESP is fragments. */
  readonly spiObservationPoints: readonly string[];
  /** Latest believable record end time seen (the normalizer's only clock). */
  readonly clockMs: number;
  readonly lastSweepMs: number;
  readonly counters: NormalizerCounters;
}

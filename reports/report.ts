import type { TunnelFlag, TunnelHealth } from '../analysis/health.js';
import type { BucketCompleteness } from '../analysis/tunnel-queries.js';
import type { LossSource, TunnelDirection } from '../model/flow.js';
import type { Encapsulation } from '../model/tunnel.js';
import type { AvailabilityResult, UnavailableInterval } from './availability.js';
import type { ReportPolicy } from './policy.js';

/**
 * An SLA report, the JSON reference format (README "SLA reports" documents every field).
 * Times are epoch milliseconds; ratios are fractions (0.01 = 1 %); null means "not
 * measured", never zero.
 */
export interface SlaReport {
  readonly schema: 'tunnelflow.sla-report/1';
  readonly generatedAt: number;
  readonly period: { readonly from: number; readonly to: number; readonly timezone: string };
  /** The stored bucket, Δt of the availability rules. */
  readonly bucketSeconds: number;
  readonly policy: ReportPolicy;
  /** Maintenance as the fixed spans that fell into the period. */
  readonly maintenance: ReadonlyArray<{ readonly from: number; readonly to: number }>;
  readonly summary: ReportSummary;
  /** Worst first: lowest availability, then highest loss ratio. */
  readonly tunnels: readonly TunnelReport[];
  /** The exporters (observation points) that fed the reported tunnels over the period. */
  readonly completeness: readonly ExporterCompleteness[];
}

export interface ReportSummary {
  readonly tunnels: number;
  readonly meetingTargets: number;
  readonly breaching: number;
  /** Lowest availability among tunnels with minutes in scope (null: none). */
  readonly worstAvailability: number | null;
  /** Sum over tunnels and directions. */
  readonly sent: number;
  readonly lost: number;
}

export interface TunnelReport {
  readonly id: string;
  readonly name: string | null;
  readonly peerA: string;
  readonly peerB: string;
  readonly encapsulation: Encapsulation;
  /** available / in-scope minutes (MEF 10.3); null when no minute was in scope. */
  readonly availability: number | null;
  readonly minutes: AvailabilityResult['minutes'];
  /** High-loss minutes while available, and runs of two or more of them (MEF 10.3 HLI, CHLI). */
  readonly hli: number;
  readonly chli: number;
  readonly unavailableIntervals: readonly UnavailableInterval[];
  readonly directions: readonly DirectionReport[];
  /** Minutes with data, by the tunnel's state in that minute. */
  readonly minutesByState: Readonly<Record<TunnelHealth, number>>;
  /** Minutes in which each flag was raised. */
  readonly minutesWithFlag: Readonly<Record<TunnelFlag, number>>;
  /** Top 10 minutes by loss ratio (then lost), each with its drill-down. */
  readonly worstMinutes: readonly WorstMinute[];
  readonly breaches: readonly TargetBreach[];
  readonly coverage: {
    /** In-scope share of minutes that had data (minutes with data / (total − maintenance)). */
    readonly withData: number | null;
  };
}

export interface DirectionReport {
  readonly direction: TunnelDirection;
  /** The period's figures (the same as `GET /api/v1/tunnels/:id` over the period). */
  readonly packets: number;
  readonly octets: number;
  /** Packets sent that the loss ratio is taken of; null when loss was not measured. */
  readonly sent: number | null;
  readonly lost: number | null;
  readonly lossRatio: number | null;
  readonly lossSource: LossSource | null;
  /** Minutes whose loss was measured, by source, and minutes with traffic but no loss figure. */
  readonly measuredMinutes: number;
  readonly minutesBySource: Readonly<Record<LossSource, number>>;
  readonly unmeasuredMinutes: number;
  /** Share of the direction's minutes with traffic whose loss was measured; null without traffic. */
  readonly measuredShare: number | null;
  /** Per-minute loss ratio over measured minutes (nearest rank); null when none was measured. */
  readonly lossRatioPercentiles: { readonly p50: number; readonly p95: number; readonly p99: number } | null;
}

/** A minute, or the run of minutes a two-point figure covers, [start, end). */
export interface WorstMinute {
  readonly start: number;
  readonly end: number;
  readonly direction: TunnelDirection;
  readonly lost: number;
  readonly lossRatio: number;
  readonly lossSource: LossSource;
  /** API path of the drill-down to the flows behind it (the bucket's, or /flows over a run). */
  readonly drillDown: string;
}

export interface TargetBreach {
  readonly target: 'availability' | 'lossRatio';
  readonly direction: TunnelDirection | null;
  readonly value: number;
  readonly limit: number;
}

export interface ExporterCompleteness extends BucketCompleteness {
  /** Minutes of the period in which the exporter sent nothing. */
  readonly silentMinutes: number;
}

/** A breach in words: "availability 0.9931 < 0.999", "lossRatio a-b 0.0204 > 0.001". */
export function describeBreach(b: TargetBreach): string {
  const value = Number(b.value.toPrecision(4));
  return b.target === 'availability'
    ? `availability ${value} < ${b.limit}`
    : `lossRatio ${b.direction ?? ''} ${value} > ${b.limit}`.replace('  ', ' ');
}

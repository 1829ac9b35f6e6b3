import type { TunnelHealth } from '../analysis/health.js';
import type { ReportPolicy } from './policy.js';

/** What a minute is, for availability (README "SLA reports"). */
export type MinuteClass = 'good' | 'high-loss' | 'maintenance' | 'no-data' | 'idle';

/** One minute of one tunnel as the analysis layer gives it (a bucket of /buckets). */
export interface ReportMinute {
  readonly start: number;
  readonly state: TunnelHealth;
  /** Measured loss ratio per direction; null when nothing measured it. */
  readonly aToBLossRatio: number | null;
  readonly bToALossRatio: number | null;
}

/** A stretch of unavailable time, [startMs, endMs). */
export interface UnavailableInterval {
  readonly startMs: number;
  readonly endMs: number;
}

export interface AvailabilityResult {
  readonly minutes: {
    readonly total: number;
    readonly inScope: number;
    readonly available: number;
    readonly unavailable: number;
    readonly highLoss: number;
    readonly maintenance: number;
    readonly noData: number;
    /** Idle minutes (out of scope unless the policy expects traffic). */
    readonly idle: number;
  };
  /** available / in scope; null when no minute is in scope. */
  readonly availability: number | null;
  /** High-loss minutes while available (MEF 10.3 HLI). */
  readonly hli: number;
  /** Runs of two or more consecutive high-loss minutes while available (MEF 10.3 CHLI). */
  readonly chli: number;
  readonly unavailableIntervals: UnavailableInterval[];
}

const NOT_BOTH_WAYS: ReadonlySet<TunnelHealth> = new Set(['one-way', 'negotiating', 'ike-one-sided']);

/** Classifies one minute: maintenance and missing data first, then idle, then loss and state. */
export function classifyMinute(
  minute: ReportMinute | undefined,
  inMaintenance: boolean,
  policy: ReportPolicy,
): MinuteClass {
  if (inMaintenance) return 'maintenance';
  if (minute === undefined) return 'no-data';
  if (minute.state === 'idle') return policy.expectTraffic ? 'high-loss' : 'idle';
  if (NOT_BOTH_WAYS.has(minute.state)) return 'high-loss';
  const over = (r: number | null) => r !== null && r > policy.highLossRatio;
  return over(minute.aToBLossRatio) || over(minute.bToALossRatio) ? 'high-loss' : 'good';
}

/**
 * Availability after MEF 10.3 / ITU-T Y.1540 over [fromMs, toMs) cut into minutes of
 * `minuteMs`. A run of n consecutive high-loss minutes starts unavailable time at its first
 * minute; a run of n consecutive good minutes ends it at its first minute (a sliding window:
 * one bad minute is no outage, one good minute ends none). Minutes out of scope
 * (maintenance, no data, idle unless traffic is expected) neither count nor break a run.
 * Availability = available minutes / in-scope minutes. `maintenance` holds fixed spans
 * (policy.ts maintenanceSpans); a minute that overlaps one is out of scope.
 */
export function computeAvailability(
  minutes: readonly ReportMinute[],
  fromMs: number,
  toMs: number,
  minuteMs: number,
  policy: ReportPolicy,
  maintenance: ReadonlyArray<{ readonly from: number; readonly to: number }> = [],
): AvailabilityResult {
  const n = policy.consecutiveMinutes;
  const byStart = new Map(minutes.map((m) => [m.start, m]));
  const first = Math.floor(fromMs / minuteMs) * minuteMs;
  const classes: Array<{ start: number; cls: MinuteClass }> = [];
  for (let start = first; start < toMs; start += minuteMs) {
    const inMaintenance = maintenance.some((w) => start < w.to && start + minuteMs > w.from);
    classes.push({ start, cls: classifyMinute(byStart.get(start), inMaintenance, policy) });
  }
  const scoped = classes.filter((c) => c.cls === 'good' || c.cls === 'high-loss');
  // Decide availability per in-scope minute with the sliding window.
  const unavailable = new Array<boolean>(scoped.length).fill(false);
  let state: 'available' | 'unavailable' = 'available';
  let run = 0;
  let runStart = 0;
  for (let i = 0; i < scoped.length; i++) {
    const bad = scoped[i]!.cls === 'high-loss';
    const counts = state === 'available' ? bad : !bad;
    if (counts) {
      if (run === 0) runStart = i;
      run++;
    } else run = 0;
    if (run === n) {
      const becomes: boolean = state === 'available';
      // The run's minutes take the new state from its first minute on.
      for (let j = runStart; j <= i; j++) unavailable[j] = becomes;
      state = becomes ? 'unavailable' : 'available';
      run = 0;
    } else unavailable[i] = state === 'unavailable';
  }
  let hli = 0;
  let chli = 0;
  let badRun = 0;
  const intervals: UnavailableInterval[] = [];
  for (let i = 0; i < scoped.length; i++) {
    const { start, cls } = scoped[i]!;
    if (unavailable[i]) {
      // Intervals hold only minutes counted unavailable: a minute out of scope splits them.
      const last = intervals.at(-1);
      if (last !== undefined && last.endMs === start)
        intervals[intervals.length - 1] = { ...last, endMs: start + minuteMs };
      else intervals.push({ startMs: start, endMs: start + minuteMs });
      badRun = 0;
      continue;
    }
    if (cls === 'high-loss') {
      hli++;
      badRun++;
      if (badRun === 2) chli++;
    } else badRun = 0;
  }
  const count = (cls: MinuteClass) => classes.filter((c) => c.cls === cls).length;
  const unavailableCount = unavailable.filter(Boolean).length;
  return {
    minutes: {
      total: classes.length,
      inScope: scoped.length,
      available: scoped.length - unavailableCount,
      unavailable: unavailableCount,
      highLoss: count('high-loss'),
      maintenance: count('maintenance'),
      noData: count('no-data'),
      idle: count('idle'),
    },
    availability: scoped.length === 0 ? null : (scoped.length - unavailableCount) / scoped.length,
    hli,
    chli,
    unavailableIntervals: intervals,
  };
}

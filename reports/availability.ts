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

/** Minute classes (MinuteClass) as codes, in the order of precedence classify() applies. */
const GOOD = 0;
const HIGH_LOSS = 1;
const MAINTENANCE = 2;
const NO_DATA = 3;
const IDLE = 4;

/**
 * One tunnel's minutes over a period as columns, for periods of many minutes (a month of a
 * thousand tunnels is 43 million minutes: no object per minute). `state` holds a code per
 * minute: 0 no data, 1 + the index in `stateCodes` for a minute with data. Loss ratios are
 * NaN where nothing measured them.
 */
export interface MinuteSeries {
  readonly state: Uint8Array;
  readonly aToBLossRatio: Float64Array;
  readonly bToALossRatio: Float64Array;
}

/** The states in code order (MinuteSeries.state = 1 + index). */
export const stateCodes: readonly TunnelHealth[] = ['up', 'one-way', 'negotiating', 'ike-one-sided', 'idle'];

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
  const first = Math.floor(fromMs / minuteMs) * minuteMs;
  const count = Math.max(0, Math.ceil((toMs - first) / minuteMs));
  const series: MinuteSeries = {
    state: new Uint8Array(count),
    aToBLossRatio: new Float64Array(count).fill(Number.NaN),
    bToALossRatio: new Float64Array(count).fill(Number.NaN),
  };
  for (const m of minutes) {
    const i = (m.start - first) / minuteMs;
    if (!Number.isInteger(i) || i < 0 || i >= count) continue;
    series.state[i] = 1 + stateCodes.indexOf(m.state);
    series.aToBLossRatio[i] = m.aToBLossRatio ?? Number.NaN;
    series.bToALossRatio[i] = m.bToALossRatio ?? Number.NaN;
  }
  return availabilityOfSeries(series, first, count, minuteMs, policy, maintenance);
}

/**
 * One class code per minute: maintenance and missing data first, then idle (high-loss when
 * the policy expects traffic), then a state that does not carry traffic both ways
 * (high-loss), then loss over highLossRatio in either direction (high-loss), else good.
 */
function classify(
  series: MinuteSeries,
  first: number,
  count: number,
  minuteMs: number,
  policy: ReportPolicy,
  maintenance: ReadonlyArray<{ readonly from: number; readonly to: number }>,
): Uint8Array {
  const classes = new Uint8Array(count);
  const limit = policy.highLossRatio;
  const idleCode = 1 + stateCodes.indexOf('idle');
  const upCode = 1 + stateCodes.indexOf('up');
  for (let i = 0; i < count; i++) {
    const code = series.state[i]!;
    if (code === 0) classes[i] = NO_DATA;
    else if (code === idleCode) classes[i] = policy.expectTraffic ? HIGH_LOSS : IDLE;
    else if (code !== upCode) classes[i] = HIGH_LOSS;
    else {
      // NaN > limit is false: an unmeasured direction is not high-loss.
      classes[i] = series.aToBLossRatio[i]! > limit || series.bToALossRatio[i]! > limit ? HIGH_LOSS : GOOD;
    }
  }
  for (const w of maintenance) {
    const lo = Math.max(0, Math.floor((w.from - first) / minuteMs));
    const hi = Math.min(count, Math.ceil((w.to - first) / minuteMs));
    classes.fill(MAINTENANCE, lo, hi);
  }
  return classes;
}

/** computeAvailability over a MinuteSeries of `count` minutes from `first` (minute-aligned). */
export function availabilityOfSeries(
  series: MinuteSeries,
  first: number,
  count: number,
  minuteMs: number,
  policy: ReportPolicy,
  maintenance: ReadonlyArray<{ readonly from: number; readonly to: number }> = [],
): AvailabilityResult {
  const n = policy.consecutiveMinutes;
  const classes = classify(series, first, count, minuteMs, policy, maintenance);
  const byClass = [0, 0, 0, 0, 0];
  let scopedCount = 0;
  for (let i = 0; i < count; i++) byClass[classes[i]!]!++;
  scopedCount = byClass[GOOD]! + byClass[HIGH_LOSS]!;
  // The in-scope minutes, in order: indexes into the period.
  const scoped = new Uint32Array(scopedCount);
  for (let i = 0, j = 0; i < count; i++) if (classes[i]! <= HIGH_LOSS) scoped[j++] = i;
  // Decide availability per in-scope minute with the sliding window.
  const unavailable = new Uint8Array(scopedCount);
  let state: 'available' | 'unavailable' = 'available';
  let run = 0;
  let runStart = 0;
  for (let i = 0; i < scopedCount; i++) {
    const bad = classes[scoped[i]!] === HIGH_LOSS;
    const counts = state === 'available' ? bad : !bad;
    if (counts) {
      if (run === 0) runStart = i;
      run++;
    } else run = 0;
    if (run === n) {
      const becomes: boolean = state === 'available';
      // The run's minutes take the new state from its first minute on.
      unavailable.fill(becomes ? 1 : 0, runStart, i + 1);
      state = becomes ? 'unavailable' : 'available';
      run = 0;
    } else unavailable[i] = state === 'unavailable' ? 1 : 0;
  }
  let hli = 0;
  let chli = 0;
  let badRun = 0;
  let unavailableCount = 0;
  const intervals: UnavailableInterval[] = [];
  for (let i = 0; i < scopedCount; i++) {
    const start = first + scoped[i]! * minuteMs;
    if (unavailable[i] === 1) {
      unavailableCount++;
      // Intervals hold only minutes counted unavailable: a minute out of scope splits them.
      const last = intervals.at(-1);
      if (last !== undefined && last.endMs === start)
        intervals[intervals.length - 1] = { ...last, endMs: start + minuteMs };
      else intervals.push({ startMs: start, endMs: start + minuteMs });
      badRun = 0;
      continue;
    }
    if (classes[scoped[i]!] === HIGH_LOSS) {
      hli++;
      badRun++;
      if (badRun === 2) chli++;
    } else badRun = 0;
  }
  return {
    minutes: {
      total: count,
      inScope: scopedCount,
      available: scopedCount - unavailableCount,
      unavailable: unavailableCount,
      highLoss: byClass[HIGH_LOSS]!,
      maintenance: byClass[MAINTENANCE]!,
      noData: byClass[NO_DATA]!,
      idle: byClass[IDLE]!,
    },
    availability: scopedCount === 0 ? null : (scopedCount - unavailableCount) / scopedCount,
    hli,
    chli,
    unavailableIntervals: intervals,
  };
}

import type { TunnelFlag } from '../analysis/health.js';
import type {
  BucketDirectionFigures,
  DirectionFigures,
  TunnelBucketView,
} from '../analysis/tunnel-figures.js';
import { tunnelDetail } from '../analysis/tunnel-queries.js';
import type { TunnelQueryOptions } from '../analysis/tunnel-queries.js';
import type { LossSource } from '../model/flow.js';
import type { Tunnel } from '../model/tunnel.js';
import type { PointRef, TunnelReader } from '../model/tunnel-reader.js';
import { stateCodes } from './availability.js';

/**
 * What a report needs of one tunnel over one window (a UTC day, or the part of one at a
 * period's edge), independent of any policy: per minute the state, flags, whether each
 * direction carried traffic, its loss source and ratio; the window's figures per direction;
 * the observation points' completeness; the worst minutes. Per-minute columns are run-length
 * encoded ([value, count, …]) and ratios listed only where not zero, so a steady tunnel's day
 * is a few hundred bytes. Times are minute offsets from the window's start, so the same body
 * holds for any day (it is stored per tunnel and day: store/reports/day-summary-repository.ts).
 */
export interface WindowSummary {
  readonly v: 1;
  /** Minutes in the window. */
  readonly minutes: number;
  /** 0 no data; 1 + stateCodes index for a minute with data; IDLE_ALIVE: a point sent, the tunnel nothing. */
  readonly state: number[];
  /** Bit mask of `flagBits` per minute. */
  readonly flags: number[];
  readonly directions: readonly [DirectionWindow, DirectionWindow];
  readonly points: readonly PointWindow[];
  readonly worst: readonly WorstEntry[];
}

export interface DirectionWindow {
  readonly packets: number;
  readonly octets: number;
  readonly sent: number | null;
  readonly lost: number | null;
  readonly lossSource: LossSource | null;
  /** Per minute: 1 when the direction had packets or a loss figure. */
  readonly traffic: number[];
  /** Per minute: 0 no loss ratio, 1 + lossSources index when measured, UNSOURCED for a ratio without source. */
  readonly source: number[];
  /** [minute, ratio, …] for the minutes whose measured ratio is not 0. */
  readonly ratios: number[];
}

export interface PointWindow extends PointRef {
  readonly records: number;
  readonly datagrams: number;
  readonly issues: number;
  readonly sequenceGaps: number;
  /** Minutes of the window in which the point sent anything. */
  readonly active: number;
}

/** A worst minute (or two-point run), in minutes from the window's start: [start, end). */
export interface WorstEntry {
  readonly start: number;
  readonly end: number;
  /** 0 a-b, 1 b-a. */
  readonly direction: 0 | 1;
  readonly lost: number;
  readonly lossRatio: number;
  readonly lossSource: LossSource;
  /** True for a two-point run (its drill-down is /flows over the run). */
  readonly span: boolean;
}

export const IDLE_ALIVE = 1 + stateCodes.length;
export const lossSources: readonly LossSource[] = ['reported', 'sequence', 'two-point'];
export const UNSOURCED = 1 + lossSources.length;
export const flagBits: readonly TunnelFlag[] = ['fragmenting', 'mtu-blackhole-risk', 'leaking'];
/** Worst minutes kept per window and per report. */
export const WORST_MINUTES = 10;

/** [value, count, …] of `values`. */
export function rle(values: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length;) {
    const v = values[i]!;
    let j = i + 1;
    while (j < values.length && values[j] === v) j++;
    out.push(v, j - i);
    i = j;
  }
  return out;
}

/** Writes the runs of `runs` into `into` from `offset` on. */
export function unrle(runs: readonly number[], into: Uint8Array, offset: number): void {
  let at = offset;
  for (let k = 0; k < runs.length; k += 2) {
    const count = runs[k + 1]!;
    into.fill(runs[k]!, at, at + count);
    at += count;
  }
}

/** A minute's loss ratio: its own figure, or the two-point span it lies in. */
function minuteRatio(f: BucketDirectionFigures): number | null {
  return f.lossRatio ?? f.lossSpan?.lossRatio ?? null;
}

/**
 * Summaries of the given tunnels over [fromMs, toMs) (minute-aligned), from the analysis
 * of the bucket tables (never raw flows), one tunnel at a time. Tunnels with no row in the
 * window get a summary too (all minutes without data, or idle where a point was alive).
 */
export async function summarizeWindow(
  reader: TunnelReader,
  opts: TunnelQueryOptions,
  tunnels: readonly Tunnel[],
  fromMs: number,
  toMs: number,
): Promise<Map<string, WindowSummary>> {
  const minuteMs = opts.bucketMs;
  const count = Math.round((toMs - fromMs) / minuteMs);
  const points = new PointActivity(reader, fromMs, toMs, minuteMs);
  const out = new Map<string, WindowSummary>();
  const state = new Uint8Array(count);
  const flags = new Uint8Array(count);
  for (const tunnel of tunnels) {
    // The reads are synchronous underneath: let the event loop (sockets, HTTP) run between tunnels.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const detail = await tunnelDetail(reader, tunnel.id, fromMs, toMs, opts);
    if (detail === undefined) continue;
    let refs: PointRef[] = detail.summary.observationPoints.map((p) => ({
      exporter: p.exporter,
      domainId: p.domainId,
    }));
    if (refs.length === 0) refs = await pointsAround(reader, tunnel.id, fromMs, toMs);
    const alive = await points.aliveMinutes(refs);
    const minutes = asMinutes(detail.buckets, detail.stepMs, minuteMs, alive).filter(
      (b) => b.start >= fromMs && b.start < toMs,
    );
    state.fill(0);
    flags.fill(0);
    // An exporter of the tunnel sent records but none was the tunnel's: idle, not missing data.
    for (const m of alive) state[(m - fromMs) / minuteMs] = IDLE_ALIVE;
    for (const b of minutes) {
      const i = (b.start - fromMs) / minuteMs;
      state[i] = 1 + stateCodes.indexOf(b.state);
      let bits = 0;
      for (const f of b.flags) bits |= 1 << flagBits.indexOf(f);
      flags[i] = bits;
    }
    // Worst minutes: a rolled-up hour is one entry, not sixty.
    const windowBuckets = detail.buckets.filter((b) => b.start < toMs && b.start + detail.stepMs > fromMs);
    out.set(tunnel.id, {
      v: 1,
      minutes: count,
      state: rle(state),
      flags: rle(flags),
      directions: [
        directionWindow(detail.summary.aToB, minutes, (b) => b.aToB, fromMs, minuteMs, count),
        directionWindow(detail.summary.bToA, minutes, (b) => b.bToA, fromMs, minuteMs, count),
      ],
      points: points.figuresOf(refs),
      worst: worstEntries(windowBuckets, detail.stepMs, fromMs, minuteMs),
    });
  }
  return out;
}

/** How far a window without rows of the tunnel looks for the points that observe it. */
const POINTS_LOOKAROUND_MS = 7 * 86_400_000;

/**
 * The observation points of a tunnel that has no row in [fromMs, toMs): those of its rows in
 * the week before, else in the week after. So a day on which the tunnel carried nothing while
 * its exporters kept sending is idle, not missing data, as it is inside a longer window.
 */
async function pointsAround(
  reader: TunnelReader,
  id: string,
  fromMs: number,
  toMs: number,
): Promise<PointRef[]> {
  for (const [from, to] of [
    [fromMs - POINTS_LOOKAROUND_MS, fromMs],
    [toMs, toMs + POINTS_LOOKAROUND_MS],
  ] as const) {
    const rows = await reader.loadBuckets(id, from, to);
    const points = new Map(
      rows.map((r) => [`${r.exporter}/${r.domainId}`, { exporter: r.exporter, domainId: r.domainId }]),
    );
    if (points.size > 0)
      return [...points.values()].sort(
        (a, b) => a.exporter.localeCompare(b.exporter) || a.domainId - b.domainId,
      );
  }
  return [];
}

function directionWindow(
  period: DirectionFigures,
  minutes: readonly TunnelBucketView[],
  pick: (b: TunnelBucketView) => BucketDirectionFigures,
  fromMs: number,
  minuteMs: number,
  count: number,
): DirectionWindow {
  const traffic = new Uint8Array(count);
  const source = new Uint8Array(count);
  const ratios: number[] = [];
  for (const b of minutes) {
    const i = (b.start - fromMs) / minuteMs;
    const f = pick(b);
    const ratio = minuteRatio(f);
    const src = f.lossSource ?? (f.lossSpan?.lost != null ? 'two-point' : null);
    if (f.packets > 0 || ratio !== null) traffic[i] = 1;
    if (ratio === null) continue;
    source[i] = src === null ? UNSOURCED : 1 + lossSources.indexOf(src);
    if (ratio !== 0) ratios.push(i, ratio);
  }
  return {
    packets: period.packets,
    octets: period.octets,
    sent: period.sent,
    lost: period.lost,
    lossSource: period.lossSource,
    traffic: rle(traffic),
    source: rle(source),
    ratios,
  };
}

/**
 * The series as minutes (buckets of the configured size). Over data rolled up to hours
 * (older than store.retention.rollupAfterMs) the analysis gives one figure per hour
 * (detail.stepMs): the hour's state and loss ratio go to each of its minutes in which the
 * tunnel's observation points sent anything (`alive`: for a rolled-up hour, as many
 * minutes from its start as the most active point had; see PointActivity), or to all of
 * them when nothing says which. So the hour weighs what it was measured for.
 */
function asMinutes(
  buckets: readonly TunnelBucketView[],
  stepMs: number,
  minuteMs: number,
  alive: ReadonlySet<number>,
): readonly TunnelBucketView[] {
  if (stepMs === minuteMs) return buckets;
  const out: TunnelBucketView[] = [];
  for (const b of buckets) {
    const starts: number[] = [];
    for (let start = b.start; start < b.start + stepMs; start += minuteMs) starts.push(start);
    const measured = starts.filter((s) => alive.has(s));
    for (const start of measured.length > 0 ? measured : starts) out.push({ ...b, start });
  }
  return out;
}

/**
 * The worst minutes by loss ratio. A two-point figure that only a run of minutes can give
 * is one entry for the run, never one per minute.
 */
function worstEntries(
  buckets: readonly TunnelBucketView[],
  stepMs: number,
  fromMs: number,
  minuteMs: number,
): WorstEntry[] {
  const all: WorstEntry[] = [];
  const at = (ms: number) => (ms - fromMs) / minuteMs;
  for (const [direction, pick] of [
    [0, (b: TunnelBucketView) => b.aToB],
    [1, (b: TunnelBucketView) => b.bToA],
  ] as const) {
    const seenSpans = new Set<number>();
    for (const b of buckets) {
      const f = pick(b);
      const span = f.lossSpan;
      if (span !== null) {
        if (seenSpans.has(span.startMs) || span.lost === null || span.lossRatio === null || span.lost <= 0)
          continue;
        seenSpans.add(span.startMs);
        all.push({
          start: at(span.startMs),
          end: at(span.endMs),
          direction,
          lost: span.lost,
          lossRatio: span.lossRatio,
          lossSource: 'two-point',
          span: true,
        });
        continue;
      }
      if (f.lost === null || f.lossRatio === null || f.lossSource === null || f.lost <= 0) continue;
      all.push({
        start: at(b.start),
        end: at(b.start + stepMs),
        direction,
        lost: f.lost,
        lossRatio: f.lossRatio,
        lossSource: f.lossSource,
        span: false,
      });
    }
  }
  return all.sort(worseEntry).slice(0, WORST_MINUTES);
}

/** Higher ratio first, then more lost, then earlier. */
export function worseEntry(
  x: { readonly lossRatio: number; readonly lost: number; readonly start: number },
  y: { readonly lossRatio: number; readonly lost: number; readonly start: number },
): number {
  return y.lossRatio - x.lossRatio || y.lost - x.lost || x.start - y.start;
}

/**
 * Which minutes each observation point sent anything in (to tell an idle tunnel from a
 * silent exporter), and the window's completeness per point; each point read once.
 */
class PointActivity {
  private readonly byPoint = new Map<string, { alive: Set<number>; figures: PointWindow }>();

  constructor(
    private readonly reader: TunnelReader,
    private readonly fromMs: number,
    private readonly toMs: number,
    private readonly minuteMs: number,
  ) {}

  private async entry(p: PointRef): Promise<{ alive: Set<number>; figures: PointWindow }> {
    const key = `${p.exporter}/${p.domainId}`;
    const known = this.byPoint.get(key);
    if (known !== undefined) return known;
    const rows = await this.reader.loadCompleteness([p], this.fromMs, this.toMs);
    const minutes = new Set<number>();
    let active = 0;
    const figures = { records: 0, datagrams: 0, issues: 0, sequenceGaps: 0 };
    for (const r of rows) {
      if (r.spanMs !== undefined && r.spanMs !== this.minuteMs) {
        // A row rolled up to an hour knows how many of its minutes had data, not
        // which: that many from the hour's start count as alive.
        const count = r.activeBuckets ?? 0;
        for (let i = 0; i < count; i += 1) {
          const m = r.bucketStartMs + i * this.minuteMs;
          if (m >= this.fromMs && m < this.toMs) minutes.add(m);
        }
        active += count;
      } else if (r.records > 0 || r.datagrams > 0) {
        minutes.add(r.bucketStartMs);
        active += 1;
      }
      figures.records += r.records;
      figures.datagrams += r.datagrams;
      figures.issues += r.issues;
      figures.sequenceGaps += r.sequenceGaps;
    }
    const entry = {
      alive: minutes,
      figures: { exporter: p.exporter, domainId: p.domainId, ...figures, active },
    };
    this.byPoint.set(key, entry);
    return entry;
  }

  async aliveMinutes(points: readonly PointRef[]): Promise<Set<number>> {
    const alive = new Set<number>();
    for (const p of points) for (const m of (await this.entry(p)).alive) alive.add(m);
    return alive;
  }

  figuresOf(points: readonly PointRef[]): PointWindow[] {
    return points.map((p) => this.byPoint.get(`${p.exporter}/${p.domainId}`)!.figures);
  }
}

import type { ExporterBucket } from '../model/exporter-bucket.js';
import type { Tunnel } from '../model/tunnel.js';
import type { TunnelDirection } from '../model/flow.js';
import type { ObservationPointSpec } from './observation-points.js';
import type { TunnelBucketView, TunnelSummary } from './tunnel-figures.js';
import type { PointRef, TunnelReader } from '../model/tunnel-reader.js';
import { ROLLUP_BUCKET_MS } from '../model/tunnel-bucket.js';
import type { TunnelBucket } from '../model/tunnel-bucket.js';
import { viewTunnel } from './tunnel-view.js';
import type { TunnelView } from './tunnel-view.js';

/** What the tunnel queries need to know of the configuration. */
export interface TunnelQueryOptions {
  readonly bucketMs: number;
  readonly observationPoints: readonly ObservationPointSpec[];
  readonly ceilingRatio: number;
}

/** How complete one exporter's data is for a bucket (records, issues, gaps that fed it). */
export interface BucketCompleteness {
  readonly exporter: string;
  readonly domainId: number;
  readonly records: number;
  readonly datagrams: number;
  readonly issues: number;
  readonly sequenceGaps: number;
}

export type BucketWithCompleteness = TunnelBucketView & { readonly completeness: BucketCompleteness[] };

/** An item of `GET /api/v1/loss`: one direction of one tunnel over one bucket (or a span of buckets). */
export interface LossItem {
  readonly tunnelId: string;
  readonly name: string | null;
  readonly peerA: string;
  readonly peerB: string;
  readonly direction: TunnelDirection;
  /** Bucket start; for a two-point figure that only a run of buckets can give, the run's start. */
  readonly start: number;
  /** End (exclusive) of the bucket or the run. */
  readonly end: number;
  readonly packets: number;
  readonly lost: number;
  readonly lossRatio: number;
  readonly lossSource: string;
  readonly completeness: BucketCompleteness[];
}

/** A tunnel's figures over a window, and its series per step. */
export interface TunnelDetail {
  readonly summary: TunnelSummary;
  readonly buckets: TunnelBucketView[];
  /**
   * The step the series is given in: the one asked for, or raised to a multiple of 1 h
   * when the window holds rows rolled up to hours by retention (effectiveStep()).
   */
  readonly stepMs: number;
}

/** The same, each step with the completeness of the observation points that fed it. */
export interface TunnelSeries {
  readonly summary: TunnelSummary;
  readonly buckets: BucketWithCompleteness[];
  readonly stepMs: number;
}

/** Rows of the window plus one bucket after it: the view uses it to tell whether flows run on. */
function rowsUntil(toMs: number, bucketMs: number): number {
  return Math.ceil(toMs / bucketMs) * bucketMs + bucketMs;
}

const alignDown = (ms: number, stepMs: number) => Math.floor(ms / stepMs) * stepMs;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The step a window can be shown at. Rows rolled up by retention cover an hour
 * (TunnelBucket.spanMs): a step that does not hold whole rows would cut them, so when
 * any row that overlaps the window spans more than one step, or does not fit the step
 * grid, the step is raised to the least common multiple of the step and that span
 * (1 min → 1 h, 90 min → 3 h). The whole window is then shown at that step: its figures
 * are those of whole hours (exact sums of the rolled-up minutes).
 */
export function effectiveStep(
  rows: readonly TunnelBucket[],
  fromMs: number,
  toMs: number,
  stepMs: number,
): number {
  let step = stepMs;
  for (const row of rows) {
    const span = row.spanMs;
    if (span === undefined || step % span === 0) continue;
    const windowStart = alignDown(fromMs, step);
    const windowEnd = Math.ceil(toMs / step) * step;
    if (row.bucketStartMs >= windowEnd || row.bucketStartMs + span <= windowStart) continue;
    step = (step / gcd(step, span)) * span;
  }
  return step;
}

/** The row range to read for a window at `stepMs`: wide enough for any rolled-up hour. */
function readRange(fromMs: number, toMs: number, stepMs: number): [number, number] {
  const grid = (stepMs / gcd(stepMs, ROLLUP_BUCKET_MS)) * ROLLUP_BUCKET_MS;
  return [alignDown(fromMs, grid), rowsUntil(toMs, grid)];
}

/**
 * The views of several tunnels over one window, from one read of each kind (tunnels, SAs,
 * buckets): never a query per tunnel.
 */
async function viewTunnels(
  reader: TunnelReader,
  tunnels: readonly Tunnel[],
  fromMs: number,
  toMs: number,
  opts: TunnelQueryOptions,
  stepMs = opts.bucketMs,
): Promise<Array<TunnelView & { readonly stepMs: number }>> {
  if (tunnels.length === 0) return [];
  const ids = tunnels.map((t) => t.id);
  const sas = await reader.listSas(ids, fromMs, toMs);
  const rows = await reader.loadBuckets(
    tunnels.length === 1 ? ids[0]! : null,
    ...readRange(fromMs, toMs, stepMs),
  );
  const sasBy = groupBy(sas, (s) => s.tunnelId);
  const rowsBy = groupBy(rows, (r) => r.tunnelId);
  return tunnels.map((t) => {
    const own = rowsBy.get(t.id) ?? [];
    const step = effectiveStep(own, fromMs, toMs, stepMs);
    return {
      ...viewTunnel(t, sasBy.get(t.id) ?? [], own, { fromMs, toMs, ...opts, stepMs: step }),
      stepMs: step,
    };
  });
}

export async function tunnelSummaries(
  reader: TunnelReader,
  fromMs: number,
  toMs: number,
  opts: TunnelQueryOptions,
): Promise<TunnelSummary[]> {
  const tunnels = await reader.listTunnels(fromMs, toMs);
  return (await viewTunnels(reader, tunnels, fromMs, toMs, opts)).map((v) => v.summary);
}

/** One tunnel over a window, per step. */
export async function tunnelDetail(
  reader: TunnelReader,
  id: string,
  fromMs: number,
  toMs: number,
  opts: TunnelQueryOptions,
  stepMs = opts.bucketMs,
): Promise<TunnelDetail | undefined> {
  const [tunnel] = await reader.getTunnels([id]);
  if (tunnel === undefined) return undefined;
  return (await viewTunnels(reader, [tunnel], fromMs, toMs, opts, stepMs))[0];
}

/** One tunnel over a window, per step, each step with the completeness of the points that fed it. */
export async function tunnelSeries(
  reader: TunnelReader,
  id: string,
  fromMs: number,
  toMs: number,
  opts: TunnelQueryOptions,
  stepMs = opts.bucketMs,
): Promise<TunnelSeries | undefined> {
  const detail = await tunnelDetail(reader, id, fromMs, toMs, opts, stepMs);
  if (detail === undefined) return undefined;
  const points = pointsOf(detail);
  const step = detail.stepMs;
  const completeness = completenessByStep(
    await reader.loadCompleteness(points, alignDown(fromMs, step), Math.ceil(toMs / step) * step),
    points,
    step,
  );
  return {
    summary: detail.summary,
    buckets: detail.buckets.map((b) => ({ ...b, completeness: completeness.get(b.start) ?? [] })),
    stepMs: step,
  };
}

function pointsOf(view: { readonly summary: TunnelSummary }): PointRef[] {
  return view.summary.observationPoints.map((p) => ({ exporter: p.exporter, domainId: p.domainId }));
}

/**
 * Completeness of the given observation points per step: records, decode issues and export
 * sequence gaps, summed over the stored buckets inside each step.
 */
export function completenessByStep(
  rows: readonly ExporterBucket[],
  points: readonly PointRef[],
  stepMs: number,
): Map<number, BucketCompleteness[]> {
  const wanted = new Set(points.map((p) => `${p.exporter}|${p.domainId}`));
  const out = new Map<number, BucketCompleteness[]>();
  for (const r of rows) {
    if (!wanted.has(`${r.exporter}|${r.domainId}`)) continue;
    const step = alignDown(r.bucketStartMs, stepMs);
    let list = out.get(step);
    if (list === undefined) out.set(step, (list = []));
    addCompleteness(list, r);
  }
  return out;
}

type MutableCompleteness = { -readonly [K in keyof BucketCompleteness]: BucketCompleteness[K] };

/** Adds one row into the list entry of its exporter and domain (created when missing). */
function addCompleteness(list: BucketCompleteness[], c: BucketCompleteness): void {
  const found = list.find((x) => x.exporter === c.exporter && x.domainId === c.domainId) as
    MutableCompleteness | undefined;
  if (found === undefined) {
    list.push({
      exporter: c.exporter,
      domainId: c.domainId,
      records: c.records,
      datagrams: c.datagrams,
      issues: c.issues,
      sequenceGaps: c.sequenceGaps,
    });
    return;
  }
  found.records += c.records;
  found.datagrams += c.datagrams;
  found.issues += c.issues;
  found.sequenceGaps += c.sequenceGaps;
}

/** The entries of several lists summed per exporter and domain. */
export function mergeCompleteness(list: readonly BucketCompleteness[]): BucketCompleteness[] {
  const out: BucketCompleteness[] = [];
  for (const c of list) addCompleteness(out, c);
  return out;
}

/**
 * Loss across all tunnels in [fromMs, toMs), worst ratio first: every bucket (or run of
 * buckets, for two-point figures that only a run can give) with a measured loss whose
 * ratio is at least `minRatio`. Reads buckets, tunnels, SAs and completeness once each.
 */
export async function lossBuckets(
  reader: TunnelReader,
  fromMs: number,
  toMs: number,
  minRatio: number,
  opts: TunnelQueryOptions,
): Promise<LossItem[]> {
  const range = readRange(fromMs, toMs, opts.bucketMs);
  const rows = await reader.loadBuckets(null, ...range);
  const ids = [...new Set(rows.map((r) => r.tunnelId))];
  const tunnels = await reader.getTunnels(ids);
  const sasBy = groupBy(await reader.listSas(ids, fromMs, toMs), (s) => s.tunnelId);
  const rowsBy = groupBy(rows, (r) => r.tunnelId);
  // Each tunnel at the bucket size, or at 1 h where its rows are rolled up.
  const views = tunnels.map((t) => {
    const own = rowsBy.get(t.id) ?? [];
    const stepMs = effectiveStep(own, fromMs, toMs, opts.bucketMs);
    return {
      ...viewTunnel(t, sasBy.get(t.id) ?? [], own, { fromMs, toMs, ...opts, stepMs }),
      stepMs,
    };
  });
  const allPoints = uniquePoints(views.flatMap(pointsOf));
  const completenessRows = await reader.loadCompleteness(allPoints, range[0], range[1]);
  const items: LossItem[] = [];
  for (const view of views) {
    const t = view.summary;
    const stepMs = view.stepMs;
    const completeness = completenessByStep(completenessRows, pointsOf(view), stepMs);
    const seenSpans = new Set<string>();
    for (const b of view.buckets) {
      for (const [direction, fig] of [
        ['a-b', b.aToB],
        ['b-a', b.bToA],
      ] as const) {
        let start = b.start;
        let end = b.start + stepMs;
        let packets = fig.packets;
        let lost = fig.lost;
        let ratio = fig.lossRatio;
        let source: string | null = fig.lossSource;
        if (lost === null && fig.lossSpan !== null && fig.lossSpan.complete && fig.lossSpan.lost !== null) {
          const key = `${direction}|${fig.lossSpan.startMs}`;
          if (seenSpans.has(key)) continue;
          seenSpans.add(key);
          start = fig.lossSpan.startMs;
          end = fig.lossSpan.endMs;
          lost = fig.lossSpan.lost;
          ratio = fig.lossSpan.lossRatio;
          source = 'two-point';
          packets = 0;
          for (const other of view.buckets) {
            if (other.start >= start && other.start < end)
              packets += direction === 'a-b' ? other.aToB.packets : other.bToA.packets;
          }
        }
        if (lost === null || ratio === null || source === null || lost <= 0 || ratio < minRatio) continue;
        const comp: BucketCompleteness[] = [];
        for (let s = start; s < end; s += stepMs) comp.push(...(completeness.get(s) ?? []));
        items.push({
          tunnelId: t.id,
          name: t.name,
          peerA: t.peerA,
          peerB: t.peerB,
          direction,
          start,
          end,
          packets,
          lost,
          lossRatio: ratio,
          lossSource: source,
          completeness: mergeCompleteness(comp),
        });
      }
    }
  }
  return items.sort((x, y) => y.lossRatio - x.lossRatio || y.lost - x.lost || x.start - y.start);
}

function uniquePoints(points: readonly PointRef[]): PointRef[] {
  const by = new Map<string, PointRef>();
  for (const p of points) by.set(`${p.exporter}|${p.domainId}`, p);
  return [...by.values()];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

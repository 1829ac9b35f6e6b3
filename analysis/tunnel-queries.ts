import type { ExporterBucketTable } from '../store/exporter-buckets/exporter-bucket.table.js';
import type { TunnelBucketView, TunnelSummary } from './tunnel-figures.js';
import {
  getTunnel,
  getTunnels,
  listSas,
  listTunnels,
  loadBuckets,
} from '../store/tunnels/tunnel-repository.js';
import type { TunnelDb } from '../store/tunnels/tunnel-repository.js';
import type { ObservationPointSpec } from './observation-points.js';
import type { TunnelDirection } from '../model/flow.js';
import { viewTunnel } from './tunnel-view.js';
import type { Kysely } from 'kysely';

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

type Db = TunnelDb & Kysely<{ exporter_buckets: ExporterBucketTable }>;

/** Rows of the window plus one bucket after it: the view uses it to tell whether flows run on. */
function rowsUntil(toMs: number, bucketMs: number): number {
  return Math.ceil(toMs / bucketMs) * bucketMs + bucketMs;
}

export async function tunnelSummaries(
  db: TunnelDb,
  fromMs: number,
  toMs: number,
  opts: TunnelQueryOptions,
): Promise<TunnelSummary[]> {
  const tunnels = await listTunnels(db, fromMs, toMs);
  if (tunnels.length === 0) return [];
  const sas = await listSas(
    db,
    tunnels.map((t) => t.id),
    fromMs,
    toMs,
  );
  const rows = await loadBuckets(
    db,
    null,
    Math.floor(fromMs / opts.bucketMs) * opts.bucketMs,
    rowsUntil(toMs, opts.bucketMs),
  );
  return tunnels.map(
    (t) =>
      viewTunnel(
        t,
        sas.filter((s) => s.tunnelId === t.id),
        rows.filter((r) => r.tunnelId === t.id),
        { fromMs, toMs, ...opts },
      ).summary,
  );
}

export async function tunnelDetail(
  db: TunnelDb,
  id: string,
  fromMs: number,
  toMs: number,
  opts: TunnelQueryOptions,
  stepMs?: number,
): Promise<{ summary: TunnelSummary; buckets: TunnelBucketView[] } | undefined> {
  const tunnel = await getTunnel(db, id);
  if (tunnel === undefined) return undefined;
  const sas = await listSas(db, [id], fromMs, toMs);
  const step = stepMs ?? opts.bucketMs;
  const rows = await loadBuckets(db, id, Math.floor(fromMs / step) * step, rowsUntil(toMs, step));
  return viewTunnel(tunnel, sas, rows, { fromMs, toMs, ...opts, stepMs: step });
}

/**
 * Completeness of the exporters that fed a tunnel, per step: records, decode issues and
 * export sequence gaps, summed over the stored buckets inside each step.
 */
export async function completenessByStep(
  db: Db,
  exporters: readonly { exporter: string; domainId: number }[],
  fromMs: number,
  toMs: number,
  stepMs: number,
): Promise<Map<number, BucketCompleteness[]>> {
  const out = new Map<number, BucketCompleteness[]>();
  if (exporters.length === 0) return out;
  const rows = await db
    .selectFrom('exporter_buckets')
    .selectAll()
    .where('exporter', 'in', [...new Set(exporters.map((e) => e.exporter))])
    .where('bucket_start_ms', '>=', Math.floor(fromMs / stepMs) * stepMs)
    .where('bucket_start_ms', '<', toMs)
    .execute();
  const wanted = new Set(exporters.map((e) => `${e.exporter}|${e.domainId}`));
  for (const r of rows) {
    if (!wanted.has(`${r.exporter}|${r.domain_id}`)) continue;
    const step = Math.floor(r.bucket_start_ms / stepMs) * stepMs;
    let list = out.get(step);
    if (list === undefined) out.set(step, (list = []));
    let c = list.find((x) => x.exporter === r.exporter && x.domainId === r.domain_id);
    if (c === undefined) {
      c = {
        exporter: r.exporter,
        domainId: r.domain_id,
        records: 0,
        datagrams: 0,
        issues: 0,
        sequenceGaps: 0,
      };
      list.push(c);
    }
    const m = c as { -readonly [K in keyof BucketCompleteness]: BucketCompleteness[K] };
    m.records += r.records;
    m.datagrams += r.datagrams;
    m.issues += r.issues;
    m.sequenceGaps += r.sequence_gaps;
  }
  return out;
}

/**
 * Loss across all tunnels in [fromMs, toMs), worst ratio first: every bucket (or run of
 * buckets, for two-point figures that only a run can give) with a measured loss whose
 * ratio is at least `minRatio`.
 */
export async function lossBuckets(
  db: Db,
  fromMs: number,
  toMs: number,
  minRatio: number,
  opts: TunnelQueryOptions,
): Promise<LossItem[]> {
  const rows = await loadBuckets(
    db,
    null,
    Math.floor(fromMs / opts.bucketMs) * opts.bucketMs,
    rowsUntil(toMs, opts.bucketMs),
  );
  const ids = [...new Set(rows.map((r) => r.tunnelId))];
  const tunnels = await getTunnels(db, ids);
  const sas = await listSas(db, ids, fromMs, toMs);
  const items: LossItem[] = [];
  for (const t of tunnels) {
    const view = viewTunnel(
      t,
      sas.filter((s) => s.tunnelId === t.id),
      rows.filter((r) => r.tunnelId === t.id),
      { fromMs, toMs, ...opts },
    );
    const points = view.summary.observationPoints.map((p) => ({
      exporter: p.exporter,
      domainId: p.domainId,
    }));
    const completeness = await completenessByStep(db, points, fromMs, toMs, opts.bucketMs);
    const seenSpans = new Set<string>();
    for (const b of view.buckets) {
      for (const [direction, fig] of [
        ['a-b', b.aToB],
        ['b-a', b.bToA],
      ] as const) {
        let start = b.start;
        let end = b.start + opts.bucketMs;
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
        for (let s = start; s < end; s += opts.bucketMs) comp.push(...(completeness.get(s) ?? []));
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

export function mergeCompleteness(list: readonly BucketCompleteness[]): BucketCompleteness[] {
  const by = new Map<string, BucketCompleteness>();
  for (const c of list) {
    const key = `${c.exporter}|${c.domainId}`;
    const prev = by.get(key);
    by.set(
      key,
      prev === undefined
        ? { ...c }
        : {
            exporter: c.exporter,
            domainId: c.domainId,
            records: prev.records + c.records,
            datagrams: prev.datagrams + c.datagrams,
            issues: prev.issues + c.issues,
            sequenceGaps: prev.sequenceGaps + c.sequenceGaps,
          },
    );
  }
  return [...by.values()];
}

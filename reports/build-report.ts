import type { TunnelFlag, TunnelHealth } from '../analysis/health.js';
import type {
  BucketDirectionFigures,
  DirectionFigures,
  TunnelBucketView,
} from '../analysis/tunnel-figures.js';
import { tunnelDetail } from '../analysis/tunnel-queries.js';
import type { TunnelQueryOptions } from '../analysis/tunnel-queries.js';
import type { LossSource, TunnelDirection } from '../model/flow.js';
import type { Tunnel } from '../model/tunnel.js';
import type { PointRef, TunnelReader } from '../model/tunnel-reader.js';
import { computeAvailability } from './availability.js';
import type { ReportMinute } from './availability.js';
import { maintenanceSpans } from './policy.js';
import type { ReportPolicy } from './policy.js';
import type {
  DirectionReport,
  ExporterCompleteness,
  SlaReport,
  TargetBreach,
  TunnelReport,
  WorstMinute,
} from './report.js';

/** What to report on: a period, the tunnels (`all`, or ids and names) and the policy. */
export interface ReportRequest {
  readonly fromMs: number;
  readonly toMs: number;
  readonly tunnels: 'all' | readonly string[];
  readonly policy: ReportPolicy;
}

export interface ReportSources {
  readonly reader: TunnelReader;
  readonly opts: TunnelQueryOptions;
  readonly now?: () => number;
}

/** A request that cannot be answered as asked (the message says what to fix). */
export class ReportRequestError extends Error {
  constructor(
    message: string,
    readonly parameter: string,
  ) {
    super(message);
    this.name = 'ReportRequestError';
  }
}

const states: readonly TunnelHealth[] = ['up', 'one-way', 'negotiating', 'ike-one-sided', 'idle'];
const flags: readonly TunnelFlag[] = ['fragmenting', 'mtu-blackhole-risk', 'leaking'];
const sources: readonly LossSource[] = ['reported', 'sequence', 'two-point'];
const WORST_MINUTES = 10;

/**
 * Computes an SLA report from the bucket tables only (never raw flows), one tunnel at a
 * time, so memory stays bounded by one tunnel's minutes whatever the number of tunnels.
 */
export async function buildReport(src: ReportSources, req: ReportRequest): Promise<SlaReport> {
  const { reader, opts } = src;
  const minuteMs = opts.bucketMs;
  if (!(req.fromMs < req.toMs)) {
    throw new ReportRequestError(`from (${req.fromMs}) must be before to (${req.toMs})`, 'from');
  }
  const fromMs = Math.floor(req.fromMs / minuteMs) * minuteMs;
  const toMs = Math.ceil(req.toMs / minuteMs) * minuteMs;
  const tunnels = await selectTunnels(reader, req.tunnels, fromMs, toMs);
  const maintenance = maintenanceSpans(req.policy, fromMs, toMs);
  const points = new PointActivity(reader, fromMs, toMs, minuteMs);
  const reports: TunnelReport[] = [];
  for (const tunnel of tunnels) {
    const detail = await tunnelDetail(reader, tunnel.id, fromMs, toMs, opts);
    if (detail === undefined) continue;
    const refs = detail.summary.observationPoints.map((p) => ({
      exporter: p.exporter,
      domainId: p.domainId,
    }));
    const alive = await points.aliveMinutes(refs);
    reports.push(
      tunnelReport(
        tunnel,
        detail.summary.aToB,
        detail.summary.bToA,
        detail.buckets.filter((b) => b.start >= fromMs && b.start < toMs),
        alive,
        { fromMs, toMs, minuteMs, policy: req.policy, maintenance },
      ),
    );
  }
  reports.sort(worstFirst);
  const breaching = reports.filter((r) => r.breaches.length > 0).length;
  const scoped = reports.map((r) => r.availability).filter((a): a is number => a !== null);
  return {
    schema: 'tunnelflow.sla-report/1',
    generatedAt: (src.now ?? Date.now)(),
    period: { from: fromMs, to: toMs, timezone: req.policy.timezone },
    bucketSeconds: minuteMs / 1000,
    policy: req.policy,
    maintenance,
    summary: {
      tunnels: reports.length,
      meetingTargets: reports.length - breaching,
      breaching,
      worstAvailability: scoped.length === 0 ? null : Math.min(...scoped),
      sent: sum(reports.flatMap((r) => r.directions.map((d) => d.sent ?? 0))),
      lost: sum(reports.flatMap((r) => r.directions.map((d) => d.lost ?? 0))),
    },
    tunnels: reports,
    completeness: points.completeness(),
  };
}

async function selectTunnels(
  reader: TunnelReader,
  wanted: 'all' | readonly string[],
  fromMs: number,
  toMs: number,
): Promise<Tunnel[]> {
  if (wanted === 'all') return reader.listTunnels(fromMs, toMs);
  const byId = new Map((await reader.getTunnels(wanted)).map((t) => [t.id, t]));
  const missing = wanted.filter((w) => !byId.has(w));
  if (missing.length > 0) {
    // Names: any tunnel ever seen, so a tunnel silent for the whole period is still reported.
    const named = new Map<string, Tunnel>();
    for (const t of await reader.listTunnels(0, Number.MAX_SAFE_INTEGER)) {
      if (t.name !== null && !named.has(t.name)) named.set(t.name, t);
    }
    const unknown = missing.filter((m) => !named.has(m));
    if (unknown.length > 0) {
      throw new ReportRequestError(
        `unknown tunnel${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}: give tunnel ids or names from GET /api/v1/tunnels`,
        'tunnels',
      );
    }
    for (const m of missing) byId.set(m, named.get(m)!);
  }
  const unique = new Map([...byId.values()].map((t) => [t.id, t]));
  return [...unique.values()];
}

/**
 * Which minutes each observation point sent anything in (to tell an idle tunnel from a
 * silent exporter), and the period's completeness per point; each point read once.
 */
class PointActivity {
  private readonly byPoint = new Map<string, { alive: Set<number>; figures: ExporterCompleteness }>();

  constructor(
    private readonly reader: TunnelReader,
    private readonly fromMs: number,
    private readonly toMs: number,
    private readonly minuteMs: number,
  ) {}

  async aliveMinutes(points: readonly PointRef[]): Promise<Set<number>> {
    const alive = new Set<number>();
    for (const p of points) {
      const key = `${p.exporter}/${p.domainId}`;
      let entry = this.byPoint.get(key);
      if (entry === undefined) {
        const rows = await this.reader.loadCompleteness([p], this.fromMs, this.toMs);
        const minutes = new Set<number>();
        const figures = { records: 0, datagrams: 0, issues: 0, sequenceGaps: 0 };
        for (const r of rows) {
          if (r.records > 0 || r.datagrams > 0) minutes.add(r.bucketStartMs);
          figures.records += r.records;
          figures.datagrams += r.datagrams;
          figures.issues += r.issues;
          figures.sequenceGaps += r.sequenceGaps;
        }
        entry = {
          alive: minutes,
          figures: { exporter: p.exporter, domainId: p.domainId, ...figures, silentMinutes: 0 },
        };
        this.byPoint.set(key, entry);
      }
      for (const m of entry.alive) alive.add(m);
    }
    return alive;
  }

  completeness(): ExporterCompleteness[] {
    const minutes = Math.round((this.toMs - this.fromMs) / this.minuteMs);
    return [...this.byPoint.values()]
      .map(({ alive, figures }) => ({ ...figures, silentMinutes: Math.max(0, minutes - alive.size) }))
      .sort((a, b) => a.exporter.localeCompare(b.exporter) || a.domainId - b.domainId);
  }
}

interface Scope {
  readonly fromMs: number;
  readonly toMs: number;
  readonly minuteMs: number;
  readonly policy: ReportPolicy;
  readonly maintenance: ReadonlyArray<{ readonly from: number; readonly to: number }>;
}

/** A minute's loss ratio: its own figure, or the two-point span it lies in. */
function minuteRatio(f: BucketDirectionFigures): number | null {
  return f.lossRatio ?? f.lossSpan?.lossRatio ?? null;
}

function tunnelReport(
  tunnel: Tunnel,
  aToB: DirectionFigures,
  bToA: DirectionFigures,
  buckets: readonly TunnelBucketView[],
  alive: ReadonlySet<number>,
  scope: Scope,
): TunnelReport {
  const { fromMs, toMs, minuteMs, policy, maintenance } = scope;
  const minutes: ReportMinute[] = buckets.map((b) => ({
    start: b.start,
    state: b.state,
    aToBLossRatio: minuteRatio(b.aToB),
    bToALossRatio: minuteRatio(b.bToA),
  }));
  const withRows = new Set(buckets.map((b) => b.start));
  // An exporter of the tunnel sent records but none was the tunnel's: idle, not missing data.
  for (const m of alive) {
    if (m >= fromMs && m < toMs && !withRows.has(m)) {
      minutes.push({ start: m, state: 'idle', aToBLossRatio: null, bToALossRatio: null });
    }
  }
  const availability = computeAvailability(minutes, fromMs, toMs, minuteMs, policy, maintenance);
  const minutesByState = Object.fromEntries(states.map((s) => [s, 0])) as Record<TunnelHealth, number>;
  const minutesWithFlag = Object.fromEntries(flags.map((f) => [f, 0])) as Record<TunnelFlag, number>;
  for (const b of buckets) {
    minutesByState[b.state]++;
    for (const f of b.flags) minutesWithFlag[f]++;
  }
  minutesByState.idle += minutes.length - buckets.length;
  const directions = [directionReport('a-b', aToB, buckets), directionReport('b-a', bToA, buckets)];
  const breaches: TargetBreach[] = [];
  if (availability.availability !== null && availability.availability < policy.targets.availability) {
    breaches.push({
      target: 'availability',
      direction: null,
      value: availability.availability,
      limit: policy.targets.availability,
    });
  }
  for (const d of directions) {
    if (d.lossRatio !== null && d.lossRatio > policy.targets.lossRatio) {
      breaches.push({
        target: 'lossRatio',
        direction: d.direction,
        value: d.lossRatio,
        limit: policy.targets.lossRatio,
      });
    }
  }
  const possible = availability.minutes.total - availability.minutes.maintenance;
  return {
    id: tunnel.id,
    name: tunnel.name,
    peerA: tunnel.peerA,
    peerB: tunnel.peerB,
    encapsulation: tunnel.encapsulation,
    availability: availability.availability,
    minutes: availability.minutes,
    hli: availability.hli,
    chli: availability.chli,
    unavailableIntervals: availability.unavailableIntervals,
    directions,
    minutesByState,
    minutesWithFlag,
    worstMinutes: worstMinutes(tunnel.id, buckets, minuteMs),
    breaches,
    coverage: { withData: possible > 0 ? (possible - availability.minutes.noData) / possible : null },
  };
}

function directionReport(
  direction: TunnelDirection,
  period: DirectionFigures,
  buckets: readonly TunnelBucketView[],
): DirectionReport {
  const bySource = Object.fromEntries(sources.map((s) => [s, 0])) as Record<LossSource, number>;
  const ratios: number[] = [];
  let withTraffic = 0;
  for (const b of buckets) {
    const f = direction === 'a-b' ? b.aToB : b.bToA;
    const ratio = minuteRatio(f);
    const source = f.lossSource ?? (f.lossSpan?.lost != null ? 'two-point' : null);
    if (f.packets > 0 || ratio !== null) withTraffic++;
    if (ratio === null || source === null) continue;
    ratios.push(ratio);
    bySource[source]++;
  }
  ratios.sort((x, y) => x - y);
  const rank = (p: number) => ratios[Math.max(0, Math.ceil(p * ratios.length) - 1)]!;
  return {
    direction,
    packets: period.packets,
    octets: period.octets,
    sent: period.sent,
    lost: period.lost,
    lossRatio: period.lossRatio,
    lossSource: period.lossSource,
    measuredMinutes: ratios.length,
    minutesBySource: bySource,
    unmeasuredMinutes: withTraffic - ratios.length,
    measuredShare: withTraffic > 0 ? ratios.length / withTraffic : null,
    lossRatioPercentiles: ratios.length === 0 ? null : { p50: rank(0.5), p95: rank(0.95), p99: rank(0.99) },
  };
}

/**
 * The worst minutes by loss ratio. A two-point figure that only a run of minutes can give
 * is one entry for the run (its drill-down is /flows over the run), never one per minute.
 */
function worstMinutes(
  tunnelId: string,
  buckets: readonly TunnelBucketView[],
  minuteMs: number,
): WorstMinute[] {
  const all: WorstMinute[] = [];
  const id = encodeURIComponent(tunnelId);
  for (const direction of ['a-b', 'b-a'] as const) {
    const seenSpans = new Set<number>();
    for (const b of buckets) {
      const f = direction === 'a-b' ? b.aToB : b.bToA;
      const span = f.lossSpan;
      if (span !== null) {
        if (seenSpans.has(span.startMs) || span.lost === null || span.lossRatio === null || span.lost <= 0)
          continue;
        seenSpans.add(span.startMs);
        all.push({
          start: span.startMs,
          end: span.endMs,
          direction,
          lost: span.lost,
          lossRatio: span.lossRatio,
          lossSource: 'two-point',
          drillDown: `/api/v1/flows?from=${span.startMs}&to=${span.endMs}&tunnel=${id}`,
        });
        continue;
      }
      if (f.lost === null || f.lossRatio === null || f.lossSource === null || f.lost <= 0) continue;
      all.push({
        start: b.start,
        end: b.start + minuteMs,
        direction,
        lost: f.lost,
        lossRatio: f.lossRatio,
        lossSource: f.lossSource,
        drillDown: `/api/v1/tunnels/${id}/buckets/${b.start}/flows`,
      });
    }
  }
  return all
    .sort((x, y) => y.lossRatio - x.lossRatio || y.lost - x.lost || x.start - y.start)
    .slice(0, WORST_MINUTES);
}

function worstFirst(a: TunnelReport, b: TunnelReport): number {
  const av = (r: TunnelReport) => r.availability ?? 2;
  const loss = (r: TunnelReport) => Math.max(...r.directions.map((d) => d.lossRatio ?? -1));
  return av(a) - av(b) || loss(b) - loss(a) || a.id.localeCompare(b.id);
}

function sum(xs: readonly number[]): number {
  return xs.reduce((n, x) => n + x, 0);
}

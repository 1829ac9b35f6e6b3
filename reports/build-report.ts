import type { TunnelFlag, TunnelHealth } from '../analysis/health.js';
import type { TunnelQueryOptions } from '../analysis/tunnel-queries.js';
import type { LossSource, TunnelDirection } from '../model/flow.js';
import type { Tunnel } from '../model/tunnel.js';
import type { TunnelReader } from '../model/tunnel-reader.js';
import { SUMMARY_DAY_MS } from '../store/reports/day-summary-repository.js';
import { availabilityOfSeries, stateCodes } from './availability.js';
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
import {
  flagBits,
  IDLE_ALIVE,
  lossSources,
  summarizeWindow,
  unrle,
  UNSOURCED,
  worseEntry,
  WORST_MINUTES,
} from './window-summary.js';
import type { PointWindow, WindowSummary } from './window-summary.js';

/** What to report on: a period, the tunnels (`all`, or ids and names) and the policy. */
export interface ReportRequest {
  readonly fromMs: number;
  readonly toMs: number;
  readonly tunnels: 'all' | readonly string[];
  readonly policy: ReportPolicy;
}

/**
 * Stored day summaries (store/reports/day-summary-repository.ts): a day's WindowSummary per
 * tunnel, kept under a `basis` (the analysis options it was computed with).
 */
export interface DaySummaryCache {
  /** The stored days of [fromDayMs, toDayMs) of these tunnels with this basis: `${tunnel}|${day}`. */
  storedKeys(
    tunnelIds: readonly string[],
    fromDayMs: number,
    toDayMs: number,
    basis: string,
  ): Promise<Set<string>>;
  /** One tunnel's stored days of [fromDayMs, toDayMs) with this basis, by day start. */
  load(
    tunnelId: string,
    fromDayMs: number,
    toDayMs: number,
    basis: string,
  ): Promise<Map<number, WindowSummary>>;
  save(
    days: ReadonlyArray<{
      readonly tunnelId: string;
      readonly dayStartMs: number;
      readonly summary: WindowSummary;
    }>,
    basis: string,
    builtMs: number,
  ): Promise<void>;
}

export interface ReportSources {
  readonly reader: TunnelReader;
  readonly opts: TunnelQueryOptions;
  readonly now?: () => number;
  /** Day summaries to read and fill; without it every day is computed from the bucket rows. */
  readonly days?: DaySummaryCache;
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

/**
 * A UTC day is summarized for keeps once it ended this long ago (records for it still on
 * their way by then are few; one that arrives later drops the tunnel's summary of that day,
 * see the writer's late-bucket rule).
 */
export const DAY_SETTLE_MS = 3_600_000;

/** The analysis options a summary depends on: a stored summary of another basis is recomputed. */
export function summaryBasis(opts: TunnelQueryOptions): string {
  return JSON.stringify({ b: opts.bucketMs, c: opts.ceilingRatio, p: opts.observationPoints });
}

/** [from, to) cut at UTC midnights; `day` for the whole days. */
function windowsOf(fromMs: number, toMs: number): Array<{ from: number; to: number; day: boolean }> {
  const out: Array<{ from: number; to: number; day: boolean }> = [];
  for (let from = fromMs; from < toMs;) {
    const dayEnd = Math.floor(from / SUMMARY_DAY_MS) * SUMMARY_DAY_MS + SUMMARY_DAY_MS;
    const to = Math.min(toMs, dayEnd);
    out.push({ from, to, day: from % SUMMARY_DAY_MS === 0 && to === dayEnd });
    from = to;
  }
  return out;
}

/**
 * Computes an SLA report from the bucket tables only (never raw flows). The period is cut
 * at UTC midnights; each tunnel's day (or part of a day at the period's edges) is summarized
 * by the analysis (window-summary.ts), and whole days that ended DAY_SETTLE_MS ago are
 * stored and read back (`src.days`), so a month of a thousand tunnels reads a thousand
 * tunnels × 30 small rows, not 86 million bucket rows. Memory stays bounded by one tunnel's
 * period at a time, whatever the number of tunnels.
 */
export async function buildReport(src: ReportSources, req: ReportRequest): Promise<SlaReport> {
  const { reader, opts } = src;
  const now = src.now ?? Date.now;
  const minuteMs = opts.bucketMs;
  if (!(req.fromMs < req.toMs)) {
    throw new ReportRequestError(`from (${req.fromMs}) must be before to (${req.toMs})`, 'from');
  }
  const fromMs = Math.floor(req.fromMs / minuteMs) * minuteMs;
  const toMs = Math.ceil(req.toMs / minuteMs) * minuteMs;
  const tunnels = await selectTunnels(reader, req.tunnels, fromMs, toMs);
  const maintenance = maintenanceSpans(req.policy, fromMs, toMs);
  const basis = summaryBasis(opts);
  const settled = now() - DAY_SETTLE_MS;
  const windows = windowsOf(fromMs, toMs).map((w) => ({
    ...w,
    stored: src.days !== undefined && w.day && w.to <= settled,
  }));
  const ids = tunnels.map((t) => t.id);
  // Windows not kept: computed now for every tunnel. Kept days: the missing ones computed
  // and stored, a day at a time for all the tunnels that lack it.
  const computed = new Map<number, Map<string, WindowSummary>>();
  const stored = windows.filter((w) => w.stored);
  if (src.days !== undefined && stored.length > 0) {
    const have = await src.days.storedKeys(ids, stored[0]!.from, stored.at(-1)!.to, basis);
    for (const w of stored) await storeLackingDay(src, src.days, tunnels, have, w.from, basis);
  }
  for (const [i, w] of windows.entries()) {
    if (!w.stored) computed.set(i, await summarizeWindow(reader, opts, tunnels, w.from, w.to));
  }
  const scope: Scope = { fromMs, toMs, minuteMs, policy: req.policy, maintenance };
  const columns = new PeriodColumns(Math.round((toMs - fromMs) / minuteMs));
  const points = new Map<string, ExporterCompleteness>();
  const pointWindows = new Set<string>();
  const reports: TunnelReport[] = [];
  for (const tunnel of tunnels) {
    const days =
      src.days !== undefined && stored.length > 0
        ? await src.days.load(tunnel.id, stored[0]!.from, stored.at(-1)!.to, basis)
        : new Map<number, WindowSummary>();
    const parts: Part[] = [];
    for (const [i, w] of windows.entries()) {
      const summary = w.stored ? days.get(w.from) : computed.get(i)?.get(tunnel.id);
      if (summary === undefined) continue;
      parts.push({ fromMs: w.from, summary });
      for (const p of summary.points) {
        const key = `${p.exporter}/${p.domainId}`;
        if (pointWindows.has(`${key}|${w.from}`)) continue;
        pointWindows.add(`${key}|${w.from}`);
        addPoint(points, key, p);
      }
    }
    reports.push(tunnelReport(tunnel, parts, scope, columns));
  }
  reports.sort(worstFirst);
  const breaching = reports.filter((r) => r.breaches.length > 0).length;
  const scoped = reports.map((r) => r.availability).filter((a): a is number => a !== null);
  const minutes = Math.round((toMs - fromMs) / minuteMs);
  return {
    schema: 'tunnelflow.sla-report/1',
    generatedAt: now(),
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
    completeness: [...points.values()]
      .map((p) => ({ ...p, silentMinutes: Math.max(0, minutes - p.silentMinutes) }))
      .sort((a, b) => a.exporter.localeCompare(b.exporter) || a.domainId - b.domainId),
  };
}

/**
 * Summarizes and stores the settled UTC days of the last `lookbackDays` that lack a summary,
 * for the tunnels seen on each day, at most `maxDays` days per call (newest first): what the
 * running collector does in the background, so a scheduled report only reads summaries.
 * Returns the tunnel-days stored.
 */
export async function summarizeSettledDays(
  src: ReportSources & { readonly days: DaySummaryCache },
  lookbackDays: number,
  maxDays = lookbackDays,
): Promise<number> {
  const now = (src.now ?? Date.now)();
  const basis = summaryBasis(src.opts);
  const lastDay = Math.floor((now - DAY_SETTLE_MS) / SUMMARY_DAY_MS) * SUMMARY_DAY_MS - SUMMARY_DAY_MS;
  let stored = 0;
  let daysDone = 0;
  for (
    let day = lastDay;
    day > lastDay - lookbackDays * SUMMARY_DAY_MS && daysDone < maxDays;
    day -= SUMMARY_DAY_MS
  ) {
    const tunnels = await src.reader.listTunnels(day, day + SUMMARY_DAY_MS);
    if (tunnels.length === 0) continue;
    const ids = tunnels.map((t) => t.id);
    const have = await src.days.storedKeys(ids, day, day + SUMMARY_DAY_MS, basis);
    const made = await storeLackingDay(src, src.days, tunnels, have, day, basis);
    if (made === 0) continue;
    stored += made;
    daysDone++;
  }
  return stored;
}

/**
 * Summarizes the day starting at `day` for the tunnels without a stored summary of it (`have`:
 * `${tunnel}|${day}` keys) and stores them; returns how many.
 */
async function storeLackingDay(
  src: ReportSources,
  days: DaySummaryCache,
  tunnels: readonly Tunnel[],
  have: ReadonlySet<string>,
  day: number,
  basis: string,
): Promise<number> {
  const lacking = tunnels.filter((t) => !have.has(`${t.id}|${day}`));
  if (lacking.length === 0) return 0;
  const made = await summarizeWindow(src.reader, src.opts, lacking, day, day + SUMMARY_DAY_MS);
  await days.save(
    [...made].map(([tunnelId, summary]) => ({ tunnelId, dayStartMs: day, summary })),
    basis,
    (src.now ?? Date.now)(),
  );
  return made.size;
}

/** Adds a point's window figures into the report's entry (silentMinutes holds active minutes until the end). */
function addPoint(points: Map<string, ExporterCompleteness>, key: string, p: PointWindow): void {
  const e = points.get(key);
  points.set(key, {
    exporter: p.exporter,
    domainId: p.domainId,
    records: (e?.records ?? 0) + p.records,
    datagrams: (e?.datagrams ?? 0) + p.datagrams,
    issues: (e?.issues ?? 0) + p.issues,
    sequenceGaps: (e?.sequenceGaps ?? 0) + p.sequenceGaps,
    silentMinutes: (e?.silentMinutes ?? 0) + p.active,
  });
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

interface Scope {
  readonly fromMs: number;
  readonly toMs: number;
  readonly minuteMs: number;
  readonly policy: ReportPolicy;
  readonly maintenance: ReadonlyArray<{ readonly from: number; readonly to: number }>;
}

interface Part {
  readonly fromMs: number;
  readonly summary: WindowSummary;
}

/** One tunnel's period as columns, reused from tunnel to tunnel. */
class PeriodColumns {
  readonly state: Uint8Array;
  readonly availabilityState: Uint8Array;
  readonly flags: Uint8Array;
  readonly traffic: [Uint8Array, Uint8Array];
  readonly source: [Uint8Array, Uint8Array];
  readonly ratio: [Float64Array, Float64Array];

  constructor(readonly count: number) {
    this.state = new Uint8Array(count);
    this.availabilityState = new Uint8Array(count);
    this.flags = new Uint8Array(count);
    this.traffic = [new Uint8Array(count), new Uint8Array(count)];
    this.source = [new Uint8Array(count), new Uint8Array(count)];
    this.ratio = [new Float64Array(count), new Float64Array(count)];
  }

  /** Fills the columns from the tunnel's window summaries (minutes without one: no data). */
  fill(parts: readonly Part[], fromMs: number, minuteMs: number): void {
    this.state.fill(0);
    this.flags.fill(0);
    for (let d = 0; d < 2; d++) {
      this.traffic[d]!.fill(0);
      this.source[d]!.fill(0);
      this.ratio[d]!.fill(Number.NaN);
    }
    for (const { fromMs: at, summary } of parts) {
      const offset = Math.round((at - fromMs) / minuteMs);
      unrle(summary.state, this.state, offset);
      unrle(summary.flags, this.flags, offset);
      for (let d = 0; d < 2; d++) {
        const dir = summary.directions[d]!;
        unrle(dir.traffic, this.traffic[d]!, offset);
        unrle(dir.source, this.source[d]!, offset);
        const ratio = this.ratio[d]!;
        const source = this.source[d]!;
        for (let i = offset; i < offset + summary.minutes; i++) if (source[i] !== 0) ratio[i] = 0;
        for (let k = 0; k < dir.ratios.length; k += 2) ratio[offset + dir.ratios[k]!] = dir.ratios[k + 1]!;
      }
    }
    // For availability, a minute in which only the tunnel's points were alive is idle.
    const idle = 1 + stateCodes.indexOf('idle');
    for (let i = 0; i < this.count; i++) {
      const s = this.state[i]!;
      this.availabilityState[i] = s === IDLE_ALIVE ? idle : s;
    }
  }
}

function tunnelReport(
  tunnel: Tunnel,
  parts: readonly Part[],
  scope: Scope,
  cols: PeriodColumns,
): TunnelReport {
  const { fromMs, minuteMs, policy, maintenance } = scope;
  cols.fill(parts, fromMs, minuteMs);
  const availability = availabilityOfSeries(
    { state: cols.availabilityState, aToBLossRatio: cols.ratio[0], bToALossRatio: cols.ratio[1] },
    fromMs,
    cols.count,
    minuteMs,
    policy,
    maintenance,
  );
  const byStateCode = new Array<number>(IDLE_ALIVE + 1).fill(0);
  const byFlagBit = new Array<number>(flagBits.length).fill(0);
  for (let i = 0; i < cols.count; i++) {
    byStateCode[cols.state[i]!]!++;
    const bits = cols.flags[i]!;
    if (bits !== 0) for (let b = 0; b < flagBits.length; b++) if (bits & (1 << b)) byFlagBit[b]!++;
  }
  const minutesByState = Object.fromEntries(stateCodes.map((s, i) => [s, byStateCode[1 + i]!])) as Record<
    TunnelHealth,
    number
  >;
  minutesByState.idle += byStateCode[IDLE_ALIVE]!;
  const minutesWithFlag = Object.fromEntries(flagBits.map((f, b) => [f, byFlagBit[b]!])) as Record<
    TunnelFlag,
    number
  >;
  const directions = (['a-b', 'b-a'] as const).map((direction, d) =>
    directionReport(direction, d, parts, cols),
  );
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
    worstMinutes: worstMinutes(tunnel.id, parts, minuteMs),
    breaches,
    coverage: { withData: possible > 0 ? (possible - availability.minutes.noData) / possible : null },
  };
}

/**
 * A direction over the period: packets and octets added over the windows; the loss figure
 * of each window (the analysis's pick of reported, sequence or two-point for that window)
 * added, its source the one that gave the most packets sent; per-minute figures from the
 * columns.
 */
function directionReport(
  direction: TunnelDirection,
  d: number,
  parts: readonly Part[],
  cols: PeriodColumns,
): DirectionReport {
  let packets = 0;
  let octets = 0;
  let sent: number | null = null;
  let lost: number | null = null;
  let only: number | null = null;
  let measuredWindows = 0;
  const sentBySource = new Map<LossSource, number>();
  for (const { summary } of parts) {
    const w = summary.directions[d]!;
    packets += w.packets;
    octets += w.octets;
    if (w.lost === null || w.sent === null) continue;
    measuredWindows++;
    sent = (sent ?? 0) + w.sent;
    lost = (lost ?? 0) + w.lost;
    if (w.lossSource !== null) sentBySource.set(w.lossSource, (sentBySource.get(w.lossSource) ?? 0) + w.sent);
    only = w.sent > 0 ? w.lost / w.sent : w.lost === 0 ? 0 : null;
  }
  let lossSource: LossSource | null = null;
  for (const [s, n] of sentBySource)
    if (lossSource === null || n > sentBySource.get(lossSource)!) lossSource = s;
  const lossRatio =
    lost === null || sent === null ? null : measuredWindows === 1 ? only : sent > 0 ? lost / sent : null;
  const bySource = Object.fromEntries(lossSources.map((s) => [s, 0])) as Record<LossSource, number>;
  const bySourceCode = new Array<number>(UNSOURCED + 1).fill(0);
  const traffic = cols.traffic[d]!;
  const source = cols.source[d]!;
  const ratio = cols.ratio[d]!;
  let withTraffic = 0;
  let zeros = 0;
  const nonZero: number[] = [];
  for (let i = 0; i < cols.count; i++) {
    withTraffic += traffic[i]!;
    const code = source[i]!;
    if (code === 0) continue;
    bySourceCode[code]!++;
    if (code === UNSOURCED) continue;
    const r = ratio[i]!;
    if (r === 0) zeros++;
    else nonZero.push(r);
  }
  for (const [i, s] of lossSources.entries()) bySource[s] = bySourceCode[1 + i]!;
  const measured = zeros + nonZero.length;
  const sorted = Float64Array.from(nonZero).sort();
  // Nearest rank over the measured minutes; ratios are never negative, so zeros rank first.
  const rank = (p: number) => {
    const k = Math.max(0, Math.ceil(p * measured) - 1);
    return k < zeros ? 0 : sorted[k - zeros]!;
  };
  return {
    direction,
    packets,
    octets,
    sent,
    lost,
    lossRatio,
    lossSource,
    measuredMinutes: measured,
    minutesBySource: bySource,
    unmeasuredMinutes: withTraffic - measured,
    measuredShare: withTraffic > 0 ? measured / withTraffic : null,
    lossRatioPercentiles: measured === 0 ? null : { p50: rank(0.5), p95: rank(0.95), p99: rank(0.99) },
  };
}

/**
 * The worst minutes over the period, from each window's worst: a two-point run is one
 * entry with /flows over the run as its drill-down; a minute has its bucket's drill-down.
 */
function worstMinutes(tunnelId: string, parts: readonly Part[], minuteMs: number): WorstMinute[] {
  const id = encodeURIComponent(tunnelId);
  const seen = new Set<string>();
  const all: WorstMinute[] = [];
  for (const { fromMs, summary } of parts) {
    for (const e of summary.worst) {
      const start = fromMs + e.start * minuteMs;
      const end = fromMs + e.end * minuteMs;
      const direction: TunnelDirection = e.direction === 0 ? 'a-b' : 'b-a';
      const key = `${direction}|${start}|${end}`;
      if (seen.has(key)) continue;
      seen.add(key);
      all.push({
        start,
        end,
        direction,
        lost: e.lost,
        lossRatio: e.lossRatio,
        lossSource: e.lossSource,
        drillDown: e.span
          ? `/api/v1/flows?from=${start}&to=${end}&tunnel=${id}`
          : `/api/v1/tunnels/${id}/buckets/${start}/flows`,
      });
    }
  }
  return all.sort(worseEntry).slice(0, WORST_MINUTES);
}

function worstFirst(a: TunnelReport, b: TunnelReport): number {
  const av = (r: TunnelReport) => r.availability ?? 2;
  const loss = (r: TunnelReport) => Math.max(...r.directions.map((d) => d.lossRatio ?? -1));
  return av(a) - av(b) || loss(b) - loss(a) || a.id.localeCompare(b.id);
}

function sum(xs: readonly number[]): number {
  return xs.reduce((n, x) => n + x, 0);
}

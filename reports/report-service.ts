import type { TunnelQueryOptions } from '../analysis/tunnel-queries.js';
import type { TunnelReader } from '../model/tunnel-reader.js';
import type { StoreDb } from '../store/database.js';
import { getReport, insertReport, listReports } from '../store/reports/report-repository.js';
import type { ReportTrigger, StoredReportListing } from '../store/reports/report-repository.js';
import { buildReport, ReportRequestError, summarizeSettledDays } from './build-report.js';
import { createDaySummaryCache } from './day-summary-cache.js';
import { defaultReportPolicy } from './policy.js';
import type { ReportPolicy } from './policy.js';
import type { SlaReport } from './report.js';
import type { ReportMetrics } from './report-metrics.js';

/** The longest period one report may cover (bucket rows are kept; raw flows are not needed). */
export const MAX_REPORT_PERIOD_MS = 400 * 24 * 60 * 60 * 1000;

/** What a caller asks for: a period, optionally tunnels and a policy by name. */
export interface ReportAsk {
  readonly fromMs: number;
  readonly toMs: number;
  readonly tunnels?: 'all' | readonly string[];
  readonly policy?: string;
}

export interface StoredReport extends StoredReportListing {
  readonly report: SlaReport;
}

export interface ReportService {
  /** The policy by name (`default` when none is configured under that name); unknown: an error. */
  policy(name?: string): ReportPolicy;
  readonly policies: readonly ReportPolicy[];
  /** Computes a report; stores it unless `store: false` (the CLI's stdout report; id 0). */
  create(
    ask: ReportAsk,
    opts?: { trigger?: ReportTrigger; scheduledMs?: number | null; store?: boolean },
  ): Promise<StoredReport>;
  list(opts: { limit: number; beforeId?: number | null; policy?: string }): Promise<StoredReportListing[]>;
  get(id: number): Promise<StoredReport | undefined>;
  /**
   * Stores the summaries of settled days of the last `lookbackDays` that lack one, at most
   * `maxDays` days per call; returns the tunnel-days stored (build-report.ts summarizeSettledDays).
   */
  summarizeDays(lookbackDays: number, maxDays?: number): Promise<number>;
}

export interface ReportServiceDeps {
  readonly db: StoreDb;
  readonly reader: TunnelReader;
  readonly analysis: TunnelQueryOptions;
  readonly policies: readonly ReportPolicy[];
  readonly now?: () => number;
  /** Counts on-demand runs (the scheduler counts its own). */
  readonly metrics?: ReportMetrics;
}

/** Reports on demand and for the scheduler: validated asks, computed reports, stored runs. */
export function createReportService(deps: ReportServiceDeps): ReportService {
  const now = deps.now ?? Date.now;
  const byName = new Map(deps.policies.map((p) => [p.name, p]));
  const sources = { reader: deps.reader, opts: deps.analysis, now, days: createDaySummaryCache(deps.db) };
  const policy = (name?: string): ReportPolicy => {
    if (name === undefined) return byName.get('default') ?? defaultReportPolicy;
    const found = byName.get(name) ?? (name === 'default' ? defaultReportPolicy : undefined);
    if (found === undefined) {
      const known = ['default', ...byName.keys()].filter((n, i, a) => a.indexOf(n) === i);
      throw new ReportRequestError(`unknown policy '${name}'; configured: ${known.join(', ')}`, 'policy');
    }
    return found;
  };
  return {
    policy,
    policies: deps.policies,
    async create(ask, opts = {}) {
      if (!Number.isFinite(ask.fromMs) || !Number.isFinite(ask.toMs) || ask.fromMs >= ask.toMs) {
        throw new ReportRequestError('from must be before to', 'from');
      }
      if (ask.toMs - ask.fromMs > MAX_REPORT_PERIOD_MS) {
        throw new ReportRequestError(
          `a report covers at most ${MAX_REPORT_PERIOD_MS / 86_400_000} days; split the period`,
          'to',
        );
      }
      const p = policy(ask.policy);
      const trigger = opts.trigger ?? 'on-demand';
      const counted = trigger === 'on-demand' ? deps.metrics : undefined;
      counted?.run(p.name, trigger);
      let report: SlaReport;
      try {
        report = await buildReport(sources, {
          fromMs: ask.fromMs,
          toMs: ask.toMs,
          tunnels: ask.tunnels ?? p.tunnels,
          policy: p,
        });
      } catch (err) {
        if (!(err instanceof ReportRequestError)) counted?.failure(p.name);
        throw err;
      }
      counted?.success(p.name, now());
      const record = {
        policy: p.name,
        trigger,
        fromMs: report.period.from,
        toMs: report.period.to,
        generatedMs: report.generatedAt,
        scheduledMs: opts.scheduledMs ?? null,
        tunnels: report.summary.tunnels,
        breaching: report.summary.breaching,
        worstAvailability: report.summary.worstAvailability,
      } as const;
      const id =
        opts.store === false ? 0 : await insertReport(deps.db, { ...record, body: JSON.stringify(report) });
      return { id, ...record, report };
    },
    list: (opts) => listReports(deps.db, opts),
    summarizeDays: (lookbackDays, maxDays) => summarizeSettledDays(sources, lookbackDays, maxDays),
    async get(id) {
      const row = await getReport(deps.db, id);
      if (row === undefined) return undefined;
      const { body, ...listing } = row;
      return { ...listing, report: JSON.parse(body) as SlaReport };
    },
  };
}

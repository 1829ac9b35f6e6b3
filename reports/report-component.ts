import type { StoreDb } from '../store/database.js';
import { lastScheduledRun, setLastScheduledRun } from '../store/reports/report-repository.js';
import { postWebhook, writeReportFiles } from './deliver.js';
import type { WebhookOptions } from './deliver.js';
import { renderReport } from './render.js';
import type { ReportMetrics } from './report-metrics.js';
import type { ReportService } from './report-service.js';
import { createReportScheduler } from './scheduler.js';
import type { ReportClock, ReportScheduler, ReportSchedulerLog, ScheduledRun } from './scheduler.js';

export interface ReportComponentDeps {
  readonly service: ReportService;
  /** Where each policy's last scheduled run is kept (catch-up starts after it). */
  readonly db: StoreDb;
  /** The same metrics the service counts its on-demand runs in. */
  readonly metrics: ReportMetrics;
  readonly log: ReportSchedulerLog;
  readonly clock?: ReportClock;
  readonly webhook?: WebhookOptions;
  /** How often settled days are summarized in the background (0: never). Default 10 min. */
  readonly summarizeEveryMs?: number;
}

/** Days back the background summarizer looks (a month's report, and some). */
export const SUMMARY_LOOKBACK_DAYS = 35;

export interface ReportComponent {
  readonly scheduler: ReportScheduler;
  /** Catches up missed runs (in the background), then runs each policy on its schedule. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `<policy>-<period start, UTC>`: 20261206T0000Z sorts by time and is a plain file name. */
export function reportBaseName(policy: string, fromMs: number): string {
  const iso = new Date(fromMs).toISOString();
  return `${policy}-${iso.slice(0, 10).replaceAll('-', '')}T${iso.slice(11, 16).replace(':', '')}Z`;
}

/**
 * The reports component (one shape with the collector: inert until start): the scheduler
 * of the configured policies, each run computed and stored by the service, then delivered
 * to the policy's directory (one file per format, written atomically) and webhook (the
 * JSON, retried). A delivery that fails is logged and counted; the stored run stays.
 */
export function createReportComponent(deps: ReportComponentDeps): ReportComponent {
  const { service, log, metrics } = deps;
  const run = async (r: ScheduledRun) => {
    const created = await service.create(
      { fromMs: r.fromMs, toMs: r.toMs, policy: r.policy.name },
      { trigger: r.catchUp ? 'catch-up' : 'scheduled', scheduledMs: r.scheduledAtMs },
    );
    const { directory, webhook } = r.policy.deliver;
    if (directory !== undefined) {
      try {
        const files = await writeReportFiles(
          directory,
          reportBaseName(r.policy.name, created.fromMs),
          r.policy.formats.map((f) => {
            const rendered = renderReport(created.report, f);
            return { ext: rendered.ext, body: rendered.body };
          }),
        );
        metrics.delivery(r.policy.name, 'directory', true);
        log.info({ policy: r.policy.name, id: created.id, files }, 'report written');
      } catch (err) {
        metrics.delivery(r.policy.name, 'directory', false);
        log.warn(
          { policy: r.policy.name, id: created.id, directory, err: String(err) },
          'report files not written',
        );
      }
    }
    if (webhook !== undefined) {
      const result = await postWebhook(webhook, { id: created.id, ...created.report }, deps.webhook);
      metrics.delivery(r.policy.name, 'webhook', result.ok);
      if (result.ok) log.info({ policy: r.policy.name, id: created.id, webhook }, 'report posted');
      else log.warn({ policy: r.policy.name, id: created.id, webhook, ...result }, 'report webhook failed');
    }
  };
  const scheduler = createReportScheduler({
    policies: service.policies,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    lastRuns: {
      get: (policy) => lastScheduledRun(deps.db, policy),
      set: (policy, at) => setLastScheduledRun(deps.db, policy, at),
    },
    run,
    log,
    metrics,
  });
  // Day summaries in the background, a day at a time, so a scheduled month reads them.
  const every = deps.summarizeEveryMs ?? 600_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const summarize = async () => {
    try {
      let total = 0;
      for (let n = -1; n !== 0 && !stopped;) {
        n = await service.summarizeDays(SUMMARY_LOOKBACK_DAYS, 1);
        total += n;
      }
      if (total > 0) log.info({ tunnelDays: total }, 'report day summaries stored');
    } catch (err) {
      log.warn({ err: String(err) }, 'report day summaries not stored');
    }
  };
  const tick = () => {
    running = summarize().finally(() => {
      if (!stopped) timer = setTimeout(tick, every).unref();
    });
  };
  return {
    scheduler,
    async start() {
      await scheduler.start();
      if (every > 0) tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await scheduler.stop();
    },
  };
}

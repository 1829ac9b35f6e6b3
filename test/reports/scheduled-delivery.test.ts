import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analysisOptions } from '../../cli/analysis-options.js';
import { ingestCommand } from '../../cli/ingest-command.js';
import { reportPolicySchema } from '../../reports/policy.js';
import { createReportComponent, reportBaseName } from '../../reports/report-component.js';
import { createReportMetrics } from '../../reports/report-metrics.js';
import { createReportService } from '../../reports/report-service.js';
import type { ReportClock } from '../../reports/scheduler.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { SqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { listReports, setLastScheduledRun } from '../../store/reports/report-repository.js';
import { tempDir, testConfig } from '../e2e/helpers.js';

/**
 * The reports component on a real store with the d_loss pair (2024-03-12): a daily policy
 * whose process was down for three days catches up three reports at start (one per missed
 * day, none twice, also after a restart), stores each, writes its files and posts its JSON
 * to a webhook that fails once before it accepts.
 */

const EXPORTS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');
const DAY = 86_400_000;
const day0 = Date.parse('2024-03-12T00:00:00Z');

/** A clock that stands still at `now`; timers are kept, never fired. */
function stillClock(now: number): ReportClock {
  return { now: () => now, setTimeout: () => ({}), clearTimeout: () => undefined };
}

describe('scheduled reports: catch-up, storage and delivery', () => {
  let store: SqliteStore;
  let server: Server;
  let webhookUrl = '';
  const posted: Array<{
    id: number;
    period: { from: number };
    tunnels: Array<{ directions: Array<{ lost: number | null }> }>;
  }> = [];
  let requests = 0;
  const outDir = join(tempDir('tunnelflow-reports-out-'), 'daily');
  let sources: Parameters<typeof createReportService>[0];

  beforeAll(async () => {
    const dir = tempDir('tunnelflow-sched-');
    const config = testConfig(
      dir,
      'tunnels:\n  - name: lossy path\n    peerA: 192.0.2.140\n    peerB: 198.51.100.150\n',
    );
    const common = { config: join(dir, 'tunnelflow.yaml'), db: config.store.path, quiet: true };
    await ingestCommand(join(EXPORTS, 'd_loss_v4_tx', 'softflowd_ipfix.pcap'), {
      ...common,
      exporter: '192.0.2.140',
    });
    await ingestCommand(join(EXPORTS, 'd_loss_v4_rx', 'softflowd_ipfix.pcap'), {
      ...common,
      exporter: '198.51.100.150',
    });
    store = await openSqliteStore(config.store);
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests++;
        if (requests === 1) {
          res.statusCode = 503; // the first try fails: the delivery retries
          res.end();
          return;
        }
        posted.push(JSON.parse(body) as (typeof posted)[number]);
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const policy = reportPolicySchema.parse({
      name: 'daily',
      schedule: '30 0 * * *',
      period: 'previousDay',
      formats: ['json', 'csv', 'html'],
      deliver: { directory: outDir, webhook: webhookUrl },
    });
    sources = {
      db: store.db,
      reader: store.tunnelReader,
      analysis: analysisOptions(config),
      policies: [policy],
    };
    // The last run before the downtime: the one on 2024-03-12 00:30 (it covered the 11th).
    await setLastScheduledRun(store.db, 'daily', day0 + 30 * 60_000);
  }, 60_000);
  afterAll(async () => {
    server.close();
    await store.close();
  });

  function component(now: number, registry = new Registry()) {
    const metrics = createReportMetrics(registry, ['daily']);
    const service = createReportService({ ...sources, metrics });
    return {
      registry,
      reports: createReportComponent({
        service,
        db: store.db,
        metrics,
        log: pino({ level: 'silent' }),
        clock: stillClock(now),
        webhook: { backoffMs: 10 },
      }),
    };
  }

  test('three missed days: three reports, each stored, written and posted once', async () => {
    // Down from the 12th 00:30 until the 15th 01:00: the runs of the 13th, 14th, 15th were missed.
    const { reports, registry } = component(day0 + 3 * DAY + 60 * 60_000);
    await reports.start();
    await reports.stop();

    const stored = await listReports(store.db, { limit: 10 });
    expect(stored.map((r) => [r.trigger, r.fromMs]).reverse()).toEqual([
      ['catch-up', day0],
      ['catch-up', day0 + DAY],
      ['catch-up', day0 + 2 * DAY],
    ]);
    expect(stored.map((r) => r.scheduledMs).reverse()).toEqual(
      [1, 2, 3].map((d) => day0 + d * DAY + 30 * 60_000),
    );

    // Files: one set per period, named by the period's start.
    const files = readdirSync(outDir).sort();
    expect(files).toEqual(
      [0, 1, 2]
        .flatMap((d) =>
          ['csv', 'html', 'json'].map((ext) => `${reportBaseName('daily', day0 + d * DAY)}.${ext}`),
        )
        .sort(),
    );
    const first = JSON.parse(readFileSync(join(outDir, `${reportBaseName('daily', day0)}.json`), 'utf8')) as {
      tunnels: Array<{ name: string; directions: Array<{ lost: number | null }> }>;
    };
    expect(first.tunnels.map((t) => [t.name, t.directions.map((d) => d.lost)])).toEqual([
      ['lossy path', [17, 0]],
    ]);
    expect(readFileSync(join(outDir, `${reportBaseName('daily', day0)}.csv`), 'utf8')).toContain(
      ',lossy path,',
    );

    // Webhook: the first try failed and was retried; each period posted once, with its id.
    expect(requests).toBe(4);
    expect(posted.map((p) => p.period.from)).toEqual([day0, day0 + DAY, day0 + 2 * DAY]);
    expect(posted.map((p) => p.id)).toEqual(stored.map((r) => r.id).reverse());
    expect(posted[0]!.tunnels[0]!.directions.map((d) => d.lost)).toEqual([17, 0]);

    const metrics = await registry.metrics();
    expect(metrics).toMatch(/tunnelflow_report_runs_total\{policy="daily",trigger="catch-up"\} 3/);
    expect(metrics).toMatch(
      /tunnelflow_report_deliveries_total\{policy="daily",target="webhook",outcome="ok"\} 3/,
    );
    expect(metrics).toMatch(
      /tunnelflow_report_deliveries_total\{policy="daily",target="directory",outcome="ok"\} 3/,
    );
    expect(metrics).toMatch(/tunnelflow_report_failures_total\{policy="daily"\} 0/);
  });

  test('a restart later the same day runs nothing twice', async () => {
    const { reports } = component(day0 + 3 * DAY + 5 * 60 * 60_000);
    await reports.start();
    expect(reports.scheduler.nextRuns()).toEqual([{ policy: 'daily', atMs: day0 + 4 * DAY + 30 * 60_000 }]);
    await reports.stop();
    expect((await listReports(store.db, { limit: 10 })).length).toBe(3);
    expect(posted.length).toBe(3);
  });
});

import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import type { TunnelflowConfig } from '../../cli/config-schema.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { RetentionStepper } from '../../store/sqlite/retention-stepper.js';
import type { RetentionStep } from '../../store/retention-step.js';
import { createRetention } from '../../store/retention.js';
import { getJson, start, tempDir, testConfig } from './helpers.js';

/**
 * Bucket rollups end to end (DESIGN.md "Time buckets"), on d_loss_v4 (the same traffic
 * exported near the sender and near the receiver: 17 lost a→b, two-point loss), with a fake
 * clock for retention:
 * - the capture is from 2024 but received today: a running tunnelflow rolls nothing up;
 * - 31 days later (fake clock) the minutes are hour rows: the API answers per hour
 *   (stepSeconds 3600) with exactly what the 1 h step gave before the rollup, the
 *   summary, the loss page and an SLA report keep their totals (17 two-point losses);
 * - 401 days later every aggregate is gone.
 */

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');
const DAY = 86_400_000;
const peerA = '192.0.2.140';
const peerB = '198.51.100.150';
const from = Date.parse('2024-03-12T09:00:00Z');
const to = Date.parse('2024-03-12T10:00:00Z');

interface DirectionJson {
  packets: number;
  octets: number;
  lost: number | null;
  lossSource: string | null;
}
interface SummaryJson {
  id: string;
  aToB: DirectionJson;
  bToA: DirectionJson;
}
interface BucketsJson {
  items: Array<{ start: number; aToB: DirectionJson; bToA: DirectionJson }>;
  stepSeconds: number;
}
interface ReportJson {
  completeness: unknown[];
  tunnels: Array<{
    availability: number | null;
    minutes: { total: number; inScope: number; noData: number };
    minutesByState: Record<string, number>;
    directions: Array<{
      direction: string;
      lost: number | null;
      lossSource: string | null;
      packets: number;
      measuredMinutes: number;
    }>;
  }>;
}

/** Retention on its own connection with a fake clock, run until nothing is left. */
async function retentionAt(config: TunnelflowConfig, nowMs: number) {
  const store = await openSqliteStore({ path: config.store.path });
  const stepper = new RetentionStepper(store.sqlite);
  const retention = createRetention(
    { ...config.store.retention, stepRows: 50, maxStepsPerRun: 10_000 },
    { runner: { retentionStep: async (step: RetentionStep) => stepper.run(step) }, clock: () => nowMs },
  );
  const result = await retention.runOnce();
  const count = (table: string) =>
    store.sqlite.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()!.n;
  const tables = {
    minutes: count('tunnel_buckets'),
    hours: count('tunnel_buckets_hourly'),
    exporterMinutes: count('exporter_buckets'),
    exporterHours: count('exporter_buckets_hourly'),
  };
  await store.close();
  return { result, tables };
}

describe('bucket rollups through the API and the reports', () => {
  let config: TunnelflowConfig;
  let id: string;
  const seen: {
    buckets?: BucketsJson;
    summary?: SummaryJson;
    lossTotal?: number;
    report?: ReportJson;
  } = {};

  const read = async () => {
    const app = await start(config);
    try {
      const q = `from=${from}&to=${to}`;
      const tunnels = await getJson<{ items: SummaryJson[] }>(`${app.url}/api/v1/tunnels?${q}`);
      id = tunnels.body.items[0]!.id;
      const enc = encodeURIComponent(id);
      const hourly = await getJson<BucketsJson>(`${app.url}/api/v1/tunnels/${enc}/buckets?${q}&step=1h`);
      const plain = await getJson<BucketsJson>(`${app.url}/api/v1/tunnels/${enc}/buckets?${q}`);
      const summary = await getJson<SummaryJson>(`${app.url}/api/v1/tunnels/${enc}?${q}`);
      const loss = await getJson<{ items: Array<{ lost: number; lossSource: string }> }>(
        `${app.url}/api/v1/loss?${q}`,
      );
      const res = await fetch(`${app.url}/api/v1/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: new Date(from).toISOString(), to: new Date(to).toISOString() }),
      });
      const report = ((await res.json()) as { report: ReportJson }).report;
      return {
        hourly: hourly.body,
        plain: plain.body,
        summary: summary.body,
        loss: loss.body.items,
        report,
        status: res.status,
      };
    } finally {
      await app.stop();
    }
  };

  beforeAll(async () => {
    const dir = tempDir();
    config = testConfig(dir, `tunnels:\n  - name: lossy path\n    peerA: ${peerA}\n    peerB: ${peerB}\n`);
    const common = { config: join(dir, 'tunnelflow.yaml'), db: config.store.path, quiet: true };
    await ingestCommand(join(CORPUS, 'd_loss_v4_tx', 'pmacct_ipfix.pcap'), { ...common, exporter: peerA });
    await ingestCommand(join(CORPUS, 'd_loss_v4_rx', 'pmacct_ipfix.pcap'), { ...common, exporter: peerB });
  });

  test('an old capture ingested today stays per minute', async () => {
    const before = await read();
    expect(before.plain.stepSeconds).toBe(60);
    expect(before.plain.items.length).toBeGreaterThan(1);
    expect(before.hourly.stepSeconds).toBe(3600);
    expect(before.summary.aToB).toMatchObject({ lost: 17, lossSource: 'two-point' });
    expect(before.loss.reduce((n, i) => n + i.lost, 0)).toBe(17);
    expect(before.status).toBe(201);
    seen.buckets = before.hourly;
    seen.summary = before.summary;
    seen.report = before.report;
    // The retention of the running tunnelflow (real clock) rolled nothing up.
    const { result, tables } = await retentionAt(config, Date.now());
    expect(result.rolledUpBuckets).toBe(0);
    expect(tables.hours).toBe(0);
    expect(tables.minutes).toBeGreaterThan(0);
  });

  test('31 days after receipt: hour rows, the same figures per hour, the same totals', async () => {
    const { result, tables } = await retentionAt(config, Date.now() + 31 * DAY);
    expect(result.rolledUpBuckets).toBeGreaterThan(0);
    expect(tables).toMatchObject({ minutes: 0, exporterMinutes: 0 });
    expect(tables.hours).toBeGreaterThan(0);
    expect(tables.exporterHours).toBe(2);

    const after = await read();
    // Steps below 1 h are not available any more: the step is raised and said so.
    expect(after.plain.stepSeconds).toBe(3600);
    expect(after.plain).toEqual(seen.buckets);
    expect(after.hourly).toEqual(seen.buckets);
    for (const d of ['aToB', 'bToA'] as const) {
      expect(after.summary[d]).toMatchObject({
        packets: seen.summary![d].packets,
        octets: seen.summary![d].octets,
        lost: seen.summary![d].lost,
        lossSource: seen.summary![d].lossSource,
      });
    }
    expect(after.loss.map((i) => [i.lost, i.lossSource])).toEqual([[17, 'two-point']]);
    // The report over the rolled-up hour: the hour's figures go to as many minutes as
    // its observation points had data in (5 here, 09:00-09:04), as before the rollup.
    const [tunnel] = after.report.tunnels;
    const [was] = seen.report!.tunnels;
    expect(tunnel!.minutes).toEqual(was!.minutes);
    expect(tunnel!.minutes.inScope).toBe(5);
    expect(tunnel!.availability).toBe(was!.availability);
    expect(tunnel!.minutesByState).toEqual(was!.minutesByState);
    expect(after.report.completeness).toEqual(seen.report!.completeness);
    const pick = (d: ReportJson['tunnels'][number]['directions'][number]) => [
      d.direction,
      d.lost,
      d.lossSource,
      d.packets,
      d.measuredMinutes,
    ];
    expect(tunnel!.directions.map(pick)).toEqual(was!.directions.map(pick));
  });

  test('401 days after receipt every aggregate is deleted', async () => {
    const { result, tables } = await retentionAt(config, Date.now() + 401 * DAY);
    expect(result.deletedBuckets).toBeGreaterThan(0);
    expect(tables).toEqual({ minutes: 0, hours: 0, exporterMinutes: 0, exporterHours: 0 });
    const app = await start(config);
    try {
      const res = await getJson<BucketsJson>(
        `${app.url}/api/v1/tunnels/${encodeURIComponent(id)}/buckets?from=${from}&to=${to}`,
      );
      expect(res.body.items).toEqual([]);
    } finally {
      await app.stop();
    }
  });
});

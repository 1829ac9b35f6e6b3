import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, test } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { openConnection } from '../../store/sqlite/connection.js';
import { migrateToLatest } from '../../store/migrate.js';
import type { ExporterBucket } from '../../model/exporter-bucket.js';
import type { TunnelDirection } from '../../model/flow.js';
import { newBucketDelta, ROLLUP_BUCKET_MS } from '../../model/tunnel-bucket.js';
import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { SqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { parseStoreConfig } from '../../store/config.js';
import { retentionConfigSchema } from '../../store/retention-config.js';
import { RetentionStepper } from '../../store/sqlite/retention-stepper.js';
import type { RetentionStep, RetentionStepResult } from '../../store/retention-step.js';
import { createRetention } from '../../store/retention.js';
import { registerStoreMetrics } from '../../store/store-metrics.js';
import { createTunnelReader } from '../../store/tunnels/tunnel-repository.js';
import { tunnelBucketCounterColumns } from '../../store/tunnels/tunnel-bucket.table.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import type { FlowWriter } from '../../store/writer/flow-writer.js';
import { tempDir } from './temp-store.js';

/**
 * Bucket aggregates by receipt age (DESIGN.md "Time buckets"), with a fake clock (the
 * retention timer's `clock`): rolled up to one row per hour after rollupAfterMs with exact
 * sums, deleted after bucketAggregatesMs, in bounded steps while ingest goes on, and an
 * interrupted rollup resumed without counting anything twice.
 */

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let counter = 0;

const DAY = 86_400_000;
const MINUTE = 60_000;
/** The fake "now" of every retention run here. */
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
/** Flow time of the generated buckets: an hour-aligned start, 625 minutes of data. */
const T0 = Date.UTC(2026, 3, 20, 7, 0, 0);
const MINUTES = 625;

const config = (overrides: Record<string, unknown> = {}) => retentionConfigSchema.parse(overrides);

/** A small deterministic PRNG (mulberry32), so every run sums the same numbers. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const points = [
  { exporter: '192.0.2.1', domainId: 0 },
  { exporter: '192.0.2.2', domainId: 7 },
];
const tunnels = ['t1', 't2', 't3', 't4'];
const directions: TunnelDirection[] = ['a-b', 'b-a'];

/** One delta per tunnel, direction, point and minute: 4 × 2 × 2 × 625 = 10,000 rows. */
function deltas(seed: number, startMs = T0, minutes = MINUTES): TunnelBucketDelta[] {
  const rnd = prng(seed);
  const n = (max: number) => Math.floor(rnd() * max);
  const out: TunnelBucketDelta[] = [];
  for (let m = 0; m < minutes; m += 1) {
    for (const tunnel of tunnels) {
      for (const direction of directions) {
        for (const p of points) {
          const d = newBucketDelta(tunnel, startMs + m * MINUTE, direction, p.exporter, p.domainId);
          d.packets = n(100_000);
          d.octets = d.packets * (60 + n(1400));
          d.flows = n(5);
          d.espPackets = d.packets - n(10);
          d.fragments = n(10);
          d.icmpFragNeeded = n(3);
          d.ikePackets = n(4);
          d.leakPackets = n(2);
          d.reportedLost = n(7);
          d.reportedPackets = n(50_000);
          d.sequenceLost = n(9);
          d.sequencePackets = n(60_000);
          d.cleared['sa-change'] = n(2);
          d.cleared.negative = n(2);
          d.carriedIn = n(3);
          out.push(d);
        }
      }
    }
  }
  return out;
}

function exporterDeltas(seed: number, startMs = T0, minutes = MINUTES): ExporterBucket[] {
  const rnd = prng(seed);
  const out: ExporterBucket[] = [];
  for (let m = 0; m < minutes; m += 1) {
    for (const p of points) {
      // Some minutes silent (no record, no datagram), to count an hour's active buckets.
      const silent = rnd() < 0.1;
      out.push({
        ...p,
        bucketStartMs: startMs + m * MINUTE,
        records: silent ? 0 : 1 + Math.floor(rnd() * 1000),
        datagrams: silent ? 0 : 1 + Math.floor(rnd() * 30),
        issues: Math.floor(rnd() * 2),
        sequenceGaps: Math.floor(rnd() * 2),
      });
    }
  }
  return out;
}

async function newStore(): Promise<{ store: SqliteStore; writer: FlowWriter; path: string }> {
  counter += 1;
  const path = tmp.path(`rollup-${counter}.db`);
  const store = await openSqliteStore({ path });
  const writer = createFlowWriter({ worker: false }, { storeConfig: store.config });
  await writer.start();
  return { store, writer, path };
}

async function submitAll(
  writer: FlowWriter,
  rows: readonly TunnelBucketDelta[],
  exporterRows: readonly ExporterBucket[],
  receivedMs: number,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    writer.submit({ tunnelBuckets: rows.slice(i, i + 500), receivedMs });
  }
  writer.submit({ exporterBuckets: exporterRows, receivedMs });
  await writer.flush();
}

type Sums = Map<string, Record<string, number>>;

/** What the hour rows must hold: counters summed per hour, carried_in of the hour's first minute. */
function expectedHours(rows: readonly TunnelBucketDelta[]): Sums {
  const out: Sums = new Map();
  for (const d of rows) {
    const hour = Math.floor(d.bucketStartMs / ROLLUP_BUCKET_MS) * ROLLUP_BUCKET_MS;
    const key = [d.tunnelId, hour, d.direction, d.exporter, d.domainId].join('|');
    let sums = out.get(key);
    if (sums === undefined) {
      sums = Object.fromEntries(tunnelBucketCounterColumns.map((c) => [c, 0]));
      out.set(key, sums);
    }
    const row: Record<string, number> = {
      packets: d.packets,
      octets: d.octets,
      flows: d.flows,
      esp_packets: d.espPackets,
      fragments: d.fragments,
      icmp_frag_needed: d.icmpFragNeeded,
      ike_packets: d.ikePackets,
      leak_packets: d.leakPackets,
      reported_lost: d.reportedLost,
      reported_packets: d.reportedPackets,
      sequence_lost: d.sequenceLost,
      sequence_packets: d.sequencePackets,
      cleared_negative: d.cleared.negative,
      cleared_exceeds_sequence_space: d.cleared['exceeds-sequence-space'],
      cleared_exceeds_ceiling: d.cleared['exceeds-ceiling'],
      cleared_sa_change: d.cleared['sa-change'],
      cleared_fragments: d.cleared.fragments,
      cleared_non_esp: d.cleared['non-esp'],
      carried_in: d.bucketStartMs === hour ? d.carriedIn : 0,
    };
    for (const c of tunnelBucketCounterColumns) sums[c]! += row[c]!;
  }
  return out;
}

function storedHours(store: SqliteStore): Sums {
  const rows = store.sqlite
    .prepare<[], Record<string, number | string>>('SELECT * FROM tunnel_buckets_hourly')
    .all();
  const out: Sums = new Map();
  for (const r of rows) {
    const key = [r['tunnel_id'], r['bucket_start_ms'], r['direction'], r['exporter'], r['domain_id']].join(
      '|',
    );
    out.set(key, Object.fromEntries(tunnelBucketCounterColumns.map((c) => [c, r[c] as number])));
  }
  return out;
}

const count = (store: SqliteStore, table: string): number =>
  store.sqlite.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()!.n;

/** A runner on the test's own connection that records every step's result. */
function runnerOn(store: SqliteStore) {
  const stepper = new RetentionStepper(store.sqlite);
  const steps: RetentionStepResult[] = [];
  return {
    steps,
    retentionStep: async (step: RetentionStep) => {
      const result = stepper.run(step);
      steps.push(result);
      return result;
    },
  };
}

describe('bucket aggregates: rollup to 1 h and deletion, by receipt age', () => {
  test('rows received 31 days ago become hour rows with exact sums; the analysis reads the same totals', async () => {
    const { store, writer } = await newStore();
    const rows = deltas(1);
    const exporterRows = exporterDeltas(2);
    await submitAll(writer, rows, exporterRows, NOW - 31 * DAY);
    await writer.stop();
    const reader = createTunnelReader(store.db);
    const window: [number, number] = [T0, T0 + 11 * ROLLUP_BUCKET_MS];
    const before = await reader.loadBuckets('t2', ...window);
    const completenessBefore = await reader.loadCompleteness(points, ...window);
    expect(before).toHaveLength(2 * 2 * MINUTES);

    const runner = runnerOn(store);
    const retention = createRetention(config({ stepRows: 2000, maxStepsPerRun: 100 }), {
      runner,
      clock: () => NOW,
    });
    const result = await retention.runOnce();
    expect(result.rolledUpBuckets).toBe(rows.length + exporterRows.length);
    expect(result.deletedBuckets).toBe(0);
    const registry = new Registry();
    registerStoreMetrics(registry, { retention });
    expect(await registry.metrics()).toContain(
      `tunnelflow_store_retention_rolled_up_buckets_total ${rows.length + exporterRows.length}`,
    );
    expect(count(store, 'tunnel_buckets')).toBe(0);
    expect(count(store, 'exporter_buckets')).toBe(0);
    // 625 minutes from 07:00 touch 11 hours.
    expect(count(store, 'tunnel_buckets_hourly')).toBe(4 * 2 * 2 * 11);
    expect(storedHours(store)).toEqual(expectedHours(rows));

    const after = await reader.loadBuckets('t2', ...window);
    expect(after.every((b) => b.spanMs === ROLLUP_BUCKET_MS)).toBe(true);
    for (const field of [
      'packets',
      'octets',
      'flows',
      'reportedLost',
      'sequenceLost',
      'ikePackets',
    ] as const) {
      const sum = (list: typeof before) => list.reduce((n, b) => n + b[field], 0);
      expect(sum(after)).toBe(sum(before));
    }
    const completenessAfter = await reader.loadCompleteness(points, ...window);
    for (const field of ['records', 'datagrams', 'issues', 'sequenceGaps'] as const) {
      const sum = (list: readonly ExporterBucket[]) => list.reduce((n, b) => n + b[field], 0);
      expect(sum(completenessAfter)).toBe(sum(completenessBefore));
    }
    // Each hour knows how many of its minutes had data.
    const active = completenessBefore.filter((b) => b.records > 0 || b.datagrams > 0).length;
    expect(completenessAfter.reduce((n, b) => n + (b.activeBuckets ?? 0), 0)).toBe(active);
    // The age of an hour row is that of its newest minute: nothing is deleted yet.
    const { oldest } = store.sqlite
      .prepare<[], { oldest: number }>('SELECT min(received_ms) AS oldest FROM tunnel_buckets_hourly')
      .get()!;
    expect(oldest).toBe(NOW - 31 * DAY);
    await store.close();
  });

  test('an old capture ingested today is kept per minute; 401-day-old aggregates are deleted', async () => {
    const { store, writer } = await newStore();
    // Flow time two years back, received today: kept per minute for the whole window.
    const oldCapture = deltas(3, T0 - 730 * DAY, 30);
    await submitAll(writer, oldCapture, exporterDeltas(4, T0 - 730 * DAY, 30), NOW - 2 * DAY);
    // Received 401 days ago: past bucketAggregatesMs, whatever its flow time.
    const ancient = deltas(5, T0 - 400 * DAY, 30);
    await submitAll(writer, ancient, exporterDeltas(6, T0 - 400 * DAY, 30), NOW - 401 * DAY);
    await writer.stop();
    const retention = createRetention(config({ stepRows: 500, maxStepsPerRun: 100 }), {
      runner: runnerOn(store),
      clock: () => NOW,
    });
    const result = await retention.runOnce();
    expect(result.rolledUpBuckets).toBe(0);
    expect(result.deletedBuckets).toBe(ancient.length + 2 * 30);
    expect(count(store, 'tunnel_buckets')).toBe(oldCapture.length);
    expect(count(store, 'exporter_buckets')).toBe(2 * 30);
    expect(count(store, 'tunnel_buckets_hourly')).toBe(0);

    // Hour rows go too once their newest minute is older than the window.
    const later = createRetention(config({ stepRows: 500, maxStepsPerRun: 100 }), {
      runner: runnerOn(store),
      clock: () => NOW + 35 * DAY,
    });
    expect((await later.runOnce()).rolledUpBuckets).toBe(oldCapture.length + 2 * 30);
    expect(count(store, 'tunnel_buckets_hourly')).toBeGreaterThan(0);
    const end = createRetention(config({ stepRows: 500, maxStepsPerRun: 100 }), {
      runner: runnerOn(store),
      clock: () => NOW + 399 * DAY,
    });
    await end.runOnce();
    expect(count(store, 'tunnel_buckets_hourly')).toBe(0);
    expect(count(store, 'exporter_buckets_hourly')).toBe(0);
    await store.close();
  });

  test("reports' day summaries built more than 400 days ago go with the aggregates", async () => {
    const { store, writer } = await newStore();
    await writer.stop();
    const put = store.sqlite.prepare(
      "INSERT INTO report_day_summaries (tunnel_id, day_start_ms, basis, built_ms, body) VALUES (?, ?, 'b', ?, '{}')",
    );
    put.run('t-old', T0 - 402 * DAY, NOW - 401 * DAY);
    put.run('t-new', T0 - 2 * DAY, NOW - 2 * DAY);
    const retention = createRetention(config({ stepRows: 500, maxStepsPerRun: 100 }), {
      runner: runnerOn(store),
      clock: () => NOW,
    });
    expect((await retention.runOnce()).deletedBuckets).toBe(1);
    const left = store.sqlite.prepare('SELECT tunnel_id AS t FROM report_day_summaries').all() as Array<{
      t: string;
    }>;
    expect(left).toEqual([{ t: 't-new' }]);
    await store.close();
  });

  test('steps of stepRows = 100 over 10,000 rows never touch more than 100 rows, while ingest goes on', async () => {
    const { store, writer } = await newStore();
    const rows = deltas(7);
    await submitAll(writer, rows, [], NOW - 31 * DAY);
    const results: RetentionStepResult[] = [];
    const runner = {
      retentionStep: async (step: RetentionStep) => {
        const r = await writer.retentionStep(step);
        results.push(r);
        return r;
      },
    };
    const retention = createRetention(config({ stepRows: 100, maxStepsPerRun: 10 }), {
      runner,
      clock: () => NOW,
    });
    // Ingest of fresh minutes between (and queued behind) the steps, through the same writer.
    const fresh = deltas(8, T0 + 40 * DAY, 60);
    let submitted = 0;
    let runs = 0;
    while (runs < 200) {
      runs += 1;
      const run = retention.runOnce();
      if (submitted < fresh.length) {
        writer.submit({ tunnelBuckets: fresh.slice(submitted, submitted + 200), receivedMs: NOW });
        submitted += 200;
      }
      const r = await run;
      if (r.rolledUpBuckets === 0 && submitted >= fresh.length) break;
    }
    await writer.flush();
    expect(results.length).toBeGreaterThanOrEqual(100);
    for (const r of results)
      expect((r.rolledUpBuckets ?? 0) + (r.deletedBuckets ?? 0)).toBeLessThanOrEqual(100);
    expect(results.reduce((n, r) => n + (r.rolledUpBuckets ?? 0), 0)).toBe(rows.length);
    expect(storedHours(store)).toEqual(expectedHours(rows));
    // The fresh minutes, received "now", are all there per minute.
    expect(count(store, 'tunnel_buckets')).toBe(fresh.length);
    await writer.stop();
    await store.close();
  });

  test('a rollup stopped after one step (the process killed) and restarted gives exact sums', async () => {
    const { store, writer, path } = await newStore();
    const rows = deltas(9);
    await submitAll(writer, rows, exporterDeltas(10), NOW - 31 * DAY);
    await writer.stop();
    const settings = config({ stepRows: 100, maxStepsPerRun: 1 });
    const first = createRetention(settings, { runner: runnerOn(store), clock: () => NOW });
    expect((await first.runOnce()).rolledUpBuckets).toBe(100);
    // Hour rows hold part of their minutes; the rest are still minute rows.
    expect(count(store, 'tunnel_buckets')).toBe(rows.length - 100);
    await store.close();

    const reopened = await openSqliteStore({ path });
    const again = createRetention(config({ stepRows: 1000, maxStepsPerRun: 100 }), {
      runner: runnerOn(reopened),
      clock: () => NOW,
    });
    await again.runOnce();
    expect(count(reopened, 'tunnel_buckets')).toBe(0);
    expect(storedHours(reopened)).toEqual(expectedHours(rows));
    await reopened.close();
  });

  test('kill -9 of a process in the middle of a rollup: the database is whole, the resumed rollup exact', async () => {
    const { store, writer, path } = await newStore();
    const rows = deltas(14);
    await submitAll(writer, rows, exporterDeltas(15), NOW - 31 * DAY);
    await writer.stop();
    await store.close();
    const expectedPackets = rows.reduce((n, d) => n + d.packets, 0);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'rollup-child.ts'), path, String(NOW), '50'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let steps = 0;
    let done = false;
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        steps += chunk.split('\n').filter((l) => l.startsWith('step')).length;
        if (chunk.includes('done')) done = true;
        // Killed while steps are being committed, well before the end (10,000 rows / 50).
        if (steps >= 20) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    expect(done).toBe(false);
    const reopened = await openSqliteStore({ path });
    expect(reopened.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    const minutesLeft = count(reopened, 'tunnel_buckets');
    expect(minutesLeft).toBeGreaterThan(0);
    expect(minutesLeft).toBeLessThan(rows.length);
    // Every packet is in exactly one place: a minute row or its hour, never both.
    const packets = (table: string) =>
      reopened.sqlite.prepare<[], { n: number }>(`SELECT sum(packets) AS n FROM ${table}`).get()!.n ?? 0;
    expect(packets('tunnel_buckets') + packets('tunnel_buckets_hourly')).toBe(expectedPackets);
    const again = createRetention(config({ stepRows: 1000, maxStepsPerRun: 100 }), {
      runner: runnerOn(reopened),
      clock: () => NOW,
    });
    await again.runOnce();
    expect(count(reopened, 'tunnel_buckets')).toBe(0);
    expect(storedHours(reopened)).toEqual(expectedHours(rows));
    await reopened.close();
  });

  test('a late minute for an hour already rolled up is rolled into it in turn', async () => {
    const { store, writer } = await newStore();
    const rows = deltas(11, T0, 60);
    await submitAll(writer, rows, [], NOW - 31 * DAY);
    const retention = createRetention(config(), { runner: writer, clock: () => NOW });
    await retention.runOnce();
    expect(count(store, 'tunnel_buckets')).toBe(0);
    // The same hour again (a second capture of it), received later.
    const late = deltas(12, T0, 60);
    await submitAll(writer, late, [], NOW);
    const reader = createTunnelReader(store.db);
    const mixed = await reader.loadBuckets('t1', T0, T0 + ROLLUP_BUCKET_MS);
    expect(mixed.filter((b) => b.spanMs === ROLLUP_BUCKET_MS)).toHaveLength(4);
    expect(mixed.filter((b) => b.spanMs === undefined)).toHaveLength(4 * 60);
    // The raw-mode reader (what run, report and the API use) reads the same rows, in order.
    const raw = store.tunnelReader;
    expect(await raw.loadBuckets('t1', T0, T0 + ROLLUP_BUCKET_MS)).toEqual(mixed);
    expect(await raw.loadBuckets(null, T0 - DAY, T0 + DAY)).toEqual(
      await reader.loadBuckets(null, T0 - DAY, T0 + DAY),
    );
    const laterRun = createRetention(config(), { runner: writer, clock: () => NOW + 31 * DAY });
    await laterRun.runOnce();
    expect(count(store, 'tunnel_buckets')).toBe(0);
    expect(storedHours(store)).toEqual(expectedHours([...rows, ...late]));
    await writer.stop();
    await store.close();
  });

  test('no rollup when the bucket size does not tile an hour, or rollupAfterMs is null', async () => {
    const { store, writer } = await newStore();
    await submitAll(writer, deltas(13, T0, 10), [], NOW - 31 * DAY);
    await writer.stop();
    for (const [settings, bucketMs] of [
      [config(), 7 * MINUTE],
      [config({ rollupAfterMs: null }), MINUTE],
    ] as const) {
      const retention = createRetention(settings, { runner: runnerOn(store), clock: () => NOW, bucketMs });
      expect((await retention.runOnce()).rolledUpBuckets).toBe(0);
    }
    expect(count(store, 'tunnel_buckets')).toBe(4 * 2 * 2 * 10);
    await store.close();
  });

  test('rows stored before the migration count as received when it ran: nothing is rolled up early', async () => {
    counter += 1;
    const path = tmp.path(`rollup-${counter}.db`);
    const sqlite = openConnection(parseStoreConfig({ path }));
    const db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
    // The migrations written before the rollups one.
    const older = Object.fromEntries(
      Object.entries(migrations).filter(([name]) => name < '20261207010000-bucket-rollups'),
    );
    await migrateToLatest(db, { getMigrations: async () => older });
    sqlite
      .prepare(
        `INSERT INTO tunnel_buckets (tunnel_id, bucket_start_ms, direction, exporter, domain_id, packets)
         VALUES ('t1', ?, 'a-b', '192.0.2.1', 0, 5)`,
      )
      .run(T0 - 90 * DAY);
    sqlite
      .prepare(
        `INSERT INTO exporter_buckets (exporter, domain_id, bucket_start_ms, records, datagrams, issues, sequence_gaps)
         VALUES ('192.0.2.1', 0, ?, 1, 1, 0, 0)`,
      )
      .run(T0 - 90 * DAY);
    await db.destroy();
    const before = Date.now();
    const store = await openSqliteStore({ path });
    const after = Date.now();
    for (const table of ['tunnel_buckets', 'exporter_buckets']) {
      const { r } = store.sqlite.prepare<[], { r: number }>(`SELECT received_ms AS r FROM ${table}`).get()!;
      expect(r).toBeGreaterThanOrEqual(before);
      expect(r).toBeLessThanOrEqual(after);
    }
    const at = (nowMs: number) =>
      createRetention(config(), { runner: runnerOn(store), clock: () => nowMs }).runOnce();
    expect((await at(after + 29 * DAY)).rolledUpBuckets).toBe(0);
    expect((await at(after + 31 * DAY)).rolledUpBuckets).toBe(2);
    expect(count(store, 'tunnel_buckets_hourly')).toBe(1);
    await store.close();
  });
});

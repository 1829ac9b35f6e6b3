// store/postgres/retention-step.ts on a real PostgreSQL server (npm run test:postgres): raw
// flows go by whole day partitions (by age per retention class, and oldest first under the
// size cap), bucket aggregates are rolled up into hours with sums equal to the minutes' and
// deleted by age, each step bounded, and two collectors may run steps at once.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { ROLLUP_BUCKET_MS } from '../../model/tunnel-bucket.js';
import type { Database } from '../../store/database.js';
import { migrateToLatest } from '../../store/migrate.js';
import { openPostgres } from '../../store/postgres/connection.js';
import type { PostgresConnection } from '../../store/postgres/connection.js';
import { listFlowDayPartitions, runPostgresRetentionStep } from '../../store/postgres/retention-step.js';
import type { RetentionStep } from '../../store/retention-step.js';
import { tunnelBucketCounterColumns } from '../../store/tunnels/tunnel-bucket.table.js';
import { createFreshDatabase } from './fresh-database.js';
import type { FreshDatabase } from './fresh-database.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const HOUR_MS = ROLLUP_BUCKET_MS;
/** The fake "now" of every step: 2026-12-07 12:00 UTC. */
const NOW = Date.UTC(2026, 11, 7, 12);
/** The start of the day NOW falls in, and of the days before it. */
const TODAY = Date.UTC(2026, 11, 7);
const day = (n: number) => TODAY - n * DAY_MS;

type FlowClass = 'flows_other' | 'flows_tunnel';

let fresh: FreshDatabase;
let connection: PostgresConnection<Database>;
let db: Kysely<Database>;

beforeAll(async () => {
  fresh = await createFreshDatabase('t_retention');
  connection = await openPostgres<Database>({ url: fresh.url });
  db = connection.db;
  await migrateToLatest(db);
});

afterAll(async () => {
  await connection?.close();
  await fresh?.drop();
});

beforeEach(async () => {
  for (const p of await listFlowDayPartitions(db)) await sql`DROP TABLE ${sql.id(p.name)}`.execute(db);
  await sql`TRUNCATE tunnel_buckets, tunnel_buckets_hourly, exporter_buckets, exporter_buckets_hourly,
    report_day_summaries, reports`.execute(db);
});

/** A step that does nothing but what the test sets. */
function step(overrides: Partial<RetentionStep>): RetentionStep {
  return { otherCutoffMs: 0, tunnelCutoffMs: 0, maxDatabaseBytes: null, stepRows: 10_000, ...overrides };
}

function partitionName(parent: FlowClass, dayMs: number): string {
  return `${parent}_d${new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** A day partition made with plain SQL (the writer's flow-partitions.ts does the same), with `rows` flows in it. */
async function dayWithFlows(parent: FlowClass, dayMs: number, rows: number): Promise<string> {
  const name = partitionName(parent, dayMs);
  await sql`CREATE TABLE ${sql.id(name)} PARTITION OF ${sql.id(parent)}
    FOR VALUES FROM (${sql.lit(dayMs)}) TO (${sql.lit(dayMs + DAY_MS)})`.execute(db);
  const kind = parent === 'flows_other' ? 'other' : 'esp';
  await sql`
    INSERT INTO flows (exporter, domain_id, version, received_ms, start_ms, end_ms, ip_version, src, dst,
      proto, packets, octets, raw_packets, raw_octets, sampling_rate, kind)
    SELECT '192.0.2.1', 0, 10, ${dayMs}::bigint + g * 1000, ${dayMs}::bigint + g * 1000 - 500, ${dayMs}::bigint + g * 1000, 4,
      '10.0.0.1', '10.0.0.2', 50, 1, 100, 1, 100, 1, ${kind}
    FROM generate_series(0, ${rows - 1}) AS g`.execute(db);
  return name;
}

async function partitionNames(): Promise<string[]> {
  return (await listFlowDayPartitions(db)).map((p) => p.name).sort();
}

describe('raw flows: whole day partitions', () => {
  test('a day partition goes when its whole day is past its class cutoff; one that straddles it stays', async () => {
    const other3 = await dayWithFlows('flows_other', day(3), 5);
    const other2 = await dayWithFlows('flows_other', day(2), 7);
    const other1 = await dayWithFlows('flows_other', day(1), 3);
    const otherToday = await dayWithFlows('flows_other', day(0), 2);
    const tunnel3 = await dayWithFlows('flows_tunnel', day(3), 11);
    const tunnel2 = await dayWithFlows('flows_tunnel', day(2), 13);
    const tunnelToday = await dayWithFlows('flows_tunnel', day(0), 1);

    const result = await runPostgresRetentionStep(
      db,
      // `other`: day -1 straddles its cutoff (noon of day -1). Tunnel kinds: day -3 ends
      // exactly at the cutoff (the start of day -2), so it goes and day -2 stays.
      step({ otherCutoffMs: day(1) + 12 * HOUR_MS, tunnelCutoffMs: day(2) }),
      NOW,
    );

    expect(result).toEqual({
      deletedByAge: 5 + 7 + 11,
      deletedBySize: 0,
      rolledUpBuckets: 0,
      deletedBuckets: 0,
      more: false,
    });
    expect(await partitionNames()).toEqual([other1, otherToday, tunnel2, tunnelToday].sort());
    expect(await partitionNames()).not.toContain(other3);
    expect(await partitionNames()).not.toContain(other2);
    expect(await partitionNames()).not.toContain(tunnel3);
    const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM flows`.execute(db);
    expect(rows).toEqual([{ n: 3 + 2 + 13 + 1 }]);
    // Nothing more is due: the next step drops nothing.
    expect(
      await runPostgresRetentionStep(
        db,
        step({ otherCutoffMs: day(1) + 12 * HOUR_MS, tunnelCutoffMs: day(2) }),
        NOW,
      ),
    ).toMatchObject({ deletedByAge: 0, more: false });
  });

  test('a step drops its oldest due partition, then more only while the rows counted stay under stepRows', async () => {
    const p4 = await dayWithFlows('flows_other', day(4), 3);
    const p3 = await dayWithFlows('flows_other', day(3), 3);
    const p2 = await dayWithFlows('flows_other', day(2), 0);
    const p1 = await dayWithFlows('flows_other', day(1), 0);
    const bounded = step({ otherCutoffMs: day(0), stepRows: 2 });

    expect(await runPostgresRetentionStep(db, bounded, NOW)).toMatchObject({ deletedByAge: 3, more: true });
    expect(await partitionNames()).toEqual([p1, p2, p3].sort());
    expect(await runPostgresRetentionStep(db, bounded, NOW)).toMatchObject({ deletedByAge: 3, more: true });
    expect(await partitionNames()).toEqual([p1, p2].sort());
    // Empty partitions cost nothing of the budget: both go in one step.
    expect(await runPostgresRetentionStep(db, bounded, NOW)).toMatchObject({ deletedByAge: 0, more: false });
    expect(await partitionNames()).toEqual([]);
    expect(p4).toBe('flows_other_d20261203');
  });

  test('the size cap drops the oldest day partition of either class, one per step, never the current day', async () => {
    const tunnel3 = await dayWithFlows('flows_tunnel', day(3), 4);
    const other2 = await dayWithFlows('flows_other', day(2), 6);
    const tunnel1 = await dayWithFlows('flows_tunnel', day(1), 8);
    const otherToday = await dayWithFlows('flows_other', day(0), 10);
    const tunnelToday = await dayWithFlows('flows_tunnel', day(0), 1);
    const { rows } = await sql<{
      bytes: number;
    }>`SELECT pg_database_size(current_database()) AS bytes`.execute(db);
    const size = rows[0]!.bytes;

    // Under the cap nothing goes.
    expect(await runPostgresRetentionStep(db, step({ maxDatabaseBytes: size * 2 }), NOW)).toMatchObject({
      deletedBySize: 0,
      more: false,
    });
    expect(await partitionNames()).toHaveLength(5);

    // A cap no database meets: the oldest first, one per step, until only today is left.
    const capped = step({ maxDatabaseBytes: 1 });
    expect(await runPostgresRetentionStep(db, capped, NOW)).toMatchObject({
      deletedBySize: 4,
      deletedByAge: 0,
      more: true,
    });
    expect(await partitionNames()).toEqual([other2, tunnel1, otherToday, tunnelToday].sort());
    expect(await runPostgresRetentionStep(db, capped, NOW)).toMatchObject({ deletedBySize: 6, more: true });
    expect(await runPostgresRetentionStep(db, capped, NOW)).toMatchObject({ deletedBySize: 8, more: true });
    expect(await partitionNames()).toEqual([otherToday, tunnelToday].sort());
    expect(await runPostgresRetentionStep(db, capped, NOW)).toMatchObject({ deletedBySize: 0, more: false });
    expect(await partitionNames()).toEqual([otherToday, tunnelToday].sort());
    expect(tunnel3).toBe('flows_tunnel_d20261204');
  });

  test('the files of a dropped partition are gone once the step commits: the database shrinks', async () => {
    await dayWithFlows('flows_tunnel', day(2), 50_000);
    const size = async () =>
      (await sql<{ bytes: number }>`SELECT pg_database_size(current_database()) AS bytes`.execute(db))
        .rows[0]!.bytes;
    const before = await size();
    expect(await runPostgresRetentionStep(db, step({ maxDatabaseBytes: before - 1 }), NOW)).toMatchObject({
      deletedBySize: 50_000,
    });
    expect(await size()).toBeLessThan(before - 2_000_000);
  });

  test('when age drops partitions and the size is still over the cap, the cap waits for the next step', async () => {
    await dayWithFlows('flows_other', day(3), 2);
    const tunnel2 = await dayWithFlows('flows_tunnel', day(2), 3);
    expect(
      await runPostgresRetentionStep(db, step({ otherCutoffMs: day(0), maxDatabaseBytes: 1 }), NOW),
    ).toMatchObject({ deletedByAge: 2, deletedBySize: 0, more: true });
    expect(await partitionNames()).toEqual([tunnel2]);
    expect(
      await runPostgresRetentionStep(db, step({ otherCutoffMs: day(0), maxDatabaseBytes: 1 }), NOW),
    ).toMatchObject({ deletedByAge: 0, deletedBySize: 3, more: true });
  });

  test('a drop that cannot get its lock in time gives up for this step; the bucket work still commits', async () => {
    const old = await dayWithFlows('flows_other', day(3), 2);
    await insertTunnelMinutes(4, day(40));
    const other = await openPostgres<Database>({ url: fresh.url, maxConnections: 1 });
    try {
      await other.db.transaction().execute(async (trx) => {
        // A long reader of the old partition.
        await sql`LOCK TABLE ${sql.id(old)} IN ACCESS SHARE MODE`.execute(trx);
        const result = await runPostgresRetentionStep(
          db,
          step({ otherCutoffMs: day(0), bucketRollupCutoffMs: day(30) }),
          NOW,
          { partitionLockTimeoutMs: 200 },
        );
        expect(result).toMatchObject({ deletedByAge: 0, rolledUpBuckets: 16, more: false });
      });
    } finally {
      await other.close();
    }
    expect(await partitionNames()).toEqual([old]);
    expect(await countRows('tunnel_buckets')).toBe(0);
    // Once the reader is done, the next step drops it.
    expect(await runPostgresRetentionStep(db, step({ otherCutoffMs: day(0) }), NOW)).toMatchObject({
      deletedByAge: 2,
    });
  });
});

const TUNNEL_SUMMED = tunnelBucketCounterColumns.filter((c) => c !== 'carried_in');

/**
 * `minutes` minute rows per tunnel (two tunnels, two directions) from `startMs` (an hour start),
 * received a minute after their bucket; every counter a different deterministic number.
 */
async function insertTunnelMinutes(minutes: number, startMs: number): Promise<number> {
  const rows = [];
  let n = 0;
  for (const tunnel of ['t1', 't2']) {
    for (const direction of ['a-b', 'b-a']) {
      for (let m = 0; m < minutes; m++) {
        n += 1;
        const bucketStart = startMs + m * MINUTE_MS;
        const row: Record<string, unknown> = {
          tunnel_id: tunnel,
          bucket_start_ms: bucketStart,
          direction,
          exporter: '192.0.2.1',
          domain_id: 0,
          received_ms: bucketStart + MINUTE_MS,
        };
        tunnelBucketCounterColumns.forEach((c, i) => (row[c] = (n * 31 + i * 7) % 1000));
        // Past 2^32: the sums must stay exact integers.
        row['octets'] = 2 ** 33 + n;
        rows.push(row);
      }
    }
  }
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto('tunnel_buckets')
      .values(rows.slice(i, i + 500) as never)
      .execute();
  }
  return rows.length;
}

async function insertExporterMinutes(minutes: number, startMs: number): Promise<void> {
  const rows = [];
  for (let m = 0; m < minutes; m++) {
    const bucketStart = startMs + m * MINUTE_MS;
    // Every fifth minute is empty: it does not count as an active bucket.
    const empty = m % 5 === 4;
    rows.push({
      exporter: '192.0.2.1',
      domain_id: 0,
      bucket_start_ms: bucketStart,
      records: empty ? 0 : m + 1,
      datagrams: empty ? 0 : 2,
      issues: m % 3,
      sequence_gaps: m % 2,
      received_ms: bucketStart + MINUTE_MS,
    });
  }
  await db.insertInto('exporter_buckets').values(rows).execute();
}

async function countRows(table: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db);
  return rows[0]!.n;
}

/** The minutes summed per hour in JavaScript, as the hour rows must hold them. */
async function expectedTunnelHours(): Promise<Map<string, Record<string, number>>> {
  const minutes = await db.selectFrom('tunnel_buckets').selectAll().execute();
  const hours = new Map<string, Record<string, number>>();
  for (const m of minutes) {
    const hour = m.bucket_start_ms - (m.bucket_start_ms % HOUR_MS);
    const key = `${m.tunnel_id}|${hour}|${m.direction}|${m.exporter}|${m.domain_id}`;
    const sums =
      hours.get(key) ?? Object.fromEntries([...tunnelBucketCounterColumns, 'received_ms'].map((c) => [c, 0]));
    for (const c of TUNNEL_SUMMED) sums[c]! += m[c];
    if (m.bucket_start_ms === hour) sums['carried_in']! += m.carried_in;
    sums['received_ms'] = Math.max(sums['received_ms']!, m.received_ms);
    hours.set(key, sums);
  }
  return hours;
}

async function storedTunnelHours(): Promise<Map<string, Record<string, number>>> {
  const rows = await db.selectFrom('tunnel_buckets_hourly').selectAll().execute();
  return new Map(
    rows.map((r) => [
      `${r.tunnel_id}|${r.bucket_start_ms}|${r.direction}|${r.exporter}|${r.domain_id}`,
      Object.fromEntries(
        [...tunnelBucketCounterColumns, 'received_ms'].map((c) => [c, r[c as keyof typeof r] as number]),
      ),
    ]),
  );
}

describe('bucket aggregates', () => {
  test('minutes received before the rollup cutoff are summed into their hours and deleted, in bounded steps', async () => {
    // 150 minutes (hours 0, 1 and half of 2) per series, 600 rows; all old.
    const total = await insertTunnelMinutes(150, day(40));
    await insertExporterMinutes(150, day(40));
    const expected = await expectedTunnelHours();
    // A young minute, received after the cutoff: it stays.
    await db
      .insertInto('tunnel_buckets')
      .values({
        tunnel_id: 't1',
        bucket_start_ms: day(1),
        direction: 'a-b',
        exporter: 'x',
        domain_id: 0,
        packets: 9,
        received_ms: day(1),
      } as never)
      .execute();

    let rolled = 0;
    let steps = 0;
    for (;;) {
      const result = await runPostgresRetentionStep(
        db,
        step({ bucketRollupCutoffMs: day(30), stepRows: 128 }),
        NOW,
      );
      steps += 1;
      rolled += result.rolledUpBuckets ?? 0;
      expect(result.rolledUpBuckets).toBeLessThanOrEqual(128);
      if (!result.more) break;
    }
    expect(rolled).toBe(total + 150);
    expect(steps).toBe(Math.ceil((total + 150) / 128));
    expect(await storedTunnelHours()).toEqual(expected);
    expect(expected.size).toBe(4 * 3);
    const left = await db.selectFrom('tunnel_buckets').select(['tunnel_id', 'packets']).execute();
    expect(left).toEqual([{ tunnel_id: 't1', packets: 9 }]);

    const exporterHours = await db
      .selectFrom('exporter_buckets_hourly')
      .select([
        'bucket_start_ms',
        'records',
        'datagrams',
        'issues',
        'sequence_gaps',
        'active_buckets',
        'received_ms',
      ])
      .orderBy('bucket_start_ms')
      .execute();
    const hourOf = (h: number) => {
      const ms = Array.from({ length: 150 }, (_, m) => m).filter((m) => Math.floor(m / 60) === h);
      const live = ms.filter((m) => m % 5 !== 4);
      return {
        bucket_start_ms: day(40) + h * HOUR_MS,
        records: live.reduce((s, m) => s + m + 1, 0),
        datagrams: live.length * 2,
        issues: ms.reduce((s, m) => s + (m % 3), 0),
        sequence_gaps: ms.reduce((s, m) => s + (m % 2), 0),
        active_buckets: live.length,
        received_ms: day(40) + (ms.at(-1)! + 1) * MINUTE_MS,
      };
    };
    expect(exporterHours).toEqual([hourOf(0), hourOf(1), hourOf(2)]);
    expect(await countRows('exporter_buckets')).toBe(0);
  });

  test('a minute arriving late for an hour already rolled up is added into that hour', async () => {
    await insertTunnelMinutes(60, day(40));
    const first = await expectedTunnelHours();
    await runPostgresRetentionStep(db, step({ bucketRollupCutoffMs: day(30) }), NOW);
    // The same minutes again (as a late delta would be), then rolled up too.
    await insertTunnelMinutes(60, day(40));
    await runPostgresRetentionStep(db, step({ bucketRollupCutoffMs: day(30) }), NOW);
    const doubled = new Map(
      [...first].map(([k, v]) => [
        k,
        Object.fromEntries(Object.entries(v).map(([c, x]) => [c, c === 'received_ms' ? x : 2 * x])),
      ]),
    );
    expect(await storedTunnelHours()).toEqual(doubled);
  });

  test('aggregates past their age go, native and hourly, with the day summaries built before the cutoff', async () => {
    await insertTunnelMinutes(120, day(500));
    await runPostgresRetentionStep(db, step({ bucketRollupCutoffMs: day(500) + 61 * MINUTE_MS }), NOW);
    // 4 series × the first hour rolled up, the second hour still minutes.
    expect(await countRows('tunnel_buckets_hourly')).toBe(4);
    expect(await countRows('tunnel_buckets')).toBe(4 * 60);
    await insertExporterMinutes(10, day(500));
    await db
      .insertInto('report_day_summaries')
      .values([
        { tunnel_id: 't1', day_start_ms: day(500), basis: 'b', built_ms: day(499), body: '{}' },
        { tunnel_id: 't1', day_start_ms: day(2), basis: 'b', built_ms: day(1), body: '{}' },
      ])
      .execute();
    const result = await runPostgresRetentionStep(db, step({ bucketAggregateCutoffMs: day(400) }), NOW);
    expect(result).toMatchObject({ deletedBuckets: 4 * 60 + 4 + 10 + 1, rolledUpBuckets: 0, more: false });
    expect(await countRows('tunnel_buckets')).toBe(0);
    expect(await countRows('tunnel_buckets_hourly')).toBe(0);
    expect(await countRows('exporter_buckets')).toBe(0);
    expect(await db.selectFrom('report_day_summaries').select('day_start_ms').execute()).toEqual([
      { day_start_ms: day(2) },
    ]);
  });

  test('exporter buckets by bucket start, stored reports by generation time, both bounded', async () => {
    await insertExporterMinutes(5, day(20));
    await insertExporterMinutes(3, day(5));
    const report = (generatedMs: number) => ({
      policy: 'p',
      trigger: 'scheduled',
      period_from_ms: 0,
      period_to_ms: 1,
      generated_ms: generatedMs,
      tunnels: 1,
      breaching: 0,
      body: '{}',
    });
    await db
      .insertInto('reports')
      .values([report(day(100)), report(day(90)), report(day(1))])
      .execute();
    const bounded = step({ exporterBucketCutoffMs: day(10), reportCutoffMs: day(30), stepRows: 3 });
    expect(await runPostgresRetentionStep(db, bounded, NOW)).toMatchObject({ deletedBuckets: 3, more: true });
    expect(await runPostgresRetentionStep(db, bounded, NOW)).toMatchObject({
      deletedBuckets: 2,
      more: false,
    });
    expect(await countRows('exporter_buckets')).toBe(3);
    expect(await db.selectFrom('reports').select('generated_ms').execute()).toEqual([
      { generated_ms: day(1) },
    ]);
  });
});

describe('two collectors on one database', () => {
  test('steps run at once from two pools: every partition dropped once, every minute rolled up once', async () => {
    const sizes = [3, 5, 7, 9];
    for (const [i, n] of sizes.entries()) await dayWithFlows('flows_tunnel', day(10 - i), n);
    const total = await insertTunnelMinutes(300, day(40));
    const expected = await expectedTunnelHours();
    const second = await openPostgres<Database>({ url: fresh.url });
    try {
      const work = step({ tunnelCutoffMs: day(0), bucketRollupCutoffMs: day(30), stepRows: 100 });
      const drain = async (on: Kysely<Database>) => {
        let byAge = 0;
        let rolled = 0;
        for (let i = 0; i < 100; i++) {
          const r = await runPostgresRetentionStep(on, work, NOW);
          byAge += r.deletedByAge;
          rolled += r.rolledUpBuckets ?? 0;
          if (!r.more) break;
        }
        return { byAge, rolled };
      };
      const [a, b] = await Promise.all([drain(db), drain(second.db)]);
      expect(a.byAge + b.byAge).toBe(sizes.reduce((s, n) => s + n, 0));
      expect(a.rolled + b.rolled).toBe(total);
    } finally {
      await second.close();
    }
    expect(await partitionNames()).toEqual([]);
    expect(await storedTunnelHours()).toEqual(expected);
  });

  test('a writer adding deltas into the minutes while they are rolled up loses nothing and counts nothing twice', async () => {
    await insertTunnelMinutes(240, day(40));
    const packets = async () => {
      const { rows } = await sql<{ n: number }>`
        SELECT (SELECT coalesce(sum(packets), 0) FROM tunnel_buckets) + (SELECT coalesce(sum(packets), 0) FROM tunnel_buckets_hourly) AS n`.execute(
        db,
      );
      return rows[0]!.n;
    };
    const before = await packets();
    const writer = await openPostgres<Database>({ url: fresh.url, maxConnections: 2 });
    const DELTAS = 400;
    try {
      // The writer's additive upsert (received now, so the row it lands in is young), in small
      // transactions of several minutes each, against steps of 50 rows.
      const write = async () => {
        for (let i = 0; i < DELTAS; i += 4) {
          await writer.db.transaction().execute(async (trx) => {
            for (let j = i; j < i + 4; j++) {
              await sql`
                INSERT INTO tunnel_buckets (tunnel_id, bucket_start_ms, direction, exporter, domain_id, packets, received_ms)
                VALUES (${j % 2 === 0 ? 't1' : 't2'}, ${day(40) + ((j * 37) % 240) * MINUTE_MS}, 'a-b', '192.0.2.1', 0, 1, ${NOW})
                ON CONFLICT (tunnel_id, bucket_start_ms, direction, exporter, domain_id) DO UPDATE SET
                  packets = tunnel_buckets.packets + excluded.packets,
                  received_ms = greatest(tunnel_buckets.received_ms, excluded.received_ms)`.execute(trx);
            }
          });
        }
      };
      const roll = async () => {
        let rolled = 0;
        for (let i = 0; i < 100; i++) {
          const r = await runPostgresRetentionStep(
            db,
            step({ bucketRollupCutoffMs: day(30), stepRows: 50 }),
            NOW,
          );
          rolled += r.rolledUpBuckets ?? 0;
          if (!r.more) break;
        }
        return rolled;
      };
      const [, rolled] = await Promise.all([write(), roll()]);
      expect(rolled).toBeGreaterThan(0);
    } finally {
      await writer.close();
    }
    expect(await packets()).toBe(before + DELTAS);
    // Whatever the writer made young stays a minute row; everything else is rolled up.
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*) AS n FROM tunnel_buckets WHERE received_ms < ${day(30)}`.execute(db);
    expect(rows).toEqual([{ n: 0 }]);
  });
});

// PostgresSink on the real server of `npm run test:postgres`, with SqliteSink as the oracle:
// the corpus' d_loss captures decoded and normalized datagram by datagram (the collector's
// path), encoded as the flow writer does, applied to both engines, and read back with the
// repository functions the API and the reports use.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseNormalizeConfig } from '../../collector/normalize/config.js';
import { createNormalizer } from '../../collector/normalize/normalizer.js';
import type { NormalizedFlow } from '../../model/flow.js';
import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import type { Database } from '../../store/database.js';
import { listExporterBuckets } from '../../store/exporter-buckets/exporter-bucket-repository.js';
import { loadExporterCounters } from '../../store/exporters/exporter-repository.js';
import { queryFlows, sqlFlowReader } from '../../store/flows/flow-repository.js';
import type { FlowReader } from '../../store/flows/flow-repository.js';
import { readMaxFlowDuration } from '../../store/meta/store-meta-repository.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { SqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { openPostgres } from '../../store/postgres/connection.js';
import type { PostgresConnection } from '../../store/postgres/connection.js';
import {
  ensureFlowPartitions,
  flowPartitionName,
  forgetFlowPartitions,
} from '../../store/postgres/flow-partitions.js';
import { FLOW_ROWS_PER_STATEMENT, PostgresSink } from '../../store/postgres/pg-sink.js';
import type { SinkBatch } from '../../store/postgres/pg-sink.js';
import { loadCollectorState } from '../../store/state/collector-state-repository.js';
import { loadTemplates } from '../../store/templates/template-repository.js';
import { createTunnelReader, loadBuckets } from '../../store/tunnels/tunnel-repository.js';
import { encodeFlows, FlowBatchEncoder } from '../../store/writer/flow-batch-codec.js';
import { sealStoreBatch } from '../../store/writer/sealed-state.js';
import type { StoreBatch } from '../../store/writer/store-batch.js';
import { SqliteSink } from '../../store/sqlite/sqlite-sink.js';
import type { SinkResult } from '../../store/writer/messages.js';
import { decodedBatchesFor } from '../normalize/decoded-flows.js';
import { tempDir } from '../store/temp-store.js';
import { createDatabase } from '../helpers/test-store.js';
import { migrateToLatest } from '../../store/migrate.js';

const TX = '192.0.2.140';
const RX = '198.51.100.150';
const FAR = { from: 0, to: Date.UTC(2100, 0, 1) };

const tmp = tempDir();
let oracle: SqliteStore;
let pgConnection: PostgresConnection<Database> & { url: string };
let pg: Kysely<Database>;

/** An empty SQLite store and its sink. */
async function sqliteStore(name: string): Promise<{ store: SqliteStore; sink: SqliteSink }> {
  const store = await openSqliteStore({ path: tmp.path(`${name}.db`) });
  return { store, sink: new SqliteSink(store.sqlite) };
}

/** A fresh PostgreSQL database with the schema (its URL is `url`, for a second pool). */
async function pgDatabase(name: string): Promise<PostgresConnection<Database> & { url: string }> {
  const url = await createDatabase(name);
  const connection = await openPostgres<Database>({ url });
  await migrateToLatest(connection.db);
  return { ...connection, close: () => connection.close(), url };
}

/**
 * The d_loss tx and rx captures as the collector writes them: one normalizer over both
 * exporters' datagrams, each datagram's flows and state one writer batch (flows encoded by
 * FlowBatchEncoder, state sealed by sealStoreBatch), with exporter counters, completeness
 * rows, a template and a collector document every few datagrams.
 */
function corpusBatches(): SinkBatch[] {
  const normalizer = createNormalizer(
    parseNormalizeConfig({
      observationPoints: [
        { exporter: TX, near: TX },
        { exporter: RX, near: RX },
      ],
    }),
  );
  const datagrams = [
    ...decodedBatchesFor('d_loss_v4_tx', 'pmacct_ipfix', { exporterAddress: TX }),
    ...decodedBatchesFor('d_loss_v4_rx', 'pmacct_ipfix', { exporterAddress: RX }),
  ].filter((records) => records.length > 0);
  const batches: SinkBatch[] = [];
  let datagramCount = 0;
  for (const records of datagrams) {
    const result = normalizer.process(records);
    datagramCount += 1;
    const encoder = new FlowBatchEncoder(16);
    for (const flow of result.flows) encoder.add(flow);
    // Capture times have microseconds; the collector's clock (Date.now()) gives whole ms.
    const receivedMs = Math.round(Math.max(...result.flows.map((f) => f.receivedMs)));
    const first = result.flows[0]!;
    const firstMs = Math.round(first.receivedMs);
    const minute = firstMs - (firstMs % 60_000);
    const state: StoreBatch = {
      tunnels: result.tunnels,
      sas: result.sas,
      tunnelBuckets: result.buckets,
      receivedMs,
      exporterBuckets: [
        {
          exporter: first.exporter,
          domainId: first.domainId,
          bucketStartMs: minute,
          records: result.flows.length,
          datagrams: 1,
          issues: 0,
          sequenceGaps: datagramCount % 5 === 0 ? 1 : 0,
        },
      ],
      exporters: [
        {
          exporter: first.exporter,
          domainId: first.domainId,
          version: 10,
          datagrams: datagramCount,
          records: datagramCount * 3,
          templates: 1,
          optionsRecords: 0,
          malformed: 0,
          missingTemplateRecords: 0,
          sequenceGaps: Math.floor(datagramCount / 5),
          dropped: 0,
          issues: { truncated: datagramCount % 3 },
          firstSeenMs: firstMs,
          lastSeenMs: receivedMs,
        },
      ],
      ...(datagramCount % 4 === 1
        ? {
            saveTemplates: [
              {
                exporter: first.exporter,
                domainId: first.domainId,
                templateId: 256 + (datagramCount % 3),
                version: 10,
                body: { fields: [datagramCount] },
                updatedMs: receivedMs,
              },
            ],
            collectorState: [
              { key: 'normalizer', value: JSON.stringify(normalizer.snapshot()), updatedMs: receivedMs },
            ],
          }
        : {}),
    };
    batches.push({ flows: encoder.rows > 0 ? encoder.seal() : null, state: [sealStoreBatch(state).state] });
  }
  return batches;
}

/** Groups of `size` batches, as the writer host commits queued batches together. */
function groups<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Rows in their whole key's order. loadBuckets orders by tunnel and start and
 * loadCompleteness by start only: rows that tie (the directions and observation points of
 * one minute) come in the table's physical order, which is key order on SQLite (clustered
 * WITHOUT ROWID tables) and insertion order on PostgreSQL's heap.
 */
function byKey<T extends { bucketStartMs: number; exporter: string; domainId: number }>(
  rows: readonly T[],
  tunnelOf: (row: T) => string = () => '',
  directionOf: (row: T) => string = () => '',
): T[] {
  const key = (r: T) =>
    [tunnelOf(r), String(r.bucketStartMs).padStart(16, '0'), directionOf(r), r.exporter, r.domainId].join(
      '|',
    );
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Everything the API and the reports read, through the repository functions. */
async function readBack(db: Kysely<Database>, flowReader: FlowReader) {
  const flows = await flowReader.query({ from: FAR.from, to: FAR.to, limit: 100_000 });
  const reader = createTunnelReader(db);
  const tunnels = await reader.listTunnels(FAR.from, FAR.to);
  const ids = tunnels.map((t) => t.id);
  return {
    flows: flows.items.map(({ id: _id, ...flow }) => flow),
    tunnels,
    sas: await reader.listSas(ids, FAR.from, FAR.to),
    buckets: byKey(
      await reader.loadBuckets(null, FAR.from, FAR.to),
      (b) => b.tunnelId,
      (b) => b.direction,
    ),
    completeness: byKey(
      await reader.loadCompleteness(
        [
          { exporter: TX, domainId: 0 },
          { exporter: RX, domainId: 0 },
        ],
        FAR.from,
        FAR.to,
      ),
    ),
    exporterBuckets: await listExporterBuckets(db, FAR),
    exporters: await loadExporterCounters(db),
    templates: await loadTemplates(db),
    collectorState: await loadCollectorState(db, 'normalizer'),
    longest: await readMaxFlowDuration(db),
  };
}

const batches = corpusBatches();
const totalRows = batches.reduce((n, b) => n + (b.flows?.rows ?? 0), 0);

beforeAll(async () => {
  const made = await sqliteStore('oracle');
  oracle = made.store;
  for (const group of groups(batches, 8)) made.sink.applyMany(group);
  pgConnection = await pgDatabase('sink');
  pg = pgConnection.db;
});

afterAll(async () => {
  await pgConnection?.close();
  await oracle?.close();
  tmp.cleanup();
});

describe('PostgresSink', () => {
  test('the corpus batches: what the API reads from PostgreSQL is what it reads from SQLite', async () => {
    expect(totalRows).toBeGreaterThan(20);
    const sink = await PostgresSink.open(pg);
    const results: SinkResult[] = [];
    for (const group of groups(batches, 8)) results.push(...(await sink.applyMany(group)));
    await sink.close();
    expect(results).toHaveLength(batches.length);
    expect(results.reduce((n, r) => n + r.rows, 0)).toBe(totalRows);
    expect(results.every((r) => r.rejectedRows === 0 && r.rejectedItems === 0)).toBe(true);

    const expected = await readBack(oracle.db, oracle.flowReader);
    const got = await readBack(pg, sqlFlowReader(pg, 'postgres'));
    // The corpus has what the comparison needs: tunnels with SAs, minute rows from both
    // observation points, completeness, counters, templates and the normalizer's document.
    expect(expected.flows).toHaveLength(totalRows);
    expect(expected.tunnels.length).toBeGreaterThan(0);
    expect(expected.sas.length).toBeGreaterThan(1);
    expect(new Set(expected.buckets.map((b) => b.exporter))).toEqual(new Set([TX, RX]));
    expect(expected.templates.length).toBeGreaterThan(0);
    expect(expected.collectorState).toBeDefined();
    expect(got).toEqual(expected);
  });

  test('flows land in the day partitions of their class', async () => {
    const { rows } = await sql<{ partition: string; n: number }>`
      SELECT tableoid::regclass::text AS partition, count(*) AS n FROM flows GROUP BY 1 ORDER BY 1`.execute(
      pg,
    );
    const expected = new Map<string, number>();
    const all = await queryFlows(pg, { limit: 100_000 }, 'postgres');
    for (const f of all.items) {
      const day = f.receivedMs - (f.receivedMs % 86_400_000);
      const name = flowPartitionName(f.kind === 'other' ? 'other' : 'tunnel', day);
      expected.set(name, (expected.get(name) ?? 0) + 1);
    }
    expect(new Map(rows.map((r) => [r.partition, r.n]))).toEqual(expected);
  });

  test('bucket deltas applied twice add up, on both engines alike', async () => {
    const twice = await pgDatabase('sink_twice');
    const sqlite = await sqliteStore('twice');
    try {
      const sink = await PostgresSink.open(twice.db);
      const state = batches.flatMap((b) => b.state);
      for (let i = 0; i < 2; i += 1) {
        const [result] = await sink.applyMany([{ flows: null, state }]);
        expect(result).toMatchObject({ rejectedItems: 0 });
        sqlite.sink.applyMany([{ flows: null, state }]);
      }
      const load = async (db: Kysely<Database>) =>
        byKey(
          await loadBuckets(db, null, FAR.from, FAR.to),
          (b) => b.tunnelId,
          (b) => b.direction,
        );
      const once = await load(oracle.db);
      const doubled = await load(twice.db);
      expect(doubled).toEqual(await load(sqlite.store.db));
      expect(doubled.map((b) => b.bucketStartMs)).toEqual(once.map((b) => b.bucketStartMs));
      expect(doubled.map((b) => [b.packets, b.octets, b.flows, b.sequenceLost])).toEqual(
        once.map((b) => [2 * b.packets, 2 * b.octets, 2 * b.flows, 2 * b.sequenceLost]),
      );
      const exporterOnce = await listExporterBuckets(oracle.db, FAR);
      expect((await listExporterBuckets(twice.db, FAR)).map((b) => b.records)).toEqual(
        exporterOnce.map((b) => 2 * b.records),
      );
      // Tunnels and SAs are upserts: twice is once.
      const reader = createTunnelReader(twice.db);
      expect(await reader.listTunnels(FAR.from, FAR.to)).toEqual(
        await createTunnelReader(oracle.db).listTunnels(FAR.from, FAR.to),
      );
    } finally {
      await twice.close();
      await sqlite.store.close();
    }
  });

  test('a bad row is refused alone: its neighbours, and the other batches of the group, are kept', async () => {
    const bad = await pgDatabase('sink_bad');
    try {
      const sink = await PostgresSink.open(bad.db);
      const good = (await queryFlows(pg, { limit: 100_000 }, 'postgres')).items.map(({ id: _id, ...f }) => f);
      const chunk = FLOW_ROWS_PER_STATEMENT;
      // More rows than one statement takes, so the bad value sits in the second chunk.
      const flows: NormalizedFlow[] = Array.from({ length: chunk + 50 }, (_, i) => ({
        ...good[i % good.length]!,
        packets: i,
      }));
      flows[chunk + 7] = { ...flows[chunk + 7]!, src: 'not-an-address' };
      flows[3] = { ...flows[3]!, dst: null as unknown as string };
      const delta = sealStoreBatch({ tunnelBuckets: batches[0]!.state[0]!.tunnelBuckets }).state;
      const badDelta: TunnelBucketDelta = { ...delta.tunnelBuckets[0]!, bucketStartMs: Number.NaN };
      const results = await sink.applyMany([
        {
          flows: encodeFlows(flows),
          state: [{ ...delta, tunnelBuckets: [badDelta, ...delta.tunnelBuckets] }],
        },
        { flows: encodeFlows(good.slice(0, 5)), state: [] },
      ]);
      expect(results[0]).toMatchObject({
        rows: flows.length - 2,
        rejectedRows: 2,
        rejectedItems: 1,
        firstRejection: 'flow row refused: dst is missing',
      });
      expect(results[1]).toMatchObject({ rows: 5, rejectedRows: 0, rejectedItems: 0 });
      const stored = (await queryFlows(bad.db, { limit: 100_000 }, 'postgres')).items;
      expect(stored).toHaveLength(flows.length - 2 + 5);
      const packets = new Set(stored.map((f) => f.packets));
      expect(packets.has(chunk + 7)).toBe(false);
      expect(packets.has(3)).toBe(false);
      expect(packets.has(chunk + 6) && packets.has(chunk + 8) && packets.has(2) && packets.has(4)).toBe(true);
      // The good deltas of the same item list are in.
      expect(await loadBuckets(bad.db, null, FAR.from, FAR.to)).toHaveLength(
        new Set(
          delta.tunnelBuckets.map((b) => `${b.tunnelId}|${b.bucketStartMs}|${b.direction}|${b.exporter}`),
        ).size,
      );
    } finally {
      await bad.close();
    }
  });

  test('the inet refusal is reported when it is the first', async () => {
    const bad = await pgDatabase('sink_inet');
    try {
      const sink = await PostgresSink.open(bad.db);
      const [one] = (await queryFlows(pg, { limit: 1 }, 'postgres')).items.map(({ id: _id, ...f }) => f);
      const [result] = await sink.applyMany([
        { flows: encodeFlows([one!, { ...one!, src: '300.1.1.1' }, one!]), state: [] },
      ]);
      expect(result).toMatchObject({ rows: 2, rejectedRows: 1 });
      expect(result!.firstRejection).toMatch(/^flow row refused: invalid input syntax for type inet/);
    } finally {
      await bad.close();
    }
  });

  test('a failure of the transaction itself throws, and nothing of the group is committed', async () => {
    const broken = await pgDatabase('sink_broken');
    try {
      const sink = await PostgresSink.open(broken.db);
      await sql`ALTER TABLE collector_state RENAME TO collector_state_gone`.execute(broken.db);
      const withState = batches.find((b) => b.state[0]!.collectorState.length > 0)!;
      await expect(sink.applyMany([batches[0]!, withState])).rejects.toThrow(/collector_state/);
      expect((await queryFlows(broken.db, { limit: 10 }, 'postgres')).items).toEqual([]);
      expect(await loadBuckets(broken.db, null, FAR.from, FAR.to)).toEqual([]);
      await sql`ALTER TABLE collector_state_gone RENAME TO collector_state`.execute(broken.db);
      const results = await sink.applyMany([batches[0]!, withState]);
      expect(results.every((r) => r.rejectedItems === 0)).toBe(true);
      expect(await loadCollectorState(broken.db, 'normalizer')).toBeDefined();
    } finally {
      await broken.close();
    }
  });

  test("a bucket arriving after its day ended drops that tunnel's stored day summary", async () => {
    const late = await pgDatabase('sink_late');
    try {
      const sink = await PostgresSink.open(late.db);
      const delta = batches[0]!.state[0]!.tunnelBuckets[0]!;
      const day = delta.bucketStartMs - (delta.bucketStartMs % 86_400_000);
      await late.db
        .insertInto('report_day_summaries')
        .values([
          { tunnel_id: delta.tunnelId, day_start_ms: day, basis: 'b', built_ms: 1, body: '{}' },
          { tunnel_id: 'another', day_start_ms: day, basis: 'b', built_ms: 1, body: '{}' },
        ])
        .execute();
      const state = (receivedMs: number) => sealStoreBatch({ tunnelBuckets: [delta], receivedMs }).state;
      await sink.applyMany([{ flows: null, state: [state(day + 3_600_000)] }]);
      const left = () =>
        late.db.selectFrom('report_day_summaries').select('tunnel_id').orderBy('tunnel_id').execute();
      expect(await left()).toHaveLength(2);
      await sink.applyMany([{ flows: null, state: [state(day + 86_400_000 + 5)] }]);
      expect(await left()).toEqual([{ tunnel_id: 'another' }]);
    } finally {
      await late.close();
    }
  });

  test("two sinks on two pools adding the same tunnel's buckets at once sum correctly", async () => {
    const first = await pgDatabase('sink_concurrent');
    // The same database through a second pool, as a second collector would open it.
    const other = await openPostgres<Database>({ url: first.url });
    try {
      const [a, b] = await Promise.all([PostgresSink.open(first.db), PostgresSink.open(other.db)]);
      // Every batch's buckets, tunnels and SAs, written by both collectors 10 times each,
      // in opposite orders, a batch per transaction.
      const items = batches.map((x) => x.state[0]!).filter((s) => s.tunnelBuckets.length > 0);
      const rounds = 10;
      const load = async (db: Kysely<Database>) =>
        byKey(
          await loadBuckets(db, null, FAR.from, FAR.to),
          (x) => x.tunnelId,
          (x) => x.direction,
        );
      const run = async (sink: PostgresSink, reverse: boolean) => {
        const order = reverse ? [...items].reverse() : items;
        for (let r = 0; r < rounds; r += 1) {
          for (const state of order) await sink.applyMany([{ flows: null, state: [state] }]);
        }
      };
      await Promise.all([run(a!, false), run(b!, true)]);
      // And in groups: one transaction holds the rows of two batches, which the other
      // collector submits in the other order.
      const pairs = groups(items, 2).filter((g) => g.length === 2);
      const grouped = async (sink: PostgresSink, reverse: boolean) => {
        for (const [x, y] of pairs) {
          const state = reverse ? [y!, x!] : [x!, y!];
          await sink.applyMany(state.map((s) => ({ flows: null, state: [s] })));
        }
      };
      await Promise.all([grouped(a!, false), grouped(b!, true)]);
      // The oracle: every item applied as often on SQLite, one after the other.
      const sqlite = await sqliteStore('concurrent');
      for (let r = 0; r < 2 * rounds; r += 1)
        sqlite.sink.applyMany(items.map((x) => ({ flows: null, state: [x] })));
      for (let r = 0; r < 2; r += 1)
        sqlite.sink.applyMany(pairs.flat().map((x) => ({ flows: null, state: [x] })));
      const expected = await load(sqlite.store.db);
      await sqlite.store.close();
      const summed = await load(first.db);
      // The sink writes a group's state in one order of tables and keys: no deadlock between
      // the two (the server's count may lag behind, never run ahead).
      const { rows: stats } = await sql<{ deadlocks: number }>`
        SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`.execute(first.db);
      expect(stats).toEqual([{ deadlocks: 0 }]);
      expect(summed).toEqual(expected);
      // Sanity: the rows are the corpus' rows, each many times over.
      const once = await load(oracle.db);
      expect(summed.map((x) => [x.tunnelId, x.bucketStartMs, x.direction, x.exporter])).toEqual(
        once.map((x) => [x.tunnelId, x.bucketStartMs, x.direction, x.exporter]),
      );
      expect(summed.every((x, i) => x.packets >= 20 * once[i]!.packets)).toBe(true);
      const reader = createTunnelReader(first.db);
      const expectedReader = createTunnelReader(oracle.db);
      const tunnels = await reader.listTunnels(FAR.from, FAR.to);
      expect(tunnels).toEqual(await expectedReader.listTunnels(FAR.from, FAR.to));
      const ids = tunnels.map((t) => t.id);
      expect(
        (await reader.listSas(ids, FAR.from, FAR.to)).map((s) => [s.id, s.firstSeenMs, s.lastSeenMs]),
      ).toEqual(
        (await expectedReader.listSas(ids, FAR.from, FAR.to)).map((s) => [s.id, s.firstSeenMs, s.lastSeenMs]),
      );
    } finally {
      await other.close();
      await first.close();
    }
  });
});

describe('ensureFlowPartitions', () => {
  test('both classes, once per day; the second call asks nothing; two pools at once do not collide', async () => {
    const days = [Date.UTC(2031, 0, 1, 23, 59), Date.UTC(2031, 0, 2, 0, 0), Date.UTC(2031, 0, 2, 12)];
    const other = await openPostgres<Database>({ url: pgConnection.url });
    try {
      // Two "processes" (cache names) creating the same new days at the same moment.
      const [x, y] = await Promise.all([
        ensureFlowPartitions(pg, days, 'process-x'),
        ensureFlowPartitions(other.db, days, 'process-y'),
      ]);
      expect(x).toEqual([Date.UTC(2031, 0, 1), Date.UTC(2031, 0, 2)]);
      expect(y).toEqual(x);
      expect(await ensureFlowPartitions(pg, days, 'process-x')).toEqual([]);
      const { rows } = await sql<{ name: string; bound: string }>`
        SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE c.relname LIKE 'flows_%_d2031%' AND c.relkind = 'r' ORDER BY 1`.execute(pg);
      const bound = (day: number) => `FOR VALUES FROM ('${day}') TO ('${day + 86_400_000}')`;
      expect(rows).toEqual(
        ['other', 'tunnel'].flatMap((kindClass) =>
          x.map((day, i) => ({ name: `flows_${kindClass}_d2031010${i + 1}`, bound: bound(day) })),
        ),
      );
      // Forgotten (as retention does after dropping a day): asked again, found there.
      forgetFlowPartitions('process-x');
      expect(await ensureFlowPartitions(pg, days, 'process-x')).toEqual(x);
      // Inside a caller's transaction it uses that transaction.
      await pg.transaction().execute(async (trx) => {
        expect(await ensureFlowPartitions(trx, [Date.UTC(2031, 0, 3)], 'process-x')).toEqual([
          Date.UTC(2031, 0, 3),
        ]);
      });
      // Times no partition name can spell are left to fail their rows.
      expect(await ensureFlowPartitions(pg, [Number.NaN, -1, 8.64e15], 'process-x')).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

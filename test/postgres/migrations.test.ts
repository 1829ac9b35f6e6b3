// The migrations of migrations/ on a real PostgreSQL server (npm run test:postgres): the schema
// of /work issue 10 — the SQLite tables and columns with bigint/inet, flows partitioned by
// retention class and then by day, the same primary keys and indexes — compared with what the
// same files make on SQLite.
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { blob, int, isPostgres, real } from '../../migrations/dialect.js';
import { SQLITE_ONLY_TABLES } from '../../migrations/20261207030000-flow-blocks.js';
import { migrations } from '../../migrations/index.js';
import { migrateToLatest } from '../../store/migrate.js';
import { openPostgres } from '../../store/postgres/connection.js';
import type { PostgresConnection } from '../../store/postgres/connection.js';
import { createFreshDatabase } from './fresh-database.js';
import type { FreshDatabase } from './fresh-database.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the schema is inspected untyped, as migrations see it */

const DAY_MS = 86_400_000;
/** 2026-12-07T00:00:00Z */
const DAY = Date.UTC(2026, 11, 7);

interface Column {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
  default: string | null;
}

let fresh: FreshDatabase;
let connection: PostgresConnection<any>;
let db: Kysely<any>;
let firstRun: string[];

beforeAll(async () => {
  fresh = await createFreshDatabase('t_migrations');
  connection = await openPostgres<any>({ url: fresh.url });
  db = connection.db;
  firstRun = await migrateToLatest(db);
});

afterAll(async () => {
  await connection?.close();
  await fresh?.drop();
});

async function columns(): Promise<Column[]> {
  const { rows } = await sql<Column>`
    SELECT c.table_name AS "table", c.column_name AS "column", c.data_type AS type,
      c.is_nullable = 'YES' AS nullable, c.column_default AS "default"
    FROM information_schema.columns c
    JOIN pg_class t ON t.relname = c.table_name AND t.relnamespace = current_schema()::regnamespace
    WHERE c.table_schema = current_schema() AND c.table_name NOT LIKE 'kysely%' AND NOT t.relispartition
    ORDER BY c.table_name, c.ordinal_position`.execute(db);
  return rows;
}

/**
 * The same migrations on an in-memory SQLite database: its tables, columns and indexes,
 * without the SQLite engine's own flow blocks (PostgreSQL keeps flows as rows).
 */
async function sqliteSchema(): Promise<{
  columns: Map<string, string[]>;
  indexes: string[];
  primaryKeys: Map<string, string[]>;
}> {
  const sqlite = new Database(':memory:');
  sqlite.function('tunnelflow_tunnel_key', (_id: unknown) => null);
  const lite = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    await migrateToLatest(lite);
    const tables = sqlite
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'kysely%' AND name NOT LIKE 'sqlite%' ORDER BY name",
      )
      .all()
      .map((r) => r.name)
      .filter((name) => !SQLITE_ONLY_TABLES.includes(name));
    const info = (table: string) =>
      sqlite.prepare<[], { name: string; pk: number }>(`PRAGMA table_info(${table})`).all();
    return {
      columns: new Map(tables.map((t) => [t, info(t).map((c) => c.name)])),
      primaryKeys: new Map(
        tables.map((t) => [
          t,
          info(t)
            .filter((c) => c.pk > 0)
            .sort((a, b) => a.pk - b.pk)
            .map((c) => c.name),
        ]),
      ),
      indexes: sqlite
        .prepare<[], { name: string; table: string }>(
          'SELECT name, tbl_name AS "table" FROM sqlite_master WHERE type = \'index\' AND sql IS NOT NULL ORDER BY name',
        )
        .all()
        .filter((r) => !SQLITE_ONLY_TABLES.includes(r.table))
        .map((r) => r.name),
    };
  } finally {
    await lite.destroy();
  }
}

async function createDayPartition(parent: 'flows_other' | 'flows_tunnel', dayMs: number): Promise<string> {
  const name = `${parent}_d${new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
  await sql`CREATE TABLE ${sql.id(name)} PARTITION OF ${sql.id(parent)} FOR VALUES FROM (${sql.lit(dayMs)}) TO (${sql.lit(dayMs + DAY_MS)})`.execute(
    db,
  );
  return name;
}

function flowRow(receivedMs: number, kind: string, src: string, dst: string): Record<string, unknown> {
  return {
    exporter: '192.0.2.1',
    domain_id: 0,
    version: 10,
    template_id: 256,
    received_ms: receivedMs,
    start_ms: receivedMs - 1_000,
    end_ms: receivedMs,
    ip_version: src.includes(':') ? 6 : 4,
    src,
    dst,
    proto: 50,
    packets: 3_000_000_000,
    octets: 2 ** 40,
    raw_packets: 3,
    raw_octets: 300,
    sampling_rate: 1,
    kind,
    tunnel_id: kind === 'other' ? null : 't1',
    tunnel_key: kind === 'other' ? null : 7,
  };
}

describe('migrateToLatest on a fresh PostgreSQL database', () => {
  test('runs every migration, by the same names as on SQLite, and nothing the second time', async () => {
    expect(firstRun).toEqual(Object.keys(migrations).sort());
    expect(await migrateToLatest(db)).toEqual([]);
    const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
    expect(rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
  });

  test('two collectors starting at once on a fresh database: one migrates, the other finds nothing to do', async () => {
    const other = await createFreshDatabase('t_migrations_race');
    const a = await openPostgres<any>({ url: other.url });
    const b = await openPostgres<any>({ url: other.url });
    try {
      const runs = await Promise.all([migrateToLatest(a.db), migrateToLatest(b.db)]);
      expect(runs.map((names) => names.length).sort()).toEqual([0, Object.keys(migrations).length]);
    } finally {
      await a.close();
      await b.close();
      await other.drop();
    }
  });

  test('the dialect helpers see PostgreSQL', () => {
    expect([isPostgres(db), int(db), blob(db), real(db)]).toEqual([
      true,
      'bigint',
      'bytea',
      'double precision',
    ]);
  });

  test("the tables and columns are SQLite's, without flows' src_key/dst_key", async () => {
    const lite = await sqliteSchema();
    const pg = new Map<string, string[]>();
    for (const c of await columns()) pg.set(c.table, [...(pg.get(c.table) ?? []), c.column]);
    const expected = new Map(
      [...lite.columns].map(([table, cols]) => [
        table,
        table === 'flows' ? cols.filter((c) => c !== 'src_key' && c !== 'dst_key') : cols,
      ]),
    );
    expect(Object.fromEntries(pg)).toEqual(Object.fromEntries(expected));
  });

  test('every integer is bigint, addresses are inet, the only float is double precision, no blob is left', async () => {
    const all = await columns();
    const types = new Set(all.map((c) => c.type));
    expect([...types].sort()).toEqual(['bigint', 'double precision', 'inet', 'text']);
    const typeOf = (table: string, column: string) =>
      all.find((c) => c.table === table && c.column === column)?.type;
    expect([typeOf('flows', 'src'), typeOf('flows', 'dst')]).toEqual(['inet', 'inet']);
    expect(typeOf('flows', 'tunnel_key')).toBe('bigint');
    expect(typeOf('reports', 'worst_availability')).toBe('double precision');
    // The only blob columns of SQLite were src_key/dst_key, which PostgreSQL does not have.
    expect(types.has('bytea')).toBe(false);
    expect(all.filter((c) => c.type === 'text' && c.table === 'flows').map((c) => c.column)).toEqual([
      'exporter',
      'kind',
      'tunnel_id',
      'sa_id',
      'tunnel_direction',
      'loss_cleared_reason',
    ]);
  });

  test('flows.id comes from the plain sequence flows_id_seq, owned by the column; no identity', async () => {
    const id = (await columns()).find((c) => c.table === 'flows' && c.column === 'id')!;
    expect(id).toMatchObject({
      type: 'bigint',
      nullable: false,
      default: "nextval('flows_id_seq'::regclass)",
    });
    const { rows } = await sql<{ owner: string | null; identity: string }>`
      SELECT pg_get_serial_sequence('flows', 'id') AS owner,
        (SELECT attidentity FROM pg_attribute WHERE attrelid = 'flows'::regclass AND attname = 'id') AS identity`.execute(
      db,
    );
    expect(rows).toEqual([{ owner: 'public.flows_id_seq', identity: '' }]);
  });

  test('flows is partitioned by LIST (kind) into flows_other and the default flows_tunnel, each by RANGE (received_ms)', async () => {
    const { rows: partitioned } = await sql<{ table: string; strategy: string; key: string }>`
      SELECT c.relname AS "table", p.partstrat AS strategy, pg_get_partkeydef(c.oid) AS key
      FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid ORDER BY c.relname`.execute(db);
    expect(partitioned).toEqual([
      { table: 'flows', strategy: 'l', key: 'LIST (kind)' },
      { table: 'flows_other', strategy: 'r', key: 'RANGE (received_ms)' },
      { table: 'flows_tunnel', strategy: 'r', key: 'RANGE (received_ms)' },
    ]);
    const { rows: children } = await sql<{ parent: string; child: string; bound: string }>`
      SELECT p.relname AS parent, c.relname AS child, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE c.relkind IN ('r', 'p')
      ORDER BY c.relname`.execute(db);
    expect(children).toEqual([
      { parent: 'flows', child: 'flows_other', bound: "FOR VALUES IN ('other')" },
      { parent: 'flows', child: 'flows_tunnel', bound: 'DEFAULT' },
    ]);
    // No primary key on the parent: it would have to contain kind and received_ms.
    const { rows: constraints } = await sql<{ n: number }>`
      SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'flows'::regclass AND contype IN ('p', 'u')`.execute(
      db,
    );
    expect(constraints).toEqual([{ n: 0 }]);
  });

  test("the primary keys are SQLite's, in the same column order", async () => {
    const lite = await sqliteSchema();
    const { rows } = await sql<{ table: string; columns: string[] }>`
      SELECT c.relname AS "table", array_agg(a.attname::text ORDER BY k.ord) AS columns
      FROM pg_constraint pk
      JOIN pg_class c ON c.oid = pk.conrelid
      CROSS JOIN LATERAL unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
      WHERE pk.contype = 'p' AND c.relnamespace = current_schema()::regnamespace AND c.relname NOT LIKE 'kysely%'
      GROUP BY c.relname ORDER BY c.relname`.execute(db);
    const pg = Object.fromEntries(rows.map((r) => [r.table, r.columns]));
    const expected = Object.fromEntries(
      [...lite.primaryKeys].filter(([table, pk]) => table !== 'flows' && pk.length > 0),
    );
    expect(pg).toEqual(expected);
    for (const table of ['tunnel_buckets', 'tunnel_buckets_hourly']) {
      expect(pg[table]).toEqual(['tunnel_id', 'bucket_start_ms', 'direction', 'exporter', 'domain_id']);
    }
    for (const table of ['exporter_buckets', 'exporter_buckets_hourly']) {
      expect(pg[table]).toEqual(['exporter', 'domain_id', 'bucket_start_ms']);
    }
  });

  test("the indexes are SQLite's, flows' on the partitioned parent (the tunnel one partial)", async () => {
    const lite = await sqliteSchema();
    const { rows } = await sql<{ name: string; definition: string }>`
      SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relnamespace = current_schema()::regnamespace AND NOT x.indisprimary
        AND NOT t.relispartition AND t.relname NOT LIKE 'kysely%'
      ORDER BY i.relname`.execute(db);
    expect(rows.map((r) => r.name)).toEqual(lite.indexes);
    const definition = (name: string) => rows.find((r) => r.name === name)?.definition;
    expect(definition('flows_end_ms')).toBe(
      'CREATE INDEX flows_end_ms ON ONLY public.flows USING btree (end_ms)',
    );
    expect(definition('flows_tunnel_key_end_ms')).toBe(
      'CREATE INDEX flows_tunnel_key_end_ms ON ONLY public.flows USING btree (tunnel_key, end_ms) WHERE (tunnel_key IS NOT NULL)',
    );
  });
});

describe('the schema at work', () => {
  test('a day partition gets the indexes, and a flow goes in with a sequence id and inet addresses', async () => {
    const other = await createDayPartition('flows_other', DAY);
    const tunnel = await createDayPartition('flows_tunnel', DAY);
    const { rows: indexes } = await sql<{ table: string; n: number }>`
      SELECT t.relname AS "table", count(*) AS n FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relname IN (${other}, ${tunnel}) GROUP BY t.relname ORDER BY t.relname`.execute(db);
    expect(indexes).toEqual([
      { table: other, n: 2 },
      { table: tunnel, n: 2 },
    ]);

    const inserted = await db
      .insertInto('flows')
      .values([
        flowRow(DAY + 5_000, 'other', '10.0.0.1', '2001:db8::1'),
        flowRow(DAY + 6_000, 'esp', '198.51.100.1', '203.0.113.9'),
      ])
      .returning(['id', 'src', 'dst', 'packets', 'octets'])
      .execute();
    expect(inserted).toEqual([
      { id: 1, src: '10.0.0.1', dst: '2001:db8::1', packets: 3_000_000_000, octets: 2 ** 40 },
      { id: 2, src: '198.51.100.1', dst: '203.0.113.9', packets: 3_000_000_000, octets: 2 ** 40 },
    ]);
    const { rows: where } = await sql<{ table: string; id: number }>`
      SELECT tableoid::regclass::text AS "table", id FROM flows ORDER BY id`.execute(db);
    expect(where).toEqual([
      { table: other, id: 1 },
      { table: tunnel, id: 2 },
    ]);
    // The net filter's operators work on the column as it is.
    const { rows: inNet } = await sql<{
      id: number;
    }>`SELECT id FROM flows WHERE src <<= '10.0.0.0/8'`.execute(db);
    expect(inNet).toEqual([{ id: 1 }]);
  });

  test('a flow for a day without its partition is refused, not stored anywhere else', async () => {
    await expect(
      db
        .insertInto('flows')
        .values(flowRow(DAY + 3 * DAY_MS, 'esp', '10.0.0.1', '10.0.0.2'))
        .execute(),
    ).rejects.toThrow(/no partition of relation "flows_tunnel" found for row/);
  });

  test('a bucket upsert adds into the row of its primary key', async () => {
    const key = {
      tunnel_id: 't1',
      bucket_start_ms: DAY,
      direction: 'a-b',
      exporter: '192.0.2.1',
      domain_id: 0,
    };
    const upsert = (packets: number, octets: number, receivedMs: number) =>
      sql`
      INSERT INTO tunnel_buckets (tunnel_id, bucket_start_ms, direction, exporter, domain_id, packets, octets, received_ms)
      VALUES (${key.tunnel_id}, ${key.bucket_start_ms}, ${key.direction}, ${key.exporter}, ${key.domain_id},
        ${packets}, ${octets}, ${receivedMs})
      ON CONFLICT (tunnel_id, bucket_start_ms, direction, exporter, domain_id) DO UPDATE SET
        packets = tunnel_buckets.packets + excluded.packets,
        octets = tunnel_buckets.octets + excluded.octets,
        received_ms = greatest(tunnel_buckets.received_ms, excluded.received_ms)`.execute(db);
    await upsert(10, 2 ** 32, DAY + 60_000);
    await upsert(5, 2 ** 32, DAY + 30_000);
    await upsert(2, 1, DAY + 90_000);
    const rows = await db
      .selectFrom('tunnel_buckets')
      .select(['packets', 'octets', 'flows', 'received_ms'])
      .execute();
    expect(rows).toEqual([{ packets: 17, octets: 2 ** 33 + 1, flows: 0, received_ms: DAY + 90_000 }]);
  });

  test('reports get increasing ids by themselves, and worst_availability keeps a double', async () => {
    const report = (policy: string) => ({
      policy,
      trigger: 'on-demand',
      period_from_ms: DAY - DAY_MS,
      period_to_ms: DAY,
      generated_ms: DAY + 1,
      tunnels: 3,
      breaching: 1,
      worst_availability: 0.987654321012345,
      body: '{}',
    });
    const ids = await db
      .insertInto('reports')
      .values([report('a'), report('b')])
      .returning(['id', 'worst_availability'])
      .execute();
    expect(ids).toEqual([
      { id: 1, worst_availability: 0.987654321012345 },
      { id: 2, worst_availability: 0.987654321012345 },
    ]);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { migrations } from '../../migrations/index.js';
import {
  FLOW_INSERT_COLUMNS,
  FLOW_RETIRED_COLUMNS,
  FLOW_REQUIRED_INTEGER_COLUMNS,
  FLOW_REQUIRED_TEXT_COLUMNS,
} from '../../store/flows/flow-columns.js';
import { migrateToLatest } from '../../store/migrate.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { StoreOpenError } from '../../store/store-open-error.js';
import { corpusFlows } from './corpus-flows.js';
import { tempDir } from './temp-store.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe('openStore', () => {
  test('migrates a fresh file: tables, indexes, WAL, pragmas', async () => {
    const path = tmp.path('fresh/nested/flows.db');
    const store = await openSqliteStore({ path });
    try {
      expect(store.migrationsRun).toEqual(Object.keys(migrations).sort());
      const tables = store.sqlite
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all()
        .map((r) => r.name);
      expect(tables).toEqual(
        expect.arrayContaining(['exporter_buckets', 'exporters', 'flows', 'store_meta', 'templates']),
      );
      const indexes = store.sqlite
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flows'",
        )
        .all()
        .map((r) => r.name)
        .filter((n) => !n.startsWith('sqlite_autoindex'));
      expect(indexes.sort()).toEqual(['flows_end_ms', 'flows_tunnel_key_end_ms']);
      expect(store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      // synchronous NORMAL is 1.
      expect(store.sqlite.pragma('synchronous', { simple: true })).toBe(1);
      expect(store.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
      const info = store.infoNow();
      expect(info.journalMode).toBe('wal');
      expect(info.schemaVersion).toBe(Object.keys(migrations).sort().at(-1));
      expect(info.usedBytes).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  test('reopens an already migrated file without running anything, keeping its rows', async () => {
    const path = tmp.path('again.db');
    const first = await openSqliteStore({ path });
    await first.db.insertInto('store_meta').values({ key: 'marker', value: 42 }).execute();
    await first.close();
    const second = await openSqliteStore({ path });
    try {
      expect(second.migrationsRun).toEqual([]);
      const row = await second.db
        .selectFrom('store_meta')
        .select('value')
        .where('key', '=', 'marker')
        .executeTakeFirst();
      expect(row?.value).toBe(42);
    } finally {
      await second.close();
    }
  });

  test('a failing migration makes openStore throw and refuse to start', async () => {
    // A file whose `flows` table was made by something else: the first migration fails.
    const path = tmp.path('failing.db');
    const foreign = new Database(path);
    foreign.exec('CREATE TABLE flows (x INTEGER)');
    foreign.close();
    const error = await openSqliteStore({ path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    const first = Object.keys(migrations)[0]!;
    expect((error as StoreOpenError).migration).toBe(first);
    expect((error as Error).message).toMatch(
      new RegExp(`migration '${first}' failed: .*already exists.*refuses to start`),
    );
  });

  test('migrateToLatest stops at a failing migration and names it; the ones before stay committed', async () => {
    const store = await openSqliteStore({ path: tmp.path('provider.db') });
    const broken = {
      ...migrations,
      '29990101000000-broken': {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are typed against Kysely<any>
        up: async (db: Kysely<any>) => {
          await db.schema.createTable('flows').addColumn('x', 'integer').execute();
        },
      },
    };
    const error = await migrateToLatest(store.db, { getMigrations: async () => broken }).catch(
      (e: unknown) => e,
    );
    expect((error as StoreOpenError).migration).toBe('29990101000000-broken');
    expect(await migrateToLatest(store.db)).toEqual([]);
    await store.close();
  });

  test('a path that cannot be a database is a clear StoreOpenError', async () => {
    const blocker = tmp.path('not-a-dir');
    writeFileSync(blocker, 'plain file');
    const error = await openSqliteStore({ path: `${blocker}/flows.db` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect((error as Error).message).toContain(`cannot open database '${blocker}/flows.db'`);

    const garbage = tmp.path('garbage.db');
    writeFileSync(garbage, Buffer.alloc(8192, 0x41));
    await expect(openSqliteStore({ path: garbage })).rejects.toBeInstanceOf(StoreOpenError);
  });

  test('unknown configuration keys are refused', async () => {
    mkdirSync(tmp.path('cfg'), { recursive: true });
    await expect(openSqliteStore({ path: tmp.path('cfg/x.db'), cacheSize: 3 } as never)).rejects.toThrow(
      /cacheSize/,
    );
  });
});

describe('flows table', () => {
  test('has a snake_case column for every NormalizedFlow field, plus id, the tunnel key and the retired address keys', async () => {
    const store = await openSqliteStore({ path: tmp.path('columns.db') });
    try {
      const columns = store.sqlite
        .prepare<[], { name: string; notnull: number }>('PRAGMA table_info(flows)')
        .all();
      const names = columns.map((c) => c.name).sort();
      const sample = corpusFlows('a_healthy_v4', 'softflowd_ipfix')[0]!;
      const fromModel = Object.keys(sample).map(snake);
      expect(names).toEqual(['id', ...fromModel, 'src_key', 'dst_key', 'tunnel_key'].sort());
      // The writer's insert list covers every column but id and the retired ones.
      expect([...FLOW_INSERT_COLUMNS].sort()).toEqual(
        names.filter((n) => n !== 'id' && !(FLOW_RETIRED_COLUMNS as readonly string[]).includes(n)),
      );
      // And the writer's NOT NULL checks are exactly the schema's.
      const notNull = columns
        .filter((c) => c.notnull === 1 && c.name !== 'id')
        .map((c) => c.name)
        .sort();
      expect([...FLOW_REQUIRED_INTEGER_COLUMNS, ...FLOW_REQUIRED_TEXT_COLUMNS].sort()).toEqual(notNull);
    } finally {
      await store.close();
    }
  });
});

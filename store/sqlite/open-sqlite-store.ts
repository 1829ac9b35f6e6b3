import { statSync } from 'node:fs';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { LogEvent } from 'kysely';
import { parseStoreConfig } from '../config.js';
import type { StoreConfig } from '../config.js';
import { openConnection } from './connection.js';
import type { Database } from '../database.js';
import { attachSql } from '../store.js';
import type { DatabaseInfo, Store, StoreDeps } from '../store.js';
import { createTunnelReader } from '../tunnels/tunnel-repository.js';
import { rawBucketLoader } from './raw-bucket-loader.js';
import { createBlockFlowReader } from './flow-block-reader.js';
import { moveLegacyFlows } from './legacy-flows.js';
import { migrateToLatest } from '../migrate.js';
import { StoreOpenError } from '../store-open-error.js';

/** An open SQLite store, with the connection under `db` for SQLite-only work and tests. */
export interface SqliteStore extends Store {
  readonly engine: 'sqlite';
  /** The connection under `db`. The writer never uses it: it opens its own. */
  readonly sqlite: SqliteDatabase;
  /** Read synchronously: pragmas and one stat. */
  infoNow(): DatabaseInfo;
}

/**
 * Opens (creating its folder and file if needed) and migrates the SQLite database.
 * Callers that do not need the handle use openStore() (store/open-store.ts).
 * Throws StoreOpenError, and leaves nothing open, when the file cannot be opened or a
 * migration fails: a collector must not start on a schema it does not understand.
 */
export async function openSqliteStore(
  config: Partial<StoreConfig> | StoreConfig,
  deps: StoreDeps = {},
): Promise<SqliteStore> {
  const fullConfig = parseStoreConfig(config);
  let sqlite: SqliteDatabase;
  try {
    sqlite = openConnection(fullConfig);
  } catch (error) {
    throw new StoreOpenError(
      `cannot open database '${fullConfig.path}': ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: sqlite }),
    log: (event: LogEvent) => {
      if (event.level !== 'error') return;
      attachSql(event.error, event.query.sql);
      deps.logger?.debug({ sql: event.query.sql, err: event.error }, 'query failed');
    },
  });
  let migrationsRun: string[];
  try {
    migrationsRun = await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  if (migrationsRun.length > 0) deps.logger?.info({ migrations: migrationsRun }, 'database migrated');
  try {
    moveLegacyFlows(sqlite, deps.logger);
  } catch (error) {
    await db.destroy();
    throw new StoreOpenError(
      `cannot move the stored flows of '${fullConfig.path}' into flow blocks: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }

  const latestMigration = sqlite.prepare<[], { name: string }>(
    'SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1',
  );
  let closed = false;
  const infoNow = (): DatabaseInfo => readInfo(sqlite, fullConfig.path, latestMigration.get()?.name ?? null);
  return {
    engine: 'sqlite',
    config: fullConfig,
    db,
    sqlite,
    migrationsRun,
    tunnelReader: createTunnelReader(db, { loadBuckets: rawBucketLoader(sqlite) }),
    flowReader: createBlockFlowReader(sqlite),
    infoNow,
    info: () => Promise.resolve(infoNow()),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

function readInfo(sqlite: SqliteDatabase, path: string, schemaVersion: string | null): DatabaseInfo {
  const pageSize = Number(sqlite.pragma('page_size', { simple: true }));
  const pageCount = Number(sqlite.pragma('page_count', { simple: true }));
  const freelistCount = Number(sqlite.pragma('freelist_count', { simple: true }));
  const journalMode = String(sqlite.pragma('journal_mode', { simple: true }));
  return {
    engine: 'sqlite',
    location: path,
    path,
    pageSize,
    pageCount,
    freelistCount,
    fileBytes: pageSize * pageCount,
    usedBytes: pageSize * (pageCount - freelistCount),
    walBytes: fileSize(`${path}-wal`),
    journalMode,
    schemaVersion,
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

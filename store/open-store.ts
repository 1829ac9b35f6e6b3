import { statSync } from 'node:fs';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { LogEvent } from 'kysely';
import type { Logger } from 'pino';
import { parseStoreConfig } from './config.js';
import type { StoreConfig } from './config.js';
import { openConnection } from './connection.js';
import type { Database } from './database.js';
import { migrateToLatest } from './migrate.js';
import { StoreOpenError } from './store-open-error.js';

export interface StoreDeps {
  readonly logger?: Logger;
}

/** Sizes of the database, cheap to read (pragmas and one stat). */
export interface DatabaseInfo {
  readonly path: string;
  readonly pageSize: number;
  readonly pageCount: number;
  readonly freelistCount: number;
  /** Bytes of the main file. */
  readonly fileBytes: number;
  /** Bytes in pages that hold data (the file minus its free pages). */
  readonly usedBytes: number;
  /** Bytes of the write-ahead log. */
  readonly walBytes: number;
  readonly journalMode: string;
  /** The latest migration applied. */
  readonly schemaVersion: string | null;
}

/** An open store: kysely for reads (one connection), and what the writer needs to open its own. */
export interface Store {
  readonly config: StoreConfig;
  readonly db: Kysely<Database>;
  /** The connection under `db`. The writer never uses it: it opens its own. */
  readonly sqlite: SqliteDatabase;
  /** Migrations executed by this open (empty when the file was up to date). */
  readonly migrationsRun: readonly string[];
  info(): DatabaseInfo;
  close(): Promise<void>;
}

/** Errors that went through kysely carry the SQL that failed, for the API's 500 log. */
export interface ErrorWithSql {
  sql?: string;
}

/**
 * Opens (creating its folder and file if needed) and migrates the SQLite database.
 * Throws StoreOpenError, and leaves nothing open, when the file cannot be opened or a
 * migration fails: a collector must not start on a schema it does not understand.
 */
export async function openStore(
  config: Partial<StoreConfig> | StoreConfig,
  deps: StoreDeps = {},
): Promise<Store> {
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

  const latestMigration = sqlite.prepare<[], { name: string }>(
    'SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1',
  );
  let closed = false;
  return {
    config: fullConfig,
    db,
    sqlite,
    migrationsRun,
    info: () => readInfo(sqlite, fullConfig.path, latestMigration.get()?.name ?? null),
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

function attachSql(error: unknown, sql: string): void {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
    (error as ErrorWithSql).sql = sql;
  }
}

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { TunnelReader } from '../model/tunnel-reader.js';
import type { StoreConfig } from './config.js';
import type { Database } from './database.js';
import type { FlowReader } from './flows/flow-repository.js';

/** What opening a store may use, whatever the engine. */
export interface StoreDeps {
  readonly logger?: Logger;
}

/** The engines the store runs on: an embedded SQLite file, or a PostgreSQL server. */
export type StoreEngine = 'sqlite' | 'postgres';

/** Sizes and version of the database, for /api/v1/health and the metrics. */
export interface DatabaseInfo {
  readonly engine: StoreEngine;
  /** The SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  /** Bytes in use: SQLite's pages that hold data, PostgreSQL's pg_database_size. */
  readonly usedBytes: number;
  /** The latest migration applied. */
  readonly schemaVersion: string | null;
  /** SQLite only: the file and its pages. */
  readonly path?: string;
  readonly pageSize?: number;
  readonly pageCount?: number;
  readonly freelistCount?: number;
  /** Bytes of the main file. */
  readonly fileBytes?: number;
  /** Bytes of the write-ahead log. */
  readonly walBytes?: number;
  readonly journalMode?: string;
}

/**
 * An open, migrated store, whatever its engine: what the collector, the analysis layer,
 * the API and the reports see. Reads go through kysely (`db`, the same repositories on
 * both engines) except raw flows, which each engine stores its own way (`flowReader`);
 * writes go through the flow writer (writer/flow-writer.ts), which opens
 * its own connection from `config`.
 */
export interface Store {
  readonly engine: StoreEngine;
  readonly config: StoreConfig;
  readonly db: Kysely<Database>;
  /** Migrations executed by this open (empty when the database was up to date). */
  readonly migrationsRun: readonly string[];
  /** The analysis layer's reader over this store. */
  readonly tunnelReader: TunnelReader;
  /** Raw flows: pages by time, filter and cursor (drill-down, /flows). */
  readonly flowReader: FlowReader;
  info(): Promise<DatabaseInfo>;
  close(): Promise<void>;
}

/** Errors that went through kysely carry the SQL that failed, for the API's 500 log. */
export interface ErrorWithSql {
  sql?: string;
}

/** Remembers the SQL of a failed query on its error (kysely's log hook calls this). */
export function attachSql(error: unknown, sql: string): void {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
    (error as ErrorWithSql).sql = sql;
  }
}

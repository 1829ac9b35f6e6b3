import { sql } from 'kysely';
import type { LogEvent } from 'kysely';
import type { StoreConfig } from '../config.js';
import type { Database } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import { attachSql } from '../store.js';
import type { DatabaseInfo, Store, StoreDeps } from '../store.js';
import { createTunnelReader } from '../tunnels/tunnel-repository.js';
import { sqlFlowReader } from '../flows/flow-repository.js';
import { describeTarget, openPostgres } from './connection.js';

/**
 * Opens a PostgreSQL store: a pool for reads, the schema migrated (kysely's Migrator
 * takes a lock row, so two collectors starting together migrate once). Throws one
 * StoreOpenError line on a wrong URL, a refused connection, a missing database, a failed
 * login or a failed migration, and leaves nothing open.
 */
export async function openPostgresStore(
  config: StoreConfig,
  url: string,
  deps: StoreDeps = {},
): Promise<Store> {
  const connection = await openPostgres<Database>({
    url,
    onIdleError: (error) =>
      deps.logger?.warn({ err: error }, 'idle PostgreSQL connection lost; the next query reconnects'),
    log: (event: LogEvent) => {
      if (event.level !== 'error') return;
      attachSql(event.error, event.query.sql);
      deps.logger?.debug({ sql: event.query.sql, err: event.error }, 'query failed');
    },
  });
  const { db } = connection;
  let migrationsRun: string[];
  try {
    migrationsRun = await migrateToLatest(db);
  } catch (error) {
    await connection.close();
    throw error;
  }
  if (migrationsRun.length > 0) deps.logger?.info({ migrations: migrationsRun }, 'database migrated');
  const collation = await sql<{ collate: string }>`
    SELECT datcollate AS collate FROM pg_database WHERE datname = current_database()`.execute(db);
  const collate = collation.rows[0]?.collate ?? 'C';
  if (collate !== 'C' && collate !== 'POSIX') {
    deps.logger?.warn(
      { collate },
      "database collation is not C: tunnels and exporters list in that locale's order, not SQLite's (CREATE DATABASE ... TEMPLATE template0 LC_COLLATE 'C' for the same order)",
    );
  }
  const location = `postgresql://${describeTarget(connection.target)}`;
  let closed = false;
  return {
    engine: 'postgres',
    config,
    db,
    migrationsRun,
    tunnelReader: createTunnelReader(db),
    flowReader: sqlFlowReader(db, 'postgres'),
    info: async (): Promise<DatabaseInfo> => {
      const size = await sql<{ bytes: number }>`SELECT pg_database_size(current_database()) AS bytes`.execute(
        db,
      );
      const latest = await db
        .selectFrom('kysely_migration' as never)
        .select(sql<string>`name`.as('name'))
        .orderBy(sql`name`, 'desc')
        .limit(1)
        .executeTakeFirst();
      return {
        engine: 'postgres',
        location,
        usedBytes: Number(size.rows[0]?.bytes ?? 0),
        schemaVersion: (latest as { name?: string } | undefined)?.name ?? null,
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await connection.close();
    },
  };
}

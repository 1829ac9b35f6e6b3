import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { int, isPostgres } from './dialect.js';

// Typed against Kysely<any> on purpose: a migration is frozen in time (see the initial schema).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

/**
 * Indexes tunnel flows by an integer key instead of the tunnel id's text
 * (store/flows/tunnel-key.ts says why). Rows stored before get their key from the SQL
 * function every store connection registers (store/connection.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('flows').addColumn('tunnel_key', int(db)).execute();
  // The backfill needs the JavaScript SQL function of SQLite connections. No PostgreSQL
  // store predates this migration (the engine came later), so there it has no rows to fill.
  if (!isPostgres(db)) {
    await sql`UPDATE flows SET tunnel_key = tunnelflow_tunnel_key(tunnel_id) WHERE tunnel_id IS NOT NULL`.execute(
      db,
    );
  }
  await db.schema.dropIndex('flows_tunnel_end_ms').ifExists().execute();
  await db.schema
    .createIndex('flows_tunnel_key_end_ms')
    .on('flows')
    .columns(['tunnel_key', 'end_ms'])
    .where(sql.ref('tunnel_key'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('flows_tunnel_key_end_ms').ifExists().execute();
  await db.schema
    .createIndex('flows_tunnel_end_ms')
    .on('flows')
    .columns(['tunnel_id', 'end_ms'])
    .where(sql.ref('tunnel_id'), 'is not', null)
    .execute();
  await db.schema.alterTable('flows').dropColumn('tunnel_key').execute();
}

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { isPostgres } from './dialect.js';

// Typed against Kysely<any> on purpose: a migration is frozen in time (see the initial schema).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

/**
 * SQLite only: raw flows in columnar blocks (store/sqlite/flow-block-codec.ts) instead of
 * one B-tree row per flow (issue 11). The `flows` table stays (empty once the store has
 * moved its rows into blocks at open, store/sqlite/legacy-flows.ts); PostgreSQL keeps
 * its partitioned `flows` and gets nothing here.
 *
 * `flow_blocks`: one row per block. Flow ids are `first_id` + the row's offset; `class`
 * is the retention class (0 other, 1 tunnel kinds: a block holds one class, so retention
 * drops whole blocks); the time bounds let a window or a page pick its blocks from the
 * index on `min_end_ms`.
 *
 * `flow_block_tunnels`: which blocks hold flows of a tunnel (by tunnel key,
 * store/flows/tunnel-key.ts), with the end times of that tunnel's flows in the block:
 * drill-down reads a tunnel-minute's blocks and no others.
 */
/** The tables this migration makes on SQLite and not on PostgreSQL. */
export const SQLITE_ONLY_TABLES: readonly string[] = ['flow_blocks', 'flow_block_tunnels'];

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) return;
  await sql`CREATE TABLE flow_blocks (
    id integer PRIMARY KEY,
    first_id integer NOT NULL,
    last_id integer NOT NULL,
    rows integer NOT NULL,
    class integer NOT NULL,
    min_end_ms integer NOT NULL,
    max_end_ms integer NOT NULL,
    min_start_ms integer NOT NULL,
    max_received_ms integer NOT NULL,
    data blob NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX flow_blocks_min_end_ms ON flow_blocks (min_end_ms)`.execute(db);
  // Retention: the blocks of a class received before a cutoff.
  await sql`CREATE INDEX flow_blocks_class_received ON flow_blocks (class, max_received_ms)`.execute(db);
  await sql`CREATE TABLE flow_block_tunnels (
    tunnel_key integer NOT NULL,
    max_end_ms integer NOT NULL,
    block_id integer NOT NULL,
    min_end_ms integer NOT NULL,
    PRIMARY KEY (tunnel_key, max_end_ms, block_id)
  ) WITHOUT ROWID`.execute(db);
  await sql`CREATE INDEX flow_block_tunnels_block ON flow_block_tunnels (block_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) return;
  await sql`DROP TABLE IF EXISTS flow_block_tunnels`.execute(db);
  await sql`DROP TABLE IF EXISTS flow_blocks`.execute(db);
}

import { PostgresAdapter, sql } from 'kysely';
import type { Expression, Kysely } from 'kysely';

// The few words in which the migrations differ between the engines (issue 10). SQLite's
// output must stay byte for byte what it was: every helper returns SQLite's word there.
/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database untyped */

/** True on a kysely PostgresDialect database (the adapter is the dialect's own class). */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * SQLite's `integer` is 64-bit; PostgreSQL's is 32-bit, so every integer column is `bigint`
 * there (int8, read as JS numbers by store/postgres/connection.ts).
 */
export function int(db: Kysely<any>): 'integer' | 'bigint' {
  return isPostgres(db) ? 'bigint' : 'integer';
}

export function blob(db: Kysely<any>): 'blob' | 'bytea' {
  return isPostgres(db) ? 'bytea' : 'blob';
}

/**
 * A flow's address: text on SQLite, `inet` on PostgreSQL (which reads back as text, e.g.
 * '10.0.0.1', '2001:db8::1', and compares and filters by network natively).
 */
export function address(db: Kysely<any>): 'text' | Expression<unknown> {
  return isPostgres(db) ? sql`inet` : 'text';
}

/**
 * SQLite's `real` is an 8-byte double; PostgreSQL's `real` is a 4-byte float, so the same
 * values need `double precision` there.
 */
export function real(db: Kysely<any>): 'real' | 'double precision' {
  return isPostgres(db) ? 'double precision' : 'real';
}

/** The table option that ends SQLite's clustered bucket tables; PostgreSQL has none. */
export function withoutRowid(db: Kysely<any>): '' | ' WITHOUT ROWID' {
  return isPostgres(db) ? '' : ' WITHOUT ROWID';
}

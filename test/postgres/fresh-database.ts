// A database of its own for one test file on the server of `npm run test:postgres`: created
// through the run's URL (CREATE DATABASE works from any database of the cluster), dropped
// again, with whatever connections are still open to it, when the file is done.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { inject } from 'vitest';
import { openPostgres } from '../../store/postgres/connection.js';
import type { PostgresConnection } from '../../store/postgres/connection.js';

export interface FreshDatabase {
  readonly name: string;
  /** The run's URL with this database in it. */
  readonly url: string;
  /** Drops the database (WITH (FORCE): open connections are ended). */
  drop(): Promise<void>;
}

async function admin<T>(run: (connection: PostgresConnection<unknown>) => Promise<T>): Promise<T> {
  const connection = await openPostgres<unknown>({
    url: inject('TUNNELFLOW_TEST_PG_URL'),
    maxConnections: 1,
  });
  try {
    return await run(connection);
  } finally {
    await connection.close();
  }
}

export async function createFreshDatabase(prefix = 't'): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((c) => sql`CREATE DATABASE ${sql.id(name)}`.execute(c.db));
  const url = new URL(inject('TUNNELFLOW_TEST_PG_URL'));
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await admin((c) => sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(c.db));
    },
  };
}

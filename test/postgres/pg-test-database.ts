// A database of its own for one test file of `npm run test:postgres`: the files run in
// parallel processes on the one cluster (test/postgres/global-setup.ts), and tables named
// alike (flows, tunnels) must not meet.
import pg from 'pg';
import { inject } from 'vitest';

/** Drops (if left over) and creates `name` on the test cluster; returns its URL. */
export async function freshDatabase(name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const admin = inject('TUNNELFLOW_TEST_PG_URL');
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by freshDatabase (its connections closed first by the caller). */
export async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('TUNNELFLOW_TEST_PG_URL') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

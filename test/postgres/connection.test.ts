// store/postgres/connection.ts against the real server of `npm run test:postgres`.
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { openPostgres, parsePostgresUrl } from '../../store/postgres/connection.js';
import type { PostgresConnection } from '../../store/postgres/connection.js';
import { StoreOpenError } from '../../store/store-open-error.js';
import { freeLoopbackPort } from '../system/postgres-cluster.js';

const URL_TEXT = inject('TUNNELFLOW_TEST_PG_URL');

/** The test URL with one part changed. */
function variant(change: (url: URL) => void): string {
  const url = new URL(URL_TEXT);
  change(url);
  return url.toString();
}

/** The StoreOpenError openPostgres rejects with (fails the test if it resolves). */
async function openError(url: string): Promise<StoreOpenError> {
  const error: unknown = await openPostgres({ url, connectTimeoutMs: 5_000 }).then(
    async (c) => {
      await c.close();
      return new Error('connected');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreOpenError);
  return error as StoreOpenError;
}

interface CounterTable {
  id: number;
  octets: number;
}

describe('openPostgres on a real server', () => {
  let connection: PostgresConnection<{ pg_counter: CounterTable }>;

  beforeAll(async () => {
    connection = await openPostgres({ url: URL_TEXT });
    await sql`create table pg_counter (id integer primary key, octets bigint not null)`.execute(
      connection.db,
    );
  });

  afterAll(async () => {
    await sql`drop table if exists pg_counter`.execute(connection.db);
    await connection.close();
  });

  test('connects to the database of the URL, as its user', async () => {
    const { rows } = await sql<{
      database: string;
      user: string;
      app: string;
    }>`select current_database() as database, current_user as "user", current_setting('application_name') as app`.execute(
      connection.db,
    );
    expect(rows).toEqual([{ database: 'tunnelflow_test', user: 'postgres', app: 'tunnelflow' }]);
  });

  test('a bigint above 2^31 goes in and comes back as the same JavaScript number', async () => {
    const values = [2 ** 31 + 5, 2 ** 40 + 1, Number.MAX_SAFE_INTEGER];
    await connection.db
      .insertInto('pg_counter')
      .values(values.map((octets, id) => ({ id, octets })))
      .execute();
    const rows = await connection.db
      .selectFrom('pg_counter')
      .select(['id', 'octets'])
      .orderBy('id')
      .execute();
    expect(rows).toEqual(values.map((octets, id) => ({ id, octets })));
    for (const row of rows) expect(typeof row.octets).toBe('number');
  });

  test('count(*) (int8) and sum() over bigint (numeric) are numbers too', async () => {
    const { rows } = await sql<{
      n: unknown;
      total: unknown;
    }>`select count(*) as n, sum(octets) as total from pg_counter where id < 2`.execute(connection.db);
    expect(rows).toEqual([{ n: 2, total: 2 ** 31 + 5 + 2 ** 40 + 1 }]);
  });

  test("the parsers are this pool's own: a plain pg client still reads int8 as a string", async () => {
    const client = new pg.Client({ connectionString: URL_TEXT });
    await client.connect();
    try {
      const { rows } = await client.query<{ v: unknown }>('select 3000000000::int8 as v');
      expect(rows).toEqual([{ v: '3000000000' }]);
    } finally {
      await client.end();
    }
  });
});

describe('one clear line when the connection cannot be opened', () => {
  test('a port nothing listens on: connection refused', async () => {
    const port = await freeLoopbackPort();
    const error = await openError(variant((u) => (u.port = String(port))));
    expect(error.message).toBe(
      `cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused (is the server running and listening there?)`,
    );
  });

  test('a database that does not exist', async () => {
    const error = await openError(variant((u) => (u.pathname = '/no_such_db')));
    expect(error.message).toBe(
      `PostgreSQL database 'no_such_db' does not exist on 127.0.0.1:${new URL(URL_TEXT).port} (create it: createdb no_such_db)`,
    );
  });

  test('a wrong password, and the message does not show it', async () => {
    const error = await openError(variant((u) => (u.password = 'not-the-password')));
    expect(error.message).toBe(
      `PostgreSQL refused postgres@127.0.0.1:${new URL(URL_TEXT).port}/tunnelflow_test: ` +
        `password authentication failed for user 'postgres'`,
    );
    expect(error.message).not.toContain('not-the-password');
  });

  test.each([
    ['not a URL', 'data/flows.db', 'not a URL'],
    ['another scheme', 'mysql://u@127.0.0.1/db', 'scheme mysql:// is not postgres:// or postgresql://'],
    ['no host', 'postgres:///db', 'no host'],
    ['no database', 'postgresql://u@127.0.0.1:5432', 'no database name after the host'],
    ['a path for a database', 'postgres://u@127.0.0.1/a/b', "database name 'a/b' contains '/'"],
    [
      'an unknown parameter',
      'postgres://u@127.0.0.1/db?sslmod=require',
      "unknown parameter 'sslmod' (known: host, sslmode, application_name)",
    ],
    [
      'an unknown sslmode',
      'postgres://u@127.0.0.1/db?sslmode=prefer',
      "sslmode 'prefer' (known: disable, require, verify-full)",
    ],
    [
      'a relative socket dir',
      'postgres://u@localhost/db?host=run',
      "?host= must be the absolute directory of a unix socket, not 'run'",
    ],
  ])('a wrong URL: %s', async (_name, url, what) => {
    const error = await openError(url);
    expect(error.message).toBe(
      `wrong PostgreSQL URL: ${what} (expected postgres://user:password@host:port/database)`,
    );
    expect(error.message).not.toContain('\n');
  });

  test('a port out of range is a wrong URL too (node URL rejects it)', async () => {
    expect((await openError('postgres://u@127.0.0.1:99999/db')).message).toMatch(
      /^wrong PostgreSQL URL: not a URL/,
    );
  });
});

describe('parsePostgresUrl', () => {
  test('both schemes, defaults, percent-encoding, IPv6 and unix sockets', () => {
    expect(
      parsePostgresUrl('postgresql://flow%40ops:p%2Fw@db.example:6543/flows%20a?sslmode=require'),
    ).toEqual({
      host: 'db.example',
      port: 6543,
      database: 'flows a',
      user: 'flow@ops',
      password: 'p/w',
      ssl: 'require',
      applicationName: 'tunnelflow',
    });
    expect(parsePostgresUrl('postgres://[::1]/flows')).toMatchObject({
      host: '::1',
      port: 5432,
      user: null,
      password: null,
    });
    expect(parsePostgresUrl('postgres:///flows?host=/var/run/postgresql&application_name=c1')).toMatchObject({
      host: '/var/run/postgresql',
      applicationName: 'c1',
    });
  });
});

describe('connecting over the unix socket', () => {
  test('?host=/dir reaches the same server (the host part is then ignored)', async () => {
    const dir = inject('TUNNELFLOW_TEST_PG_SOCKET_DIR');
    const port = new URL(URL_TEXT).port;
    const connection = await openPostgres({
      url: `postgres://postgres@localhost:${port}/tunnelflow_test?host=${dir}`,
    });
    try {
      const { rows } = await sql<{ socket: unknown }>`select inet_server_addr() is null as socket`.execute(
        connection.db,
      );
      expect(rows).toEqual([{ socket: true }]);
    } finally {
      await connection.close();
    }
  });
});

// The filter language compiled for PostgreSQL (compileFilter(node, 'postgres'): inet/cidr
// operators for host and net) against the SQLite store as the oracle: the same flows in both,
// the same filter strings, the same rows back.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { NormalizedFlow } from '../../model/flow.js';
import type { Database } from '../../store/database.js';
import { compileFilter } from '../../store/filter/compile-filter.js';
import { parseFilter } from '../../store/filter/parse-filter.js';
import { queryFlows } from '../../store/flows/flow-repository.js';
import { openPostgres } from '../../store/postgres/connection.js';
import type { PostgresConnection } from '../../store/postgres/connection.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { SqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { PostgresSink } from '../../store/postgres/pg-sink.js';
import { SqliteSink } from '../../store/sqlite/sqlite-sink.js';
import { encodeFlows } from '../../store/writer/flow-batch-codec.js';
import { corpusFlows } from '../store/corpus-flows.js';
import { tempDir } from '../store/temp-store.js';
import { createDatabase } from '../helpers/test-store.js';
import { migrateToLatest } from '../../store/migrate.js';

const RECEIVED_MS = Date.UTC(2026, 11, 7, 9, 30);

/** Four corpus decodes (v4 and v6 tunnels, ICMP frag-needed, leaks, `other`) and a few more. */
function testFlows(): NormalizedFlow[] {
  const corpus = [
    ...corpusFlows('h_multi_tunnel_mixed', 'softflowd_ipfix', { exporterAddress: '192.0.2.250' }),
    ...corpusFlows('e_frag_mtu_v4', 'softflowd_ipfix', { exporterAddress: '192.0.2.251' }),
    ...corpusFlows('g_cleartext_leak_v4', 'softflowd_ipfix', { exporterAddress: '2001:db8::250' }),
  ].map((f, i) => ({ ...f, receivedMs: RECEIVED_MS + i, spi: i === 3 ? 0x6b1d2e93 : f.spi }));
  const base = corpus.find((f) => f.kind === 'other')!;
  // Addresses that share text prefixes (1. / 10. / 100.), an IPv4-mapped and a link-local
  // IPv6 one, an ESP flow without ports, an `other` flow on a day of its own.
  const extra: NormalizedFlow[] = [
    '10.0.0.1',
    '10.15.255.255',
    '10.16.0.0',
    '100.64.0.1',
    '1.2.3.4',
    '192.0.2.128',
    '::ffff:a00:1',
    'fe80::1',
    '2001:db8:0:1::7',
  ].map((src, i) => {
    const v6 = src.includes(':');
    return {
      ...base,
      src,
      dst: v6 ? '2001:db8:ff::1' : '198.51.100.7',
      ipVersion: v6 ? 6 : 4,
      proto: i % 3 === 0 ? 50 : 17,
      srcPort: i % 3 === 0 ? null : 4000 + i,
      dstPort: i % 3 === 0 ? null : 53,
      spi: i % 3 === 0 ? 1000 + i : null,
      kind: i % 3 === 0 ? 'esp' : 'other',
      receivedMs: RECEIVED_MS + (i === 4 ? 86_400_000 : 0),
      packets: 10 + i,
    };
  });
  return [...corpus, ...extra];
}

const flows = testFlows();
const tmp = tempDir();
let store: SqliteStore;
let connection: PostgresConnection<Database>;

beforeAll(async () => {
  store = await openSqliteStore({ path: tmp.path('oracle.db') });
  new SqliteSink(store.sqlite).apply(encodeFlows(flows), []);
  connection = await openPostgres<Database>({ url: await createDatabase('filter') });
  await migrateToLatest(connection.db);
  const sink = await PostgresSink.open(connection.db);
  const [result] = await sink.applyMany([{ flows: encodeFlows(flows), state: [] }]);
  expect(result).toMatchObject({ rows: flows.length, rejectedRows: 0 });
  await sink.close();
});

afterAll(async () => {
  await connection?.close();
  await store?.close();
  tmp.cleanup();
});

/**
 * The rows a filter selects, without their ids (the two engines number them alike, but need
 * not): PostgreSQL's SQL over its `flows`, or SQLite's blocks filtered in JavaScript.
 */
async function matching(db: Kysely<Database> | SqliteStore, filter: string) {
  const query = { filter: parseFilter(filter), limit: 10_000 };
  const page =
    'flowReader' in db ? await db.flowReader.query(query) : await queryFlows(db, query, 'postgres');
  return page.items.map(({ id: _id, ...flow }) => JSON.stringify(flow)).sort();
}

describe('the filter on PostgreSQL selects what it selects on SQLite', () => {
  test('both stores hold the same flows', async () => {
    const all = await matching(connection.db, 'any');
    expect(all.length).toBe(flows.length);
    expect(all).toEqual(await matching(store, 'any'));
  });

  test.each([
    'proto esp',
    'proto udp and port 500',
    'host 192.0.2.1',
    'src host 192.0.2.1',
    'dst host 2001:db8:0:5::1',
    'host 2001:0db8:0000:0001:0000:0000:0000:0001',
    'host ::ffff:10.0.0.1',
    'net 2001:db8::/32',
    'net ::/0',
    'net 0.0.0.0/0',
    'net ::ffff:0:0/96',
    'net fe80::/10',
    'src net 10.0.0.0/8',
    'src net 10.0.0.0/12',
    'src net 10.16.0.0/12',
    'src net 1.0.0.0/8',
    'src net 100.64.0.0/10',
    'net 192.0.2.128/25',
    'net 192.0.2.1/32',
    'net 198.51.100.0/24',
    'dst net 203.0.113.0/28',
    'src net 2001:db8:0:1::/64 and dst net 2001:db8:0:5::/64',
    'not port 53',
    'not (port 53 or port 123)',
    'src port > 1024 and proto tcp',
    'port != 443',
    'packets > 100',
    'bytes >= 100k',
    'proto icmp and not kind other',
    'kind icmp-frag-needed',
    'kind esp',
    'kind other',
    'not kind other and not net 10.0.0.0/8',
    'kind cleartext-leak',
    'tunnel 192.0.2.1_198.51.100.11_esp',
    'tunnel 2001:db8:0:1::1_2001:db8:0:5::1_esp',
    'exporter 192.0.2.251',
    'exporter 2001:DB8::250',
    'spi 0x6b1d2e93',
    'not spi 0x6b1d2e93',
    '(proto esp or proto udp) and host 192.0.2.1',
    'not host 198.51.100.7',
  ])('%s', async (filter) => {
    const expected = await matching(store, filter);
    // Every case selects something and leaves something out.
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(flows.length);
    expect(await matching(connection.db, filter)).toEqual(expected);
  });

  test('addresses compare as inet: no per-row function, values as parameters', () => {
    const compiled = compileFilter(
      parseFilter('src host 10.0.0.1 or dst net 2001:db8::/32'),
      'postgres',
    ).compile(connection.db);
    expect(compiled.sql).toBe('("src" = $1::inet OR "dst" <<= $2::cidr)');
    expect(compiled.parameters).toEqual(['10.0.0.1', '2001:db8::/32']);
  });

  test('the SQLite text is what it was without the dialect argument', () => {
    const node = parseFilter('not host 10.0.0.1 and net 2001:db8::/32 or src net 10.16.0.0/12');
    const before = compileFilter(node).compile(store.db);
    const sqlite = compileFilter(node, 'sqlite').compile(store.db);
    expect(sqlite.sql).toBe(before.sql);
    expect(sqlite.sql).not.toContain('inet');
  });

  test('a net filter on PostgreSQL is the inet operator on the column, no function call', async () => {
    const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN SELECT id FROM flows WHERE ${compileFilter(
      parseFilter('src net 10.0.0.0/8'),
      'postgres',
    )}`.execute(connection.db);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Filter: \(src <<= '10\.0\.0\.0\/8'::(inet|cidr)\)/);
    expect(plan).not.toMatch(/tunnelflow_|\w+\(src\)/);
  });
});

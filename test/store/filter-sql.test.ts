import type Database from 'better-sqlite3';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileFilter } from '../../store/filter/compile-filter.js';
import { tunnelKey } from '../../store/flows/tunnel-key.js';
import { parseFilter } from '../../store/filter/parse-filter.js';
import type { NormalizedFlow } from '../../model/flow.js';
import { openConnection } from '../../store/sqlite/connection.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/open-store.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import { corpusFlows } from './corpus-flows.js';
import { tempDir } from './temp-store.js';

/**
 * The filter language against a small real database: four reference decodes of the
 * corpus (IPv4 and IPv6 tunnels, ICMP "fragmentation needed", cleartext leaks, two
 * exporters and domains). Each case is checked two ways: against an oracle written
 * here in plain TypeScript over the same records (ipaddr.js for prefixes), and, where
 * given, against a count taken from the reference JSON by hand (python).
 */
const tmp = tempDir();
let store: Store;
const flows: NormalizedFlow[] = [
  ...corpusFlows('h_multi_tunnel_mixed', 'softflowd_ipfix', { exporterAddress: '192.0.2.250' }),
  ...corpusFlows('e_frag_mtu_v4', 'softflowd_ipfix', { exporterAddress: '192.0.2.251' }),
  ...corpusFlows('e_frag_mtu_v4', 'pmacct_ipfix', { exporterAddress: '192.0.2.252' }),
  ...corpusFlows('g_cleartext_leak_v4', 'softflowd_ipfix', { exporterAddress: '2001:db8::250' }),
].map((f, i) => (i === 3 ? { ...f, spi: 0x6b1d2e93 } : f));

beforeAll(async () => {
  store = await openStore({ path: tmp.path('filter.db') });
  const writer = createFlowWriter({ worker: false }, { storeConfig: store.config });
  await writer.start();
  await writer.write(flows);
  await writer.stop();
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

const inNet = (address: string, cidr: string): boolean => {
  const a = ipaddr.parse(address);
  const [net, bits] = ipaddr.parseCIDR(cidr);
  return a.kind() === net.kind() && a.match([net, bits] as never);
};
const ports = (f: NormalizedFlow) => [f.srcPort, f.dstPort];

async function matching(filter: string): Promise<NormalizedFlow[]> {
  const page = await store.flowReader.query({ filter: parseFilter(filter), limit: 10_000 });
  return page.items.map(({ id: _id, ...flow }) => flow);
}

const key = (f: NormalizedFlow) =>
  `${f.exporter}|${f.src}|${f.dst}|${f.proto}|${f.srcPort}|${f.dstPort}|${f.startMs}|${f.endMs}|${f.packets}`;

describe('filters on a real database', () => {
  test('the database holds the four decodes', () => {
    expect(flows.length).toBe(136);
  });

  test.each<[string, (f: NormalizedFlow) => boolean, number | null]>([
    ['any', () => true, 136],
    ['proto esp', (f) => f.proto === 50, 22],
    ['proto 50', (f) => f.proto === 50, 22],
    ['proto udp and port 500', (f) => f.proto === 17 && ports(f).includes(500), 14],
    ['port 500', (f) => ports(f).includes(500), 14],
    ['host 192.0.2.1', (f) => f.src === '192.0.2.1' || f.dst === '192.0.2.1', 86],
    ['src host 192.0.2.1', (f) => f.src === '192.0.2.1', null],
    ['dst host 2001:db8:0:5::1', (f) => f.dst === '2001:db8:0:5::1', null],
    ['host 2001:0db8:0000:0001:0000:0000:0000:0001', (f) => [f.src, f.dst].includes('2001:db8:0:1::1'), null],
    ['net 2001:db8::/32', (f) => f.ipVersion === 6, 22],
    ['net ::/0', (f) => f.ipVersion === 6, 22],
    ['net 0.0.0.0/0', (f) => f.ipVersion === 4, 114],
    ['src net 10.0.0.0/8', (f) => inNet(f.src, '10.0.0.0/8'), 4],
    ['net 198.51.100.0/24', (f) => inNet(f.src, '198.51.100.0/24') || inNet(f.dst, '198.51.100.0/24'), null],
    ['dst net 203.0.113.0/28', (f) => inNet(f.dst, '203.0.113.0/28'), null],
    ['net 192.0.2.1/32', (f) => f.src === '192.0.2.1' || f.dst === '192.0.2.1', 86],
    [
      'src net 2001:db8:0:1::/64 and dst net 2001:db8:0:5::/64',
      (f) => inNet(f.src, '2001:db8:0:1::/64') && inNet(f.dst, '2001:db8:0:5::/64'),
      null,
    ],
    ['not port 53', (f) => !ports(f).includes(53), 64],
    ['not (port 53 or port 123)', (f) => !ports(f).includes(53) && !ports(f).includes(123), null],
    ['src port > 1024 and proto tcp', (f) => f.proto === 6 && (f.srcPort ?? -1) > 1024, null],
    [
      'port != 443',
      (f) => (f.srcPort !== null && f.srcPort !== 443) || (f.dstPort !== null && f.dstPort !== 443),
      null,
    ],
    ['packets > 100', (f) => f.packets > 100, 20],
    ['bytes >= 100k', (f) => f.octets >= 100_000, null],
    ['proto icmp and not kind other', (f) => f.proto === 1 && f.kind !== 'other', null],
    ['kind icmp-frag-needed', (f) => f.kind === 'icmp-frag-needed', 1],
    ['kind esp', (f) => f.kind === 'esp', 22],
    ['kind cleartext-leak', (f) => f.kind === 'cleartext-leak', null],
    ['tunnel 192.0.2.1_198.51.100.11_esp', (f) => f.tunnelId === '192.0.2.1_198.51.100.11_esp', null],
    [
      'tunnel 2001:db8:0:1::1_2001:db8:0:5::1_esp',
      (f) => f.tunnelId === '2001:db8:0:1::1_2001:db8:0:5::1_esp',
      null,
    ],
    ['exporter 192.0.2.252', (f) => f.exporter === '192.0.2.252', 13],
    ['exporter 2001:DB8::250', (f) => f.exporter === '2001:db8::250', 12],
    ['spi 0x6b1d2e93', (f) => f.spi === 0x6b1d2e93, 1],
    ['not spi 0x6b1d2e93', (f) => f.spi !== 0x6b1d2e93, 135],
    ['proto esp or proto 51 and host 192.0.2.1', (f) => f.proto === 50, 22],
    [
      '(proto esp or proto udp) and host 192.0.2.1',
      (f) => (f.proto === 50 || f.proto === 17) && [f.src, f.dst].includes('192.0.2.1'),
      null,
    ],
  ])('%s', async (filter, oracle, handCount) => {
    const expected = flows.filter(oracle);
    // Every case selects something and leaves something out, except `any`.
    expect(expected.length).toBeGreaterThan(0);
    if (filter !== 'any') expect(expected.length).toBeLessThan(flows.length);
    const got = await matching(filter);
    expect(got.map(key).sort()).toEqual(expected.map(key).sort());
    if (handCount !== null) expect(got.length).toBe(handCount);
  });

  test('values travel as parameters, never in the SQL text', () => {
    const compiled = compileFilter(
      parseFilter('tunnel "x\'; DROP TABLE flows; --" or exporter 192.0.2.252 or packets > 7'),
    ).compile(store.db);
    expect(compiled.sql).not.toContain('DROP');
    expect(compiled.sql).not.toContain('192.0.2.252');
    expect(compiled.sql).not.toMatch(/\b7\b/);
    const id = "x'; DROP TABLE flows; --";
    expect(compiled.parameters).toEqual([tunnelKey(id), id, '192.0.2.252', 7]);
  });
});

describe('address filters in SQL agree with ipaddr.js', () => {
  // Addresses that share text prefixes (1. / 10. / 100.) and octet boundaries, and IPv6
  // ones, in a table of their own: every prefix length over them, each way.
  const addresses = [
    '0.0.0.0',
    '1.2.3.4',
    '10.0.0.1',
    '10.15.255.255',
    '10.16.0.0',
    '10.31.7.9',
    '10.32.0.1',
    '100.64.0.1',
    '172.16.5.4',
    '192.0.2.1',
    '192.0.2.12',
    '192.0.2.127',
    '192.0.2.128',
    '192.0.2.255',
    '198.51.100.7',
    '255.255.255.255',
    '2001:db8::1',
    '2001:db8:0:1::1',
    '::ffff:a00:1',
    'fe80::1',
  ];
  let sqlite: Database.Database;
  beforeAll(() => {
    sqlite = openConnection({
      path: tmp.path('addresses.db'),
      cacheSizeMb: 8,
      busyTimeoutMs: 1000,
      mmapSizeMb: 0,
      journalSizeLimitMb: 8,
    });
    sqlite.exec('CREATE TABLE flows (src TEXT, dst TEXT)');
    const insert = sqlite.prepare('INSERT INTO flows (src, dst) VALUES (?, ?)');
    for (const a of addresses) insert.run(a, a);
  });
  afterAll(() => sqlite.close());

  const select = (filter: string): string[] => {
    const compiled = store.db
      .selectFrom('flows')
      .select('src')
      .where(compileFilter(parseFilter(filter)))
      .compile();
    return sqlite
      .prepare<unknown[], { src: string }>(compiled.sql)
      .all(...compiled.parameters)
      .map((r) => r.src)
      .sort();
  };

  test('net, every IPv4 prefix length from several networks', () => {
    for (const network of ['10.16.0.0', '192.0.2.128', '100.64.0.0', '1.2.3.4', '255.255.255.255']) {
      for (let length = 0; length <= 32; length += 1) {
        const cidr = `${ipaddr.IPv4.networkAddressFromCIDR(`${network}/${length}`).toString()}/${length}`;
        const expected = addresses.filter((a) => inNet(a, cidr)).sort();
        expect({ cidr, got: select(`src net ${cidr}`) }).toEqual({ cidr, got: expected });
        expect({ cidr, got: select(`dst net ${cidr}`) }).toEqual({ cidr, got: expected });
      }
    }
  });

  test('net, IPv6 prefixes', () => {
    for (const cidr of ['::/0', '2001:db8::/32', '2001:db8:0:1::/64', 'fe80::/10', '::ffff:0:0/96']) {
      expect({ cidr, got: select(`net ${cidr}`) }).toEqual({
        cidr,
        got: addresses.filter((a) => inNet(a, cidr)).sort(),
      });
    }
  });

  test('host, in any spelling of the address', () => {
    expect(select('host 192.0.2.1')).toEqual(['192.0.2.1']);
    expect(select('host 2001:0db8:0000:0000:0000:0000:0000:0001')).toEqual(['2001:db8::1']);
    expect(select('host ::ffff:10.0.0.1')).toEqual(['::ffff:a00:1']);
  });
});

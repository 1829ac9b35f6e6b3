import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canonicalAddress } from '../../model/address-parse.js';
import type { NormalizedFlow } from '../../model/flow.js';
import { compileFilter } from '../../store/filter/compile-filter.js';
import { compileFlowPredicate } from '../../store/filter/flow-predicate.js';
import { parseFilter } from '../../store/filter/parse-filter.js';
import type { FlowColumnsView } from '../../store/flows/flow-columns-view.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/open-store.js';
import { FLOW_INTEGER_COLUMNS, FLOW_TEXT_COLUMNS, INTEGER_COUNT } from '../../store/flows/flow-columns.js';
import type { NewFlowRow } from '../../store/flows/flow.table.js';
import { tunnelKey } from '../../store/flows/tunnel-key.js';
import { encodedFlowsView, encodedText, encodeFlows } from '../../store/writer/flow-batch-codec.js';
import { tempDir } from './temp-store.js';
import { FLOW_KINDS } from '../../store/filter/filter-values.js';

/**
 * compileFlowPredicate (filters evaluated in JavaScript over columns, issue 11) against
 * compileFilter's SQL on SQLite: the same flows written into a real store and encoded as
 * the writer encodes them; for every filter, the rows the SQL selects must be the rows
 * the predicate selects. The expected side always comes from SQLite.
 */

// Addresses as the decoders write them (canonical text, model/address-text.ts):
// ::ffff:10.1.2.3 is stored as ::ffff:a01:203.
const canonical = (text: string): string => {
  const address = canonicalAddress(text);
  if (address === null) throw new Error(`not an address: ${text}`);
  return address;
};
const V4 = [
  '10.0.0.0',
  '10.255.255.255',
  '100.1.2.3',
  '100.1.2.2',
  '1.10.2.3',
  '0.0.0.0',
  '255.255.255.255',
  '11.0.0.1',
  '9.255.255.255',
  '10.128.0.1',
  '192.0.2.1',
  '192.0.2.12',
  '192.0.2.16',
  '172.16.0.1',
].map(canonical);
const V6 = [
  '::',
  '::1',
  '::ffff:10.1.2.3',
  '2001:db8::',
  '2001:db8::1',
  '2001:db8::2',
  '2001:db8:0:1::1',
  '2001:db8:1::1',
  '2001:db9::1',
  'fe80::1',
].map(canonical);
const PORTS = [0, 1, 22, 53, 123, 443, 500, 1023, 1024, 1025, 4500, 65534, 65535];
const COUNTS = [1, 99, 100, 101, 999, 1000, 1001, 1500, 999_999, 1_000_000, 1_000_001];
const KINDS = FLOW_KINDS;
const TUNNELS = [null, 't1', 't2', '192.0.2.1_198.51.100.11_esp', 't1 '];
const EXPORTERS = ['192.0.2.250', '192.0.2.251', canonical('2001:DB8::250')];
const SPIS = [0, 1, 0x1000, 0x6b1d2e93, 0xffff_ffff];

function baseFlow(marker: number): NormalizedFlow {
  return {
    exporter: '192.0.2.250',
    domainId: 0,
    version: 10,
    // The marker that ties a stored row to its place in the encoded batch.
    templateId: marker,
    receivedMs: Date.UTC(2026, 11, 7, 12, 0, 0),
    startMs: Date.UTC(2026, 11, 7, 11, 0, 0) + marker,
    endMs: Date.UTC(2026, 11, 7, 11, 0, 1) + marker,
    ipVersion: 4,
    src: '192.0.2.1',
    dst: '192.0.2.12',
    proto: 6,
    srcPort: null,
    dstPort: null,
    spi: null,
    packets: 1,
    octets: 100,
    rawPackets: 1,
    rawOctets: 100,
    samplingRate: 1,
    tcpFlags: null,
    tos: 0,
    icmpType: null,
    icmpCode: null,
    fragmentId: null,
    fragmentOffset: null,
    fragmentFlags: null,
    inIf: null,
    outIf: null,
    flowDirection: null,
    reportedLoss: null,
    espSeqFirst: null,
    espSeqLast: null,
    kind: 'other',
    tunnelId: null,
    saId: null,
    tunnelDirection: null,
    validatedLoss: null,
    lossClearedReason: null,
  };
}

/** A varied, deterministic set of flows: every list above crossed with the others. */
function variedFlows(): NormalizedFlow[] {
  let state = 0x2545f491;
  const random = (n: number): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
  const pick = <T>(list: readonly T[]): T => list[random(list.length)]!;
  const flows: NormalizedFlow[] = [];
  for (let i = 0; i < 600; i += 1) {
    const v6 = i % 3 === 2;
    const family = v6 ? V6 : V4;
    const shape = i % 7;
    const proto = [50, 50, 6, 17, 6, 17, v6 ? 58 : 1][shape]!;
    const ported = proto === 6 || proto === 17;
    // Some exporters leave one port out of a TCP/UDP flow: one null and one value.
    const oneSided = ported && i % 11 === 0;
    const tunnelId = pick(TUNNELS);
    flows.push({
      ...baseFlow(i),
      exporter: pick(EXPORTERS),
      ipVersion: v6 ? 6 : 4,
      src: family[(i * 5 + random(3)) % family.length]!,
      dst: family[(i * 3 + 1 + random(2)) % family.length]!,
      proto,
      srcPort: ported && !(oneSided && i % 2 === 0) ? pick(PORTS) : null,
      dstPort: ported && !(oneSided && i % 2 === 1) ? pick(PORTS) : null,
      spi: proto === 50 && i % 5 !== 0 ? pick(SPIS) : null,
      packets: pick(COUNTS),
      octets: pick(COUNTS),
      icmpType: proto === 1 || proto === 58 ? 3 : null,
      icmpCode: proto === 1 ? 4 : null,
      kind: pick(KINDS),
      tunnelId,
      saId: tunnelId === null ? null : `${tunnelId}-sa`,
    });
  }
  return flows;
}

const tmp = tempDir();
let store: Store;
const flows = variedFlows();

/**
 * The oracle's rows go into the SQL table `flows` itself (the SQLite engine keeps the
 * table, empty, and stores its flows in blocks): column by column from the same encoding
 * the writer hands to its sink, so both sides see the same values.
 */
beforeAll(async () => {
  store = await openStore({ path: tmp.path('predicate.db') });
  const encoded = encodeFlows(flows);
  const rows = flows.map((_, r) => {
    const row: Record<string, number | string | null> = {};
    FLOW_INTEGER_COLUMNS.forEach((c, i) => {
      const v = encoded.integers[r * INTEGER_COUNT + i]!;
      row[c] = Number.isNaN(v) ? null : v;
    });
    FLOW_TEXT_COLUMNS.forEach((c, i) => {
      row[c] = encodedText(encoded, r, i);
    });
    row.tunnel_key = row.tunnel_id === null ? null : tunnelKey(row.tunnel_id as string);
    return row as unknown as NewFlowRow;
  });
  for (let at = 0; at < rows.length; at += 50) {
    await store.db
      .insertInto('flows')
      .values(rows.slice(at, at + 50))
      .execute();
  }
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

/** The markers (row numbers in `flows`) of the stored rows compileFilter's SQL selects. */
async function selectedBySql(filter: string): Promise<number[]> {
  const rows = await store.db
    .selectFrom('flows')
    .select('template_id')
    .where(compileFilter(parseFilter(filter), 'sqlite'))
    .execute();
  return rows.map((r) => Number(r.template_id)).sort((a, b) => a - b);
}

function selectedByPredicate(view: FlowColumnsView, filter: string): number[] {
  const test = compileFlowPredicate(parseFilter(filter))(view);
  const rows: number[] = [];
  for (let row = 0; row < view.rows; row += 1) if (test(row)) rows.push(row);
  return rows;
}

const FILTERS = [
  'any',
  'not any',
  'proto esp',
  'proto 6',
  'proto icmp or proto icmp6',
  'not proto udp',
  'host 10.0.0.0',
  'src host 10.255.255.255',
  'dst host 2001:db8::1',
  'host ::',
  'host ::ffff:10.1.2.3',
  'not host 100.1.2.3',
  'net 0.0.0.0/0',
  'not net 0.0.0.0/0',
  'net 10.0.0.0/7',
  'net 10.0.0.0/8',
  'net 10.0.0.0/9',
  'src net 10.128.0.0/9',
  'dst net 100.1.2.2/31',
  'net 100.1.2.3/32',
  'src net 1.0.0.0/8',
  'net 192.0.2.0/28',
  'net 11.0.0.0/8',
  'net 8.0.0.0/7',
  'net 255.255.255.254/31',
  'net ::/0',
  'net 2001:db8::/48',
  'src net 2001:db8::/127',
  'dst net 2001:db8::1/128',
  'net ::/127',
  'net ::ffff:0:0/96',
  'net 2001:db8:1::/48',
  'not net ::/0',
  'port 53',
  'not port 53',
  'src port 0',
  'dst port 65535',
  'port = 500',
  'port == 4500',
  'port != 443',
  'src port != 443',
  'not dst port != 443',
  'dst port < 1024',
  'port <= 1023',
  'port > 1024',
  'src port >= 1024',
  'dst port > 65534',
  'port lt 1',
  'port ge 65535',
  'not port > 0',
  'spi 0x1000',
  'spi 0',
  'not spi 0x1000',
  'spi 4294967295',
  'kind esp',
  'kind esp-in-udp',
  'kind cleartext-leak',
  'not kind other',
  'tunnel t1',
  'not tunnel t1',
  'tunnel "t1 "',
  'tunnel 192.0.2.1_198.51.100.11_esp',
  'exporter 192.0.2.250',
  'exporter 2001:DB8::250',
  'not exporter 192.0.2.251',
  'packets > 100',
  'packets >= 100',
  'packets < 100',
  'packets <= 100',
  'packets = 100',
  'packets != 100',
  'bytes > 1k',
  'bytes >= 1m',
  'octets <= 1500',
  'bytes ne 1000',
  'proto tcp and not (port 53 or port 443)',
  'not (proto esp and spi 0x1000) or host 10.0.0.0',
  'not not port 53',
  '(net 10.0.0.0/8 or net 2001:db8::/48) and not (kind other or packets < 100)',
  'not (src port > 1024 and dst port > 1024)',
  '! port 53 && ! src net 10.0.0.0/8 || kind ike',
  'not (tunnel t1 or tunnel t2) and proto esp',
  'src net 0.0.0.0/0 and dst net ::/0',
  'not (not spi 1 or exporter 192.0.2.250)',
];

describe('compileFlowPredicate selects the rows compileFilter selects on SQLite', () => {
  const view = encodedFlowsView(encodeFlows(flows));

  test('the store and the batch hold the same flows', async () => {
    expect(view.rows).toBe(flows.length);
    expect(await selectedBySql('any')).toEqual(flows.map((_, i) => i));
  });

  test.each(FILTERS)('%s', async (filter) => {
    const expected = await selectedBySql(filter);
    expect(selectedByPredicate(view, filter)).toEqual(expected);
  });

  test('the cases discriminate: nearly all select some flows and leave others out', async () => {
    expect(FILTERS.length).toBeGreaterThanOrEqual(40);
    let partial = 0;
    for (const filter of FILTERS) {
      const count = (await selectedBySql(filter)).length;
      if (count > 0 && count < flows.length) partial += 1;
    }
    expect(partial).toBeGreaterThanOrEqual(FILTERS.length - 5);
  });

  test('every IPv4 and IPv6 prefix length over the flows', async () => {
    const networks = [
      '10.128.0.1',
      '100.1.2.3',
      '1.10.2.3',
      '255.255.255.255',
      '2001:db8::1',
      '::ffff:10.1.2.3',
    ];
    for (const network of networks) {
      const max = network.includes(':') ? 128 : 32;
      for (let length = 0; length <= max; length += 1) {
        const filter = `src net ${network}/${length} or dst net ${network}/${length}`;
        expect({ filter, rows: selectedByPredicate(view, filter) }).toEqual({
          filter,
          rows: await selectedBySql(filter),
        });
      }
    }
  });
});

describe('null columns', () => {
  // One ESP flow without ports, tunnel or SPI; one UDP flow with only a destination port.
  const esp: NormalizedFlow = { ...baseFlow(0), proto: 50, kind: 'esp' };
  const udp: NormalizedFlow = { ...baseFlow(1), proto: 17, dstPort: 53 };
  const view = encodedFlowsView(encodeFlows([esp, udp]));
  const selects = (filter: string): boolean[] => {
    const test = compileFlowPredicate(parseFilter(filter))(view);
    return [test(0), test(1)];
  };

  test.each<[string, boolean[]]>([
    ['port 53', [false, true]],
    ['not port 53', [true, false]],
    ['port != 53', [false, false]],
    ['not port != 53', [true, true]],
    ['src port < 65535', [false, false]],
    ['not src port < 65535', [true, true]],
    ['dst port != 54', [false, true]],
    ['spi 0', [false, false]],
    ['not spi 0', [true, true]],
    ['tunnel t1', [false, false]],
    ['not tunnel t1', [true, true]],
    ['not (port 53 and proto udp)', [true, false]],
    ['not (port 53 or proto esp)', [false, false]],
  ])('%s', (filter, expected) => {
    expect(selects(filter)).toEqual(expected);
  });

  test('a text column that is null (-1) never matches, whatever the dictionary holds', () => {
    const texts = new Map<string, number>([
      ['exporter', 0],
      ['src', -1],
      ['dst', 1],
      ['kind', -1],
    ]);
    const nullView: FlowColumnsView = {
      rows: 1,
      strings: ['192.0.2.250', '10.0.0.1'],
      integer: (column) => (FLOW_INTEGER_COLUMNS[column] === 'proto' ? 6 : NaN),
      text: (column) => texts.get(FLOW_TEXT_COLUMNS[column]!) ?? -1,
      ipv4: () => -1,
    };
    const at = (filter: string) => compileFlowPredicate(parseFilter(filter))(nullView)(0);
    expect(at('net 0.0.0.0/0')).toBe(true);
    expect(at('src net 0.0.0.0/0')).toBe(false);
    expect(at('not src net 0.0.0.0/0')).toBe(true);
    expect(at('kind other')).toBe(false);
    expect(at('not kind other')).toBe(true);
    expect(at('packets >= 0')).toBe(false);
    expect(at('not packets >= 0')).toBe(true);
    expect(at('exporter 192.0.2.250 and proto tcp')).toBe(true);
  });
});

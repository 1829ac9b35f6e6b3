// Which value a record gives when its template carries both address families, or repeats an
// element (RFC 7011 §8 allows both and sets no rule). The rules (README, "Decoder notes"):
// the address family whose fields are set wins, the first listed when both (or neither) are;
// for any repeated element the first instance wins. Datagrams built field by field here.

import { describe, expect, test } from 'vitest';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import {
  dataSet,
  ip,
  ipfixMessage,
  ipfixTemplateSet,
  u16,
  u64,
  u8,
  v9Packet,
  v9TemplateFlowSet,
} from './datagram-builder.js';
import type { FieldSpec } from './datagram-builder.js';

const RECEIVED = 1_800_000_000_000;
const START = Date.UTC(2026, 11, 7, 1, 0, 0);
const times: FieldSpec[] = [
  { id: 152, length: 8 },
  { id: 153, length: 8 },
];
const timeBytes = Buffer.concat([u64(START), u64(START + 1000)]);
const SRC4 = { id: 8, length: 4 };
const DST4 = { id: 12, length: 4 };
const SRC6 = { id: 27, length: 16 };
const DST6 = { id: 28, length: 16 };
const PROTO = { id: 4, length: 1 };
const SPORT = { id: 7, length: 2 };
const DPORT = { id: 11, length: 2 };

function ipfixFlows(fields: readonly FieldSpec[], record: Buffer) {
  const message = ipfixMessage({}, [
    ipfixTemplateSet([{ id: 300, fields: [...fields, ...times] }]),
    dataSet(300, [Buffer.concat([record, timeBytes])]),
  ]);
  return produceFlows(message, '192.0.2.1', RECEIVED, new TemplateCache());
}

describe('a template with both address families', () => {
  const v4First = [SRC4, DST4, SRC6, DST6];
  const v6First = [SRC6, DST6, SRC4, DST4];

  test.each([
    ['IPv4 listed first', v4First, [ip('0.0.0.0'), ip('0.0.0.0'), ip('2001:db8::1'), ip('2001:db8::2')]],
    ['IPv6 listed first', v6First, [ip('2001:db8::1'), ip('2001:db8::2'), ip('0.0.0.0'), ip('0.0.0.0')]],
  ])('0.0.0.0 IPv4 fields beside set IPv6 ones give the IPv6 flow (%s)', (_name, fields, values) => {
    const produced = ipfixFlows(fields, Buffer.concat(values));
    expect(produced.info.recordsWithoutAddress).toBe(0);
    expect(produced.flows).toHaveLength(1);
    expect(produced.flows[0]).toMatchObject({ src: '2001:db8::1', dst: '2001:db8::2', ipVersion: 6 });
  });

  test('unset IPv6 fields beside set IPv4 ones give the IPv4 flow, whatever the order', () => {
    const produced = ipfixFlows(
      v6First,
      Buffer.concat([ip('::'), ip('::'), ip('192.0.2.10'), ip('198.51.100.20')]),
    );
    expect(produced.flows[0]).toMatchObject({ src: '192.0.2.10', dst: '198.51.100.20', ipVersion: 4 });
  });

  test('one set field is enough to make its family set (0.0.0.0 as a DHCP source)', () => {
    const produced = ipfixFlows(
      v6First,
      Buffer.concat([ip('::'), ip('::'), ip('0.0.0.0'), ip('255.255.255.255')]),
    );
    expect(produced.flows[0]).toMatchObject({ src: '0.0.0.0', dst: '255.255.255.255', ipVersion: 4 });
  });

  test('both families set: the one listed first wins', () => {
    const v4 = [ip('192.0.2.10'), ip('198.51.100.20')];
    const v6 = [ip('2001:db8::1'), ip('2001:db8::2')];
    expect(ipfixFlows(v4First, Buffer.concat([...v4, ...v6])).flows[0]).toMatchObject({
      src: '192.0.2.10',
      dst: '198.51.100.20',
    });
    expect(ipfixFlows(v6First, Buffer.concat([...v6, ...v4])).flows[0]).toMatchObject({
      src: '2001:db8::1',
      dst: '2001:db8::2',
    });
  });

  test('records of one template choose apart (each record by its own fields)', () => {
    const fields = [...v4First, ...times];
    const message = ipfixMessage({}, [
      ipfixTemplateSet([{ id: 301, fields }]),
      dataSet(301, [
        Buffer.concat([ip('0.0.0.0'), ip('0.0.0.0'), ip('2001:db8::1'), ip('2001:db8::2'), timeBytes]),
        Buffer.concat([ip('192.0.2.10'), ip('198.51.100.20'), ip('::'), ip('::'), timeBytes]),
      ]),
    ]);
    const produced = produceFlows(message, '192.0.2.1', RECEIVED, new TemplateCache());
    expect(produced.flows.map((f) => [f.src, f.dst])).toEqual([
      ['2001:db8::1', '2001:db8::2'],
      ['192.0.2.10', '198.51.100.20'],
    ]);
  });

  test('NetFlow v9 follows the same rule', () => {
    const v9Times: FieldSpec[] = [
      { id: 22, length: 4 },
      { id: 21, length: 4 },
    ];
    const fields = [SRC6, DST6, SRC4, DST4, ...v9Times];
    const record = Buffer.concat([
      ip('2001:db8::a'),
      ip('2001:db8::b'),
      ip('0.0.0.0'),
      ip('0.0.0.0'),
      Buffer.from([0, 0, 0x27, 0x10, 0, 0, 0x4e, 0x20]),
    ]);
    const packet = v9Packet({ count: 2, uptimeMs: 100_000 }, [
      v9TemplateFlowSet([{ id: 260, fields }]),
      dataSet(260, [record]),
    ]);
    const produced = produceFlows(packet, '192.0.2.1', RECEIVED, new TemplateCache());
    expect(produced.flows).toHaveLength(1);
    expect(produced.flows[0]).toMatchObject({ src: '2001:db8::a', dst: '2001:db8::b', ipVersion: 6 });
  });
});

describe('a repeated element: the first instance wins', () => {
  // A tunnel record as some exporters send it: the outer IPv6 header (protocol 4: IPv4 in
  // IPv6) first, then the inner IPv4 header with its ports and protocol 17.
  const fields = [SRC6, DST6, PROTO, SRC4, DST4, PROTO, SPORT, DPORT, SPORT, DPORT];
  const record = Buffer.concat([
    ip('2001:db8::1'),
    ip('2001:db8::2'),
    u8(4),
    ip('10.0.0.1'),
    ip('10.0.0.2'),
    u8(17),
    u16(1111),
    u16(2222),
    u16(3333),
    u16(4444),
  ]);

  test('outer protocol and addresses, first ports', () => {
    const produced = ipfixFlows(fields, record);
    expect(produced.flows).toHaveLength(1);
    expect(produced.flows[0]).toMatchObject({
      src: '2001:db8::1',
      dst: '2001:db8::2',
      proto: 4,
      srcPort: 1111,
      dstPort: 2222,
    });
  });

  test('the same holds in a variable-length template', () => {
    // An IE 82 interfaceName of variable length forces the general (variable) decode path.
    const withVariable = [...fields, { id: 82, length: 65535 }];
    const produced = ipfixFlows(withVariable, Buffer.concat([record, u8(3), Buffer.from('eth')]));
    expect(produced.flows[0]).toMatchObject({ proto: 4, srcPort: 1111, dstPort: 2222, src: '2001:db8::1' });
  });

  test('the counters too: the first octet count is the record’s', () => {
    const octets = { id: 1, length: 8 };
    const produced = ipfixFlows(
      [SRC4, DST4, octets, octets],
      Buffer.concat([ip('192.0.2.1'), ip('192.0.2.2'), u64(1500), u64(99)]),
    );
    expect(produced.flows[0]?.octets).toBe(1500);
  });
});

// IPFIX features the corpus exporters do not exercise: variable-length and enterprise
// fields, reduced-size encoding, reverse elements, tunnelflow's ESP elements, padding,
// options records, trailing bytes.

import { describe, expect, test } from 'vitest';
import { decodeIpfix } from '../../collector/wire/ipfix.js';
import { decodeDatagram } from '../../collector/wire/decode-datagram.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import {
  dataSet,
  ip,
  ipfixMessage,
  ipfixOptionsTemplateSet,
  ipfixTemplateSet,
  u16,
  u32,
  u64,
  u8,
  varlen,
} from './datagram-builder.js';

const cache = (): TemplateCache => new TemplateCache({ now: () => 1_000 });

describe('field encodings', () => {
  test('variable-length fields (short and 3-byte forms) are skipped and the record stays aligned', () => {
    const template = {
      id: 300,
      fields: [
        { id: 8, length: 4 },
        { id: 82, length: 65535 }, // interfaceName, a string
        { id: 12, length: 4 },
        { id: 83, length: 65535 }, // interfaceDescription
        { id: 2, length: 8 },
      ],
    };
    const r1 = Buffer.concat([
      ip('10.0.0.1'),
      varlen(Buffer.from('eth0')),
      ip('10.0.0.2'),
      varlen(Buffer.alloc(0)),
      u64(7),
    ]);
    const r2 = Buffer.concat([
      ip('10.0.0.3'),
      varlen(Buffer.alloc(300, 0x41), true),
      ip('10.0.0.4'),
      varlen(Buffer.from('x'), true),
      u64(9),
    ]);
    const out = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(300, [r1, r2])]),
      'e',
      cache(),
    );
    expect(out.issues).toEqual([]);
    expect(out.records.map((r) => [r.src, r.dst, r.packets])).toEqual([
      ['10.0.0.1', '10.0.0.2', 7],
      ['10.0.0.3', '10.0.0.4', 9],
    ]);
  });

  test('a variable-length field running past its set drops the rest of the set', () => {
    const template = {
      id: 301,
      fields: [
        { id: 8, length: 4 },
        { id: 82, length: 65535 },
      ],
    };
    const good = Buffer.concat([ip('10.0.0.1'), varlen(Buffer.from('a'))]);
    const bad = Buffer.concat([ip('10.0.0.2'), u8(200), Buffer.from('short')]);
    const out = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(301, [good, bad])]),
      'e',
      cache(),
    );
    expect(out.records.map((r) => r.src)).toEqual(['10.0.0.1']);
    expect(out.issues).toMatchObject([{ kind: 'truncated-record', templateId: 301, setId: 301 }]);
  });

  test('reduced-size encoding (RFC 7011 §6.2): counters in 4 or 3 bytes', () => {
    const template = {
      id: 302,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
        { id: 1, length: 4 },
        { id: 2, length: 3 },
        { id: 10, length: 2 },
      ],
    };
    const record = Buffer.concat([
      ip('192.0.2.1'),
      ip('192.0.2.2'),
      u32(4_000_000_000),
      Buffer.from([1, 2, 3]),
      u16(5),
    ]);
    const out = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(302, [record])]),
      'e',
      cache(),
    );
    expect(out.records[0]).toMatchObject({ octets: 4_000_000_000, packets: 0x010203, inIf: 5 });
  });

  test('64-bit counters above 2^32 are read whole', () => {
    const template = {
      id: 303,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
        { id: 1, length: 8 },
      ],
    };
    const record = Buffer.concat([ip('192.0.2.1'), ip('192.0.2.2'), u64(2n ** 40n + 5n)]);
    const out = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(303, [record])]),
      'e',
      cache(),
    );
    expect(out.records[0]!.octets).toBe(2 ** 40 + 5);
  });

  test('a field with a length its type cannot have is skipped and reported; the template is kept', () => {
    const template = {
      id: 304,
      fields: [
        { id: 8, length: 3 },
        { id: 12, length: 4 },
        { id: 2, length: 4 },
      ],
    };
    const record = Buffer.concat([Buffer.from([1, 2, 3]), ip('192.0.2.2'), u32(3)]);
    const out = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(304, [record])]),
      'e',
      cache(),
    );
    expect(out.issues).toMatchObject([
      { kind: 'bad-field-length', templateId: 304, elementId: 8, length: 3 },
    ]);
    expect(out.records[0]).toMatchObject({ src: null, dst: '192.0.2.2', packets: 3 });
  });

  test('IPv6 addresses are RFC 5952 text', () => {
    const template = {
      id: 305,
      fields: [
        { id: 27, length: 16 },
        { id: 28, length: 16 },
      ],
    };
    const record = Buffer.concat([ip('2001:db8:0:1::1'), ip('2001:0db8:0000:0000:0001:0000:0000:0001')]);
    const out = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(305, [record])]),
      'e',
      cache(),
    );
    expect(out.records[0]).toMatchObject({
      src: '2001:db8:0:1::1',
      dst: '2001:db8::1:0:0:1',
      addressFamily: 6,
    });
  });
});

describe('enterprise elements', () => {
  test('unknown enterprise fields are skipped; RFC 5103 reverse (PEN 29305) and tunnelflow (PEN 32473) are read', () => {
    const template = {
      id: 310,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
        { id: 2, length: 4 },
        { id: 100, length: 6, pen: 9 }, // a vendor's element tunnelflow does not know
        { id: 2, length: 4, pen: 29305 }, // reversePacketDeltaCount
        { id: 1, length: 4, pen: 29305 }, // reverseOctetDeltaCount
        { id: 6, length: 1, pen: 29305 }, // reverseTcpControlBits
        { id: 295, length: 4 }, // IPSecSPI
        { id: 1, length: 4, pen: 32473 }, // espSequenceFirst
        { id: 2, length: 4, pen: 32473 }, // espSequenceLast
        { id: 3, length: 8, pen: 32473 }, // espLostPackets
      ],
    };
    const record = Buffer.concat([
      ip('192.0.2.10'),
      ip('198.51.100.20'),
      u32(100),
      Buffer.from('vendor'),
      u32(90),
      u32(9000),
      u8(0x12),
      u32(0xc3a1f2d4),
      u32(1),
      u32(103),
      u64(3),
    ]);
    const out = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(310, [record])]),
      'e',
      cache(),
    );
    expect(out.issues).toEqual([]);
    expect(out.records[0]).toMatchObject({
      packets: 100,
      revPackets: 90,
      revOctets: 9000,
      revTcpFlags: 0x12,
      spi: 0xc3a1f2d4,
      espSeqFirst: 1,
      espSeqLast: 103,
      espLostPackets: 3,
    });
  });
});

describe('sets and padding', () => {
  test('zero padding after the last record of a data set is ignored; non-zero padding is reported', () => {
    const template = {
      id: 320,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
      ],
    };
    const record = Buffer.concat([ip('10.1.1.1'), ip('10.1.1.2')]);
    const padded = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(320, [record, record], 3)]),
      'e',
      cache(),
    );
    expect(padded.issues).toEqual([]);
    expect(padded.records).toHaveLength(2);
    const dirty = decodeIpfix(
      ipfixMessage({}, [ipfixTemplateSet([template]), dataSet(320, [record, Buffer.from([1, 0, 0])])]),
      'e',
      cache(),
    );
    expect(dirty.records).toHaveLength(1);
    expect(dirty.issues).toMatchObject([{ kind: 'bad-padding', bytes: 3 }]);
  });

  test('padding after the template records of a template set is ignored', () => {
    const set = ipfixTemplateSet([{ id: 321, fields: [{ id: 8, length: 4 }] }]);
    const padded = Buffer.concat([set, Buffer.alloc(2)]);
    padded.writeUInt16BE(set.length + 2, 2);
    const out = decodeIpfix(ipfixMessage({}, [padded]), 'e', cache());
    expect(out.issues).toEqual([]);
    expect(out.templatesLearned).toBe(1);
  });

  test('an empty data set is not an error', () => {
    const out = decodeIpfix(ipfixMessage({}, [dataSet(999, [])]), 'e', cache());
    expect(out.issues).toEqual([]);
  });

  test('bytes after the message length are counted as trailing, the message is decoded', () => {
    const template = {
      id: 322,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
      ],
    };
    const message = ipfixMessage({}, [
      ipfixTemplateSet([template]),
      dataSet(322, [Buffer.concat([ip('10.0.0.1'), ip('10.0.0.2')])]),
    ]);
    const out = decodeDatagram(Buffer.concat([message, Buffer.from([1, 2, 3, 4, 5])]), 'e', cache());
    expect(out.records).toHaveLength(1);
    expect(out.issues).toMatchObject([{ kind: 'trailing-bytes', bytes: 5 }]);
  });

  test('set ids 0, 1 and 4-255 are reserved: skipped and counted, decoding goes on', () => {
    const template = {
      id: 323,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
      ],
    };
    const record = Buffer.concat([ip('10.0.0.1'), ip('10.0.0.2')]);
    const out = decodeIpfix(
      ipfixMessage({}, [
        dataSet(1, [u32(0)]),
        ipfixTemplateSet([template]),
        dataSet(200, [u32(0)]),
        dataSet(323, [record]),
      ]),
      'e',
      cache(),
    );
    expect(out.issues.map((i) => [i.kind, i.setId])).toEqual([
      ['reserved-set-id', 1],
      ['reserved-set-id', 200],
    ]);
    expect(out.records).toHaveLength(1);
  });

  test('an options template without scope fields is rejected (RFC 7011 §3.4.2.2)', () => {
    const out = decodeIpfix(
      ipfixMessage({}, [
        ipfixOptionsTemplateSet([{ id: 330, scopeCount: 0, fields: [{ id: 34, length: 4 }] }]),
      ]),
      'e',
      cache(),
    );
    expect(out.issues).toMatchObject([
      { kind: 'bad-template', templateId: 330, reason: 'scope-count-invalid' },
    ]);
  });

  test('options records are decoded by name with typed values', () => {
    const options = {
      id: 331,
      scopeCount: 1,
      fields: [
        { id: 149, length: 4 }, // observationDomainId (scope)
        { id: 160, length: 8 }, // systemInitTimeMilliseconds
        { id: 82, length: 8 }, // interfaceName, NUL padded
        { id: 130, length: 4 }, // exporterIPv4Address
        { id: 999, length: 3 }, // unknown
      ],
    };
    const record = Buffer.concat([
      u32(7),
      u64(1710234007250),
      Buffer.from('eth0\0\0\0\0'),
      ip('192.0.2.9'),
      Buffer.from([1, 2, 3]),
    ]);
    const out = decodeIpfix(
      ipfixMessage({}, [ipfixOptionsTemplateSet([options]), dataSet(331, [record])]),
      'e',
      cache(),
    );
    expect(out.issues).toEqual([]);
    expect(out.optionsRecords[0]!.fields.map((f) => [f.name, f.scope, f.value])).toEqual([
      ['observationDomainId', true, 7],
      ['systemInitTimeMilliseconds', false, 1710234007250],
      ['interfaceName', false, 'eth0'],
      ['exporterIPv4Address', false, '192.0.2.9'],
      ['ie999', false, 0x010203],
    ]);
  });
});

// The shared IPFIX encoder against our decoder: what one writes the other reads back, field
// by field, including enterprise specifiers, variable-length fields and options templates.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TUNNELFLOW_PEN } from '../../collector/wire/elements.js';
import {
  encodeDataRecord,
  encodeDataSet,
  encodeMessage,
  encodeOptionsTemplateSet,
  encodeTemplateSet,
  encodeTemplateWithdrawal,
} from '../../collector/wire/ipfix-encoder.js';
import type { EncodeField } from '../../collector/wire/ipfix-encoder.js';
import { decodeIpfix } from '../../collector/wire/ipfix.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';

const cache = (): TemplateCache => new TemplateCache({ now: () => 1_000 });

const SA_FIELDS: readonly EncodeField[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 4, length: 1 },
  { id: 295, length: 4 },
  { id: 2, length: 8 },
  { id: 1, length: 8 },
  { id: 152, length: 8 },
  { id: 153, length: 8 },
  { id: 1, length: 4, enterprise: TUNNELFLOW_PEN },
  { id: 2, length: 4, enterprise: TUNNELFLOW_PEN },
  { id: 3, length: 8, enterprise: TUNNELFLOW_PEN },
  { id: 4, length: 8, enterprise: TUNNELFLOW_PEN },
  { id: 5, length: 8, enterprise: TUNNELFLOW_PEN },
  { id: 6, length: 8, enterprise: TUNNELFLOW_PEN },
  { id: 82, length: 65535 },
];

describe('ipfix encoder round trip', () => {
  test('header, template and data record come back as written', () => {
    const record = encodeDataRecord(SA_FIELDS, [
      '192.0.2.10',
      '198.51.100.20',
      50,
      0xc3a1f2d4,
      1719,
      2_000_000,
      1710234026600,
      1710234316085,
      1,
      1736,
      17,
      2,
      3,
      500,
      'eth0',
    ]);
    const msg = encodeMessage({
      exportTimeSec: 1710234400,
      sequence: 41,
      observationDomainId: 7,
      sets: [encodeTemplateSet([{ templateId: 256, fields: SA_FIELDS }]), encodeDataSet(256, [record])],
    });
    const out = decodeIpfix(msg, 'probe', cache());
    expect(out.issues).toEqual([]);
    expect(out.header).toMatchObject({
      version: 10,
      exportTime: 1710234400,
      sequenceNumber: 41,
      observationDomainId: 7,
    });
    expect(out.templatesLearned).toBe(1);
    const r = out.records[0]!;
    expect(r).toMatchObject({
      templateId: 256,
      src: '192.0.2.10',
      dst: '198.51.100.20',
      proto: 50,
      spi: 0xc3a1f2d4,
      packets: 1719,
      octets: 2_000_000,
      startAbsMs: 1710234026600,
      endAbsMs: 1710234316085,
      espSeqFirst: 1,
      espSeqLast: 1736,
      espLostPackets: 17,
      espDuplicatePackets: 2,
      espOutOfOrderPackets: 3,
      ipFragmentPackets: 500,
    });
  });

  test('IPv6 addresses and NAT-T ports', () => {
    const fields: EncodeField[] = [
      { id: 27, length: 16 },
      { id: 28, length: 16 },
      { id: 4, length: 1 },
      { id: 7, length: 2 },
      { id: 11, length: 2 },
      { id: 2, length: 4 },
    ];
    const rec = encodeDataRecord(fields, ['2001:db8:0:1::1', '2001:db8::5', 17, 36013, 4500, 9]);
    const msg = encodeMessage({
      exportTimeSec: 1,
      sequence: 0,
      observationDomainId: 1,
      sets: [encodeTemplateSet([{ templateId: 300, fields }]), encodeDataSet(300, [rec])],
    });
    const r = decodeIpfix(msg, 'probe', cache()).records[0]!;
    expect([r.src, r.dst, r.proto, r.srcPort, r.dstPort, r.packets]).toEqual([
      '2001:db8:0:1::1',
      '2001:db8::5',
      17,
      36013,
      4500,
      9,
    ]);
  });

  test('options template with a variable-length string: RFC 5610 type record read back by name', () => {
    const fields: EncodeField[] = [
      { id: 303, length: 2 },
      { id: 346, length: 4 },
      { id: 339, length: 1 },
      { id: 344, length: 1 },
      { id: 341, length: 65535 },
      { id: 340, length: 65535 },
    ];
    const long = 'x'.repeat(300);
    const rec = encodeDataRecord(fields, [3, TUNNELFLOW_PEN, 4, 3, 'espLostPackets', long]);
    const msg = encodeMessage({
      exportTimeSec: 1,
      sequence: 0,
      observationDomainId: 1,
      sets: [
        encodeOptionsTemplateSet([{ templateId: 257, scopeFieldCount: 2, fields }]),
        encodeDataSet(257, [rec]),
      ],
    });
    const out = decodeIpfix(msg, 'probe', cache());
    expect(out.issues).toEqual([]);
    const o = out.optionsRecords[0]!;
    const byName = Object.fromEntries(o.fields.map((f) => [f.name, f.value]));
    expect(byName).toMatchObject({
      informationElementId: 3,
      privateEnterpriseNumber: TUNNELFLOW_PEN,
      informationElementDataType: 4,
      informationElementSemantics: 3,
      informationElementName: 'espLostPackets',
      informationElementDescription: long,
    });
    expect(o.fields.filter((f) => f.scope).map((f) => f.name)).toEqual([
      'informationElementId',
      'privateEnterpriseNumber',
    ]);
  });

  test('a withdrawal removes the template', () => {
    const c = cache();
    const fields: EncodeField[] = [{ id: 2, length: 4 }];
    const set = encodeTemplateSet([{ templateId: 400, fields }]);
    decodeIpfix(
      encodeMessage({ exportTimeSec: 1, sequence: 0, observationDomainId: 1, sets: [set] }),
      'e',
      c,
    );
    const out = decodeIpfix(
      encodeMessage({
        exportTimeSec: 1,
        sequence: 0,
        observationDomainId: 1,
        sets: [encodeTemplateWithdrawal(400), encodeDataSet(400, [encodeDataRecord(fields, [1])])],
      }),
      'e',
      c,
    );
    expect(out.templatesWithdrawn).toBe(1);
    expect(out.records).toHaveLength(0);
    expect(out.missingTemplateRecords).toBeGreaterThan(0);
  });

  test('property: any counters of any width survive the round trip', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 2, 4, 8), fc.bigInt({ min: 0n, max: 2n ** 53n - 1n })), {
          minLength: 1,
          maxLength: 6,
        }),
        (cols) => {
          // packetDeltaCount in every width the decoder reads (RFC 7011 §6.2 reduced size).
          const fields: EncodeField[] = cols.map(([length]) => ({ id: 2, length }));
          const values = cols.map(([length, v]) => v & ((1n << BigInt(length * 8)) - 1n));
          const first = values[0]!;
          const msg = encodeMessage({
            exportTimeSec: 5,
            sequence: 9,
            observationDomainId: 3,
            sets: [
              encodeTemplateSet([{ templateId: 256, fields }]),
              encodeDataSet(256, [encodeDataRecord(fields, values)]),
            ],
          });
          const out = decodeIpfix(msg, 'e', cache());
          expect(out.issues).toEqual([]);
          // A repeated element's first instance is the one the record keeps (README "Decoder notes").
          expect(out.records[0]!.packets).toBe(Number(first));
        },
      ),
    );
  });
});

// Wire records → FlowRecords for what the corpus exporters do not send: every IPFIX time
// format, sysUpTime wrap, sampling announced every way, biflow corner cases, ICMP,
// loss and ESP fields. Expected values are worked out from the inputs here, by hand.

import { describe, expect, test } from 'vitest';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import {
  dataSet,
  ip,
  ipfixMessage,
  ipfixOptionsTemplateSet,
  ipfixTemplateSet,
  ntp,
  u16,
  u32,
  u64,
  u8,
  v5Datagram,
  v9OptionsTemplateFlowSet,
  v9Packet,
  v9TemplateFlowSet,
} from '../wire/datagram-builder.js';
import type { FieldSpec } from '../wire/datagram-builder.js';

const RECEIVED = 1_800_000_000_000;
const EXPORT_SECS = 1710234336;
const addresses: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
];
const addressBytes = Buffer.concat([ip('192.0.2.10'), ip('198.51.100.20')]);

function ipfixFlows(
  fields: FieldSpec[],
  values: Buffer,
  extraSets: Buffer[] = [],
  cache = new TemplateCache(),
) {
  const message = ipfixMessage({ exportTime: EXPORT_SECS }, [
    ...extraSets,
    ipfixTemplateSet([{ id: 400, fields: [...addresses, ...fields] }]),
    dataSet(400, [Buffer.concat([addressBytes, values])]),
  ]);
  return produceFlows(message, '192.0.2.1', RECEIVED, cache);
}

describe('IPFIX flow times', () => {
  const start = Date.UTC(2024, 2, 12, 9, 0, 7, 250);
  const end = Date.UTC(2024, 2, 12, 9, 4, 8, 500);

  test.each([
    ['flowStart/EndSeconds (150/151)', [150, 151], 4, (t: number) => u32(Math.floor(t / 1000)), 1000],
    ['flowStart/EndMilliseconds (152/153)', [152, 153], 8, (t: number) => u64(t), 1],
    ['flowStart/EndMicroseconds (154/155, NTP)', [154, 155], 8, ntp, 1],
    ['flowStart/EndNanoseconds (156/157, NTP)', [156, 157], 8, ntp, 1],
  ] as const)('%s', (_name, ids, length, encode, precision) => {
    const produced = ipfixFlows(
      ids.map((id) => ({ id, length })),
      Buffer.concat([encode(start), encode(end)]),
    );
    expect(produced.issues).toEqual([]);
    const flow = produced.flows[0]!;
    expect(flow.startMs).toBe(Math.floor(start / precision) * precision);
    expect(flow.endMs).toBe(Math.floor(end / precision) * precision);
    expect(produced.info.flowsWithoutTime).toBe(0);
  });

  test('NTP fractions are rounded down to whole ms', () => {
    // 2024-03-12T09:00:00Z + 0.123456789 s, written as NTP seconds + fraction by hand.
    const seconds = Date.UTC(2024, 2, 12, 9) / 1000 + 2208988800;
    const fraction = Math.floor(0.123456789 * 2 ** 32);
    const stamp = Buffer.concat([u32(seconds), u32(fraction)]);
    const flow = ipfixFlows([{ id: 156, length: 8 }], stamp).flows[0]!;
    expect(flow.startMs).toBe(Date.UTC(2024, 2, 12, 9) + 123);
    expect(flow.endMs).toBe(flow.startMs);
  });

  test('flowStart/EndDeltaMicroseconds (158/159) count back from the export time', () => {
    const flow = ipfixFlows(
      [
        { id: 158, length: 4 },
        { id: 159, length: 4 },
      ],
      Buffer.concat([u32(65_432_100), u32(1_500)]),
    ).flows[0]!;
    expect(flow.startMs).toBe(EXPORT_SECS * 1000 - 65_433);
    expect(flow.endMs).toBe(EXPORT_SECS * 1000 - 2);
  });

  test('sysUpTime fields (22/21) with systemInitTimeMilliseconds (160) in the record', () => {
    const init = Date.UTC(2024, 2, 1);
    const flow = ipfixFlows(
      [
        { id: 160, length: 8 },
        { id: 22, length: 4 },
        { id: 21, length: 4 },
      ],
      Buffer.concat([u64(init), u32(1_000), u32(61_000)]),
    ).flows[0]!;
    expect([flow.startMs, flow.endMs]).toEqual([init + 1_000, init + 61_000]);
  });

  test('sysUpTime fields (22/21) with systemInitTimeMilliseconds announced in an options record', () => {
    const init = Date.UTC(2024, 2, 1);
    const cache = new TemplateCache();
    const options = ipfixOptionsTemplateSet([
      {
        id: 401,
        scopeCount: 1,
        fields: [
          { id: 143, length: 4 },
          { id: 160, length: 8 },
        ],
      },
    ]);
    const optionsData = dataSet(401, [Buffer.concat([u32(1), u64(init)])]);
    const flow = ipfixFlows(
      [
        { id: 22, length: 4 },
        { id: 21, length: 4 },
      ],
      Buffer.concat([u32(5), u32(7)]),
      [options, optionsData],
      cache,
    ).flows[0]!;
    expect([flow.startMs, flow.endMs]).toEqual([init + 5, init + 7]);
  });

  test('a record without any usable time gets the export time and is counted', () => {
    const produced = ipfixFlows([{ id: 22, length: 4 }], u32(5));
    expect([produced.flows[0]!.startMs, produced.flows[0]!.endMs]).toEqual([
      EXPORT_SECS * 1000,
      EXPORT_SECS * 1000,
    ]);
    expect(produced.info.flowsWithoutTime).toBe(1);
  });

  test('a record with only an end time uses it for both', () => {
    const flow = ipfixFlows([{ id: 153, length: 8 }], u64(end)).flows[0]!;
    expect([flow.startMs, flow.endMs]).toEqual([end, end]);
  });
});

describe('NetFlow v5 / v9 sysUpTime arithmetic', () => {
  test('v5: unix secs + nsecs - sysUpTime + First/Last, rounded down', () => {
    const datagram = v5Datagram({ uptimeMs: 329_542, unixSecs: EXPORT_SECS, unixNsecs: 792_623_000 }, [
      {
        src: '192.0.2.10',
        dst: '198.51.100.20',
        packets: 4,
        octets: 888,
        first: 100,
        last: 241_030,
        proto: 17,
      },
    ]);
    const flow = produceFlows(datagram, 'r', RECEIVED, new TemplateCache()).flows[0]!;
    const exportMs = EXPORT_SECS * 1000 + 792.623;
    expect(flow.startMs).toBe(Math.floor(exportMs - 329_542 + 100));
    expect(flow.endMs).toBe(Math.floor(exportMs - 329_542 + 241_030));
  });

  test('v9: a FIRST_SWITCHED from before sysUpTime wrapped (2^32 ms) lands just before export', () => {
    const template = {
      id: 256,
      fields: [...addresses, { id: 22, length: 4 }, { id: 21, length: 4 }],
    };
    const packet = v9Packet({ count: 2, uptimeMs: 1_000, unixSecs: EXPORT_SECS }, [
      v9TemplateFlowSet([template]),
      dataSet(256, [Buffer.concat([addressBytes, u32(2 ** 32 - 5_000), u32(500)])]),
    ]);
    const produced = produceFlows(packet, 'r', RECEIVED, new TemplateCache());
    expect(produced.issues).toEqual([]);
    expect(produced.flows[0]!.startMs).toBe(EXPORT_SECS * 1000 - 6_000);
    expect(produced.flows[0]!.endMs).toBe(EXPORT_SECS * 1000 - 500);
  });

  test('v5 domain is (engine type << 8) | engine id and its header sampling interval scales counters', () => {
    const datagram = v5Datagram(
      {
        uptimeMs: 10_000,
        unixSecs: EXPORT_SECS,
        unixNsecs: 0,
        engineType: 1,
        engineId: 2,
        sampling: 0x4000 | 64,
      },
      [{ src: '192.0.2.10', dst: '198.51.100.20', packets: 3, octets: 300, first: 1, last: 2, proto: 6 }],
    );
    const flow = produceFlows(datagram, 'r', RECEIVED, new TemplateCache()).flows[0]!;
    expect(flow).toMatchObject({
      domainId: 258,
      samplingRate: 64,
      packets: 192,
      octets: 19_200,
      rawPackets: 3,
      rawOctets: 300,
    });
  });
});

describe('sampling rates', () => {
  const flowFields: FieldSpec[] = [...addresses, { id: 2, length: 4 }, { id: 1, length: 4 }];

  test('v9: FLOW_SAMPLER_ID names an options record with SAMPLING_INTERVAL; unknown ids are unsampled', () => {
    const cache = new TemplateCache();
    const setup = v9Packet({ count: 3 }, [
      v9OptionsTemplateFlowSet(
        300,
        [{ id: 1, length: 4 }],
        [
          { id: 48, length: 1 },
          { id: 34, length: 4 },
        ],
      ),
      dataSet(300, [Buffer.concat([u32(0), u8(3), u32(100)])], 3),
      v9TemplateFlowSet([{ id: 256, fields: [...flowFields, { id: 48, length: 1 }] }]),
    ]);
    expect(produceFlows(setup, 'r', RECEIVED, cache).issues).toEqual([]);
    const data = v9Packet({ count: 2 }, [
      dataSet(256, [
        Buffer.concat([addressBytes, u32(2), u32(200), u8(3)]),
        Buffer.concat([addressBytes, u32(2), u32(200), u8(9)]),
      ]),
    ]);
    const flows = produceFlows(data, 'r', RECEIVED, cache).flows;
    expect(flows.map((f) => [f.samplingRate, f.packets, f.octets, f.rawPackets])).toEqual([
      [100, 200, 20_000, 2],
      [1, 2, 200, 2],
    ]);
  });

  test('v9: SAMPLING_INTERVAL carried in the data record itself', () => {
    const packet = v9Packet({ count: 2 }, [
      v9TemplateFlowSet([{ id: 256, fields: [...flowFields, { id: 34, length: 2 }] }]),
      dataSet(256, [Buffer.concat([addressBytes, u32(5), u32(500), u16(10)])]),
    ]);
    expect(produceFlows(packet, 'r', RECEIVED, new TemplateCache()).flows[0]).toMatchObject({
      samplingRate: 10,
      packets: 50,
      octets: 5_000,
    });
  });

  test('IPFIX: selectorId with samplingPacketInterval/Space gives (interval + space) / interval', () => {
    const cache = new TemplateCache();
    const options = ipfixOptionsTemplateSet([
      {
        id: 500,
        scopeCount: 1,
        fields: [
          { id: 302, length: 8 },
          { id: 305, length: 4 },
          { id: 306, length: 4 },
        ],
      },
    ]);
    const produced = produceFlows(
      ipfixMessage({}, [
        options,
        dataSet(500, [Buffer.concat([u64(77), u32(2), u32(8)])]),
        ipfixTemplateSet([{ id: 501, fields: [...flowFields, { id: 302, length: 8 }] }]),
        dataSet(501, [Buffer.concat([addressBytes, u32(3), u32(333), u64(77)])]),
      ]),
      'r',
      RECEIVED,
      cache,
    );
    expect(produced.flows[0]).toMatchObject({ samplingRate: 5, packets: 15, octets: 1_665, rawPackets: 3 });
  });

  test('IPFIX: a rate announced without sampler or selector id applies to the whole domain', () => {
    const cache = new TemplateCache();
    const options = ipfixOptionsTemplateSet([
      {
        id: 502,
        scopeCount: 1,
        fields: [
          { id: 149, length: 4 },
          { id: 34, length: 4 },
        ],
      },
    ]);
    produceFlows(
      ipfixMessage({}, [options, dataSet(502, [Buffer.concat([u32(0), u32(50)])])]),
      '192.0.2.1',
      RECEIVED,
      cache,
    );
    const flow = ipfixFlows([{ id: 2, length: 4 }], u32(4), [], cache).flows[0]!;
    expect(flow).toMatchObject({ samplingRate: 50, packets: 200, rawPackets: 4 });
  });
});

describe('RFC 5103 biflows', () => {
  const fields: FieldSpec[] = [
    { id: 7, length: 2 },
    { id: 11, length: 2 },
    { id: 4, length: 1 },
    { id: 10, length: 4 },
    { id: 14, length: 4 },
    { id: 2, length: 4 },
    { id: 1, length: 4 },
    { id: 5, length: 1 },
    { id: 6, length: 1 },
    { id: 295, length: 4 },
    { id: 2, length: 4, pen: 29305 },
    { id: 1, length: 4, pen: 29305 },
    { id: 5, length: 1, pen: 29305 },
    { id: 6, length: 1, pen: 29305 },
  ];
  const values = (packets: number, reversePackets: number): Buffer =>
    Buffer.concat([
      u16(4500),
      u16(36013),
      u8(17),
      u32(1),
      u32(2),
      u32(packets),
      u32(packets * 100),
      u8(0x10),
      u8(0x02),
      u32(0xa8c2017f),
      u32(reversePackets),
      u32(reversePackets * 90),
      u8(0x20),
      u8(0x12),
    ]);

  test('one record with both directions becomes two flows, the reverse one swapped', () => {
    const flows = ipfixFlows(fields, values(5, 7)).flows;
    expect(flows).toHaveLength(2);
    expect(flows[0]).toMatchObject({
      src: '192.0.2.10',
      dst: '198.51.100.20',
      srcPort: 4500,
      dstPort: 36013,
      packets: 5,
      octets: 500,
      tos: 0x10,
      tcpFlags: 0x02,
      inIf: 1,
      outIf: 2,
      spi: 0xa8c2017f,
    });
    expect(flows[1]).toMatchObject({
      src: '198.51.100.20',
      dst: '192.0.2.10',
      srcPort: 36013,
      dstPort: 4500,
      packets: 7,
      octets: 630,
      tos: 0x20,
      tcpFlags: 0x12,
      inIf: 2,
      outIf: 1,
      spi: null,
    });
    expect(flows[1]!.startMs).toBe(flows[0]!.startMs);
  });

  test('a direction without packets is no flow', () => {
    expect(ipfixFlows(fields, values(0, 7)).flows.map((f) => f.src)).toEqual(['198.51.100.20']);
    expect(ipfixFlows(fields, values(5, 0)).flows.map((f) => f.src)).toEqual(['192.0.2.10']);
    expect(ipfixFlows(fields, values(0, 0)).flows).toEqual([]);
  });
});

describe('ICMP type and code', () => {
  const icmpFlow = (fields: FieldSpec[], values: Buffer) =>
    ipfixFlows([{ id: 4, length: 1 }, ...fields], values).flows[0]!;

  test.each([
    [
      'icmpTypeIPv4 / icmpCodeIPv4 (176/177)',
      1,
      [
        { id: 176, length: 1 },
        { id: 177, length: 1 },
      ],
      Buffer.from([3, 4]),
      [3, 4],
    ],
    ['icmpTypeCodeIPv4 (32)', 1, [{ id: 32, length: 2 }], u16(0x0304), [3, 4]],
    ['icmpTypeCodeIPv6 (139)', 58, [{ id: 139, length: 2 }], u16(0x0200), [2, 0]],
    [
      'the destination port, when no ICMP element is present',
      1,
      [
        { id: 7, length: 2 },
        { id: 11, length: 2 },
      ],
      Buffer.concat([u16(0), u16(0x0800)]),
      [8, 0],
    ],
    ['nothing for non-ICMP protocols', 17, [{ id: 32, length: 2 }], u16(0x0304), [null, null]],
  ] as const)('%s', (_name, proto, fields, values, expected) => {
    const flow = icmpFlow([...fields], Buffer.concat([u8(proto), values]));
    expect([flow.icmpType, flow.icmpCode]).toEqual(expected);
  });
});

describe('loss, ESP and fragment fields', () => {
  test('droppedPacketDeltaCount, fragment fields and flowDirection are carried over', () => {
    const flow = ipfixFlows(
      [
        { id: 133, length: 8 },
        { id: 54, length: 4 },
        { id: 88, length: 2 },
        { id: 197, length: 1 },
        { id: 61, length: 1 },
      ],
      Buffer.concat([u64(17), u32(0xbeef), u16(185), u8(0x20), u8(1)]),
    ).flows[0]!;
    expect(flow).toMatchObject({
      reportedLoss: 17,
      fragmentId: 0xbeef,
      fragmentOffset: 185,
      fragmentFlags: 0x20,
      flowDirection: 1,
      espSeqFirst: null,
      espSeqLast: null,
      spi: null,
    });
  });

  test("a probe's ESP elements (PEN 32473) give sequence numbers and take precedence for the loss", () => {
    const flow = ipfixFlows(
      [
        { id: 135, length: 8 },
        { id: 1, length: 4, pen: 32473 },
        { id: 2, length: 4, pen: 32473 },
        { id: 3, length: 8, pen: 32473 },
      ],
      Buffer.concat([u64(99), u32(84211), u32(84600), u64(2)]),
    ).flows[0]!;
    expect(flow).toMatchObject({ espSeqFirst: 84211, espSeqLast: 84600, reportedLoss: 2 });
  });

  test('records without addresses are dropped and counted', () => {
    const message = ipfixMessage({}, [
      ipfixTemplateSet([{ id: 402, fields: [{ id: 2, length: 4 }] }]),
      dataSet(402, [u32(1), u32(2)]),
    ]);
    const produced = produceFlows(message, 'r', RECEIVED, new TemplateCache());
    expect(produced.flows).toEqual([]);
    expect(produced.info).toMatchObject({ dataRecords: 2, recordsWithoutAddress: 2, flows: 0 });
  });
});

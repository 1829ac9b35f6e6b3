import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  IE,
  TUNNELFLOW_PEN,
  dataRecord,
  dataSet,
  ipfixMessage,
  templateSet,
} from '../helpers/ipfix-builder.js';
import type { FieldSpec, FieldValue } from '../helpers/ipfix-builder.js';
import { eventually, getJson, start, tempDir, testConfig } from './helpers.js';

/**
 * The `reported` and `sequence` loss sources have no real exporter in the corpus: this
 * test builds IPFIX messages byte by byte from RFC 7011's layouts, with the SPI (IE 295),
 * a dropped-packet count (IE 133), fragment fields (IEs 88, 197) and tunnelflow's
 * ESP-sequence elements (PEN 32473 ids 1/2), sends them over UDP to a live collector and
 * reads the loss back from the HTTP API — values that cannot be true must come back
 * cleared, with their reason.
 */

const A = '192.0.2.50';
const B = '198.51.100.60';
const t0 = Date.parse('2024-03-12T09:00:00Z');
const minute = 60_000;

const FIELDS: readonly FieldSpec[] = [
  { id: IE.sourceIPv4Address, length: 4 },
  { id: IE.destinationIPv4Address, length: 4 },
  { id: IE.protocolIdentifier, length: 1 },
  { id: IE.sourceTransportPort, length: 2 },
  { id: IE.destinationTransportPort, length: 2 },
  { id: IE.ipSecSPI, length: 4 },
  { id: IE.packetDeltaCount, length: 8 },
  { id: IE.octetDeltaCount, length: 8 },
  { id: IE.flowStartMilliseconds, length: 8 },
  { id: IE.flowEndMilliseconds, length: 8 },
  { id: IE.droppedPacketDeltaCount, length: 8 },
  { id: IE.fragmentOffset, length: 2 },
  { id: IE.fragmentFlags, length: 1 },
];
const SEQ_FIELDS: readonly FieldSpec[] = [
  { id: IE.sourceIPv4Address, length: 4 },
  { id: IE.destinationIPv4Address, length: 4 },
  { id: IE.protocolIdentifier, length: 1 },
  { id: IE.ipSecSPI, length: 4 },
  { id: IE.packetDeltaCount, length: 8 },
  { id: IE.octetDeltaCount, length: 8 },
  { id: IE.flowStartMilliseconds, length: 8 },
  { id: IE.flowEndMilliseconds, length: 8 },
  { id: 1, length: 4, enterprise: TUNNELFLOW_PEN },
  { id: 2, length: 4, enterprise: TUNNELFLOW_PEN },
];

interface Flow {
  src: string;
  dst: string;
  proto?: number;
  ports?: [number, number];
  spi: number;
  packets: number;
  minuteIndex: number;
  dropped?: number;
  fragmentOffset?: number;
  fragmentFlags?: number;
  seq?: [number, number];
}

function reportedRecord(f: Flow): Buffer {
  const values: FieldValue[] = [
    f.src,
    f.dst,
    f.proto ?? 50,
    f.ports?.[0] ?? 0,
    f.ports?.[1] ?? 0,
    f.spi,
    f.packets,
    f.packets * 1400,
    t0 + f.minuteIndex * minute + 1_000,
    t0 + f.minuteIndex * minute + 58_000,
    f.dropped ?? 0,
    f.fragmentOffset ?? 0,
    f.fragmentFlags ?? 0,
  ];
  return dataRecord(FIELDS, values);
}

function sequenceRecord(f: Flow): Buffer {
  const [first, last] = f.seq as [number, number];
  return dataRecord(SEQ_FIELDS, [
    f.src,
    f.dst,
    50,
    f.spi,
    f.packets,
    f.packets * 1400,
    t0 + f.minuteIndex * minute + 1_000,
    t0 + f.minuteIndex * minute + 58_000,
    first,
    last,
  ]);
}

// a→b, minutes 0-3, reported by the exporter (IE 133):
//   m0: 3 of 1000 lost; m1: 1 lost but the record is a fragment flow (cleared: fragments);
//   m2: 900 lost beside 1000 delivered (ratio 900 / 1900 = 0.47, under the 0.5 ceiling:
//   believed); m3: 5000 lost beside 100 (ratio 0.98, over the ceiling: cleared).
// b→a, minutes 0-2, ESP sequence numbers (PEN 32473):
//   m0: seq 1..1000 with 990 packets → 10 lost; m1: seq 1001..1500 with 521 packets
//   (21 network duplicates: -21, cleared as negative); m2: 1501..2000, 500 → 0 lost.
// And a UDP flow between the peers carrying IE 133 (non-ESP: cleared).
const reported: Flow[] = [
  { src: A, dst: B, spi: 0x11111111, packets: 1000, minuteIndex: 0, dropped: 3 },
  {
    src: A,
    dst: B,
    spi: 0x11111111,
    packets: 200,
    minuteIndex: 1,
    dropped: 1,
    fragmentOffset: 185,
    fragmentFlags: 0,
  },
  { src: A, dst: B, spi: 0x11111111, packets: 1000, minuteIndex: 2, dropped: 900 },
  { src: A, dst: B, spi: 0x11111111, packets: 100, minuteIndex: 3, dropped: 5000 },
  { src: A, dst: B, proto: 17, ports: [33000, 53], spi: 0, packets: 10, minuteIndex: 0, dropped: 2 },
];
const sequenced: Flow[] = [
  { src: B, dst: A, spi: 0x22222222, packets: 990, minuteIndex: 0, seq: [1, 1000] },
  { src: B, dst: A, spi: 0x22222222, packets: 521, minuteIndex: 1, seq: [1001, 1500] },
  { src: B, dst: A, spi: 0x22222222, packets: 500, minuteIndex: 2, seq: [1501, 2000] },
];

function messages(): Buffer[] {
  const exportTimeSec = t0 / 1000 + 300;
  return [
    ipfixMessage({
      exportTimeSec,
      sequence: 0,
      domainId: 3,
      sets: [templateSet(300, FIELDS), templateSet(301, SEQ_FIELDS)],
    }),
    ipfixMessage({
      exportTimeSec,
      sequence: 0,
      domainId: 3,
      sets: [dataSet(300, reported.map(reportedRecord))],
    }),
    ipfixMessage({
      exportTimeSec,
      sequence: reported.length,
      domainId: 3,
      sets: [dataSet(301, sequenced.map(sequenceRecord))],
    }),
  ];
}

interface Figures {
  packets: number;
  lost: number | null;
  lossRatio: number | null;
  lossSource: string | null;
  bogusCleared: Record<string, number>;
}

describe('reported and sequence loss from built IPFIX datagrams', () => {
  let app: Awaited<ReturnType<typeof start>>;
  const tunnelId = `${A}_${B}_esp`;
  beforeAll(async () => {
    app = await start(testConfig(tempDir()));
    const socket = dgram.createSocket('udp4');
    for (const m of messages()) {
      await new Promise<void>((resolve, reject) =>
        socket.send(m, app.ipfixPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    }
    socket.close();
    await eventually(async () => {
      const res = await getJson<{ items: unknown[] }>(
        `${app.url}/api/v1/flows?from=${t0}&to=${t0 + 10 * minute}&limit=100`,
      );
      return res.body.items.length === reported.length + sequenced.length;
    });
    // Bucket rows reach the store with the next state flush (once a second).
    await eventually(async () => {
      const res = await getJson<{ items: { id: string }[] }>(
        `${app.url}/api/v1/tunnels?from=${t0}&to=${t0 + 10 * minute}`,
      );
      return res.body.items.some((t) => t.id === tunnelId);
    });
    await new Promise((r) => setTimeout(r, 1200));
  });
  afterAll(async () => app.stop());

  test('the SPIs are decoded and each direction is its own SA, paired', async () => {
    const res = await getJson<{
      items: { id: string; sas: { spi: number; src: string; pairedSaId: string | null }[] }[];
    }>(`${app.url}/api/v1/tunnels?from=${t0}&to=${t0 + 10 * minute}`);
    const tunnel = res.body.items.find((t) => t.id === tunnelId);
    expect(tunnel?.sas.map((s) => [s.src, s.spi]).sort()).toEqual([
      [A, 0x11111111],
      [B, 0x22222222],
    ]);
    expect(tunnel?.sas.every((s) => s.pairedSaId !== null)).toBe(true);
  });

  test('per minute: reported loss a→b and sequence loss b→a, with every bogus value cleared and counted', async () => {
    const res = await getJson<{ items: { start: number; aToB: Figures; bToA: Figures }[] }>(
      `${app.url}/api/v1/tunnels/${tunnelId}/buckets?from=${t0}&to=${t0 + 5 * minute}`,
    );
    expect(res.status).toBe(200);
    const at = (i: number) => res.body.items.find((b) => b.start === t0 + i * minute);
    expect(at(0)?.aToB).toMatchObject({ lost: 3, lossSource: 'reported' });
    expect(at(0)?.aToB.lossRatio).toBeCloseTo(3 / 1003, 9);
    expect(at(1)?.aToB.bogusCleared.fragments).toBe(1);
    expect(at(1)?.aToB.lost).toBeNull();
    expect(at(2)?.aToB).toMatchObject({ lost: 900, lossSource: 'reported' });
    expect(at(3)?.aToB.bogusCleared['exceeds-ceiling']).toBe(1);
    expect(at(3)?.aToB.lost).toBeNull();

    expect(at(0)?.bToA).toMatchObject({ lost: 10, lossSource: 'sequence' });
    expect(at(1)?.bToA.bogusCleared.negative).toBe(1);
    expect(at(1)?.bToA.lost).toBeNull();
    expect(at(2)?.bToA).toMatchObject({ lost: 0, lossSource: 'sequence' });
  });

  test('the flows keep the exporter value and say why it was cleared', async () => {
    const res = await getJson<{
      items: {
        proto: number;
        reportedLoss: number | null;
        lossClearedReason: string | null;
        packets: number;
      }[];
    }>(`${app.url}/api/v1/flows?from=${t0}&to=${t0 + 10 * minute}&limit=100`);
    const udp = res.body.items.find((f) => f.proto === 17);
    expect(udp).toMatchObject({ reportedLoss: 2, lossClearedReason: 'non-esp' });
    const ceiling = res.body.items.find((f) => f.reportedLoss === 5000);
    expect(ceiling?.lossClearedReason).toBe('exceeds-ceiling');
    const dup = res.body.items.find((f) => f.packets === 521);
    expect(dup?.lossClearedReason).toBe('negative');
  });

  test('over the window: the accepted values add up, the cleared ones are counted', async () => {
    const res = await getJson<{ aToB: Figures; bToA: Figures }>(
      `${app.url}/api/v1/tunnels/${tunnelId}?from=${t0}&to=${t0 + 5 * minute}`,
    );
    expect(res.body.aToB).toMatchObject({ lost: 903, lossSource: 'reported' });
    expect(res.body.aToB.bogusCleared).toMatchObject({ fragments: 1, 'exceeds-ceiling': 1 });
    expect(res.body.bToA).toMatchObject({ lost: 10, lossSource: 'sequence' });
    expect(res.body.bToA.bogusCleared).toMatchObject({ negative: 1 });
  });
});

// IPFIX over TCP in captures: the reader must rebuild each direction's byte stream the way the
// collector's socket delivered it, whatever the capture did to the segments, then frame it.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

import { readCapture } from '../../collector/capture/index.js';
import { ACK, FIN, RST, SYN, ethernet, ipv4, ipv6, pcapFile, tcp } from './capture-builder.js';
import { expectedCaptures, readExport } from './corpus-fixtures.js';

const CAPTURE = 'h_multi_tunnel_mixed/softflowd_ipfix_tcp.pcap';
const stream = readExport(CAPTURE.replace(/\.pcap$/, '.tcpstream.bin'));
/** The messages as tshark saw them, cut by its message lengths (not by the framer under test). */
const lengths = (expectedCaptures[CAPTURE]?.lengths ?? []).map((l) => l ?? 0);
const messages: Buffer[] = [];
for (let at = 0, i = 0; i < lengths.length; at += lengths[i] ?? 0, i++) {
  messages.push(stream.subarray(at, at + (lengths[i] ?? 0)));
}

const messagesHex = messages.map((m) => m.toString('hex'));

interface Segment {
  readonly seq: number;
  readonly flags: number;
  readonly payload?: Buffer;
  /** Sent by the collector back to the exporter. */
  readonly reverse?: boolean;
  readonly srcPort?: number;
}

const EXPORTER = '192.0.2.33';
const COLLECTOR = '192.0.2.1';

function capture(segments: readonly Segment[]): Buffer {
  return pcapFile(
    { linkType: 1 },
    segments.map((s, i) => {
      const srcPort = s.srcPort ?? 40000;
      const t =
        s.reverse === true
          ? tcp({ srcPort: 4739, dstPort: srcPort, seq: s.seq, flags: s.flags, payload: s.payload })
          : tcp({ srcPort, dstPort: 4739, seq: s.seq, flags: s.flags, payload: s.payload });
      const packet =
        s.reverse === true
          ? ipv4({ src: COLLECTOR, dst: EXPORTER, proto: 6, payload: t })
          : ipv4({ src: EXPORTER, dst: COLLECTOR, proto: 6, payload: t });
      return { tsSec: 1_700_000_000, tsFrac: i, data: ethernet(0x0800, packet) };
    }),
  );
}

/** The stream cut at `cuts` (sorted offsets) into data segments, sequence numbers from `isn + 1`. */
function cut(data: Buffer, cuts: readonly number[], isn: number): Segment[] {
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < data.length), data.length];
  const out: Segment[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i] ?? 0;
    const to = bounds[i + 1] ?? 0;
    if (to > from) out.push({ seq: (isn + 1 + from) >>> 0, flags: ACK, payload: data.subarray(from, to) });
  }
  return out;
}

const payloads = (file: Buffer): Buffer[] => readCapture(file).datagrams.map((d) => d.payload);

test('the reference messages cover the whole reference stream', () => {
  expect(messages.length).toBe(5);
  expect(Buffer.concat(messages).equals(stream)).toBe(true);
});

test('segments in order, with handshake, ACKs and FIN, give the messages', () => {
  const isn = 1000;
  const file = capture([
    { seq: isn, flags: SYN },
    { seq: 5000, flags: SYN | ACK, reverse: true },
    ...cut(stream, [1000, 1460, 2920, 4000], isn),
    { seq: 5001, flags: ACK, reverse: true },
    { seq: isn + 1 + stream.length, flags: FIN | ACK },
    { seq: 5001, flags: FIN | ACK, reverse: true },
  ]);
  const result = readCapture(file);
  expect(result.issues).toEqual([]);
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
  for (const d of result.datagrams) {
    expect([d.transport, d.src, d.srcPort, d.dst, d.dstPort]).toEqual([
      'tcp',
      EXPORTER,
      40000,
      COLLECTOR,
      4739,
    ]);
  }
});

test('any cutting, reordering, duplication and re-cut retransmission gives the same messages', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }),
      fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 10 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.infiniteStream(fc.nat()),
      (cuts, retransmitCuts, isn, randomness) => {
        const segments = cut(
          stream,
          [...cuts].sort((a, b) => a - b),
          isn,
        );
        // Retransmissions cut at other places overlap the originals' boundaries.
        const again = cut(
          stream,
          [...retransmitCuts].sort((a, b) => a - b),
          isn,
        ).filter(() => (randomness.next().value ?? 0) % 3 === 0);
        const shuffled = [...segments, ...again]
          .map((s) => ({ s, k: randomness.next().value ?? 0 }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.s);
        const file = capture([
          { seq: isn, flags: SYN },
          ...shuffled,
          { seq: isn + 1 + stream.length, flags: FIN | ACK },
        ]);
        const result = readCapture(file);
        expect(result.issues).toEqual([]);
        // Hex strings compare far faster than vitest's element-wise Buffer equality.
        expect(result.datagrams.map((d) => d.payload.toString('hex'))).toEqual(messagesHex);
      },
    ),
    { numRuns: 200 },
  );
});

test('sequence numbers wrap around 2^32', () => {
  const isn = 0xffffffff - 2000;
  const file = capture([{ seq: isn, flags: SYN }, ...cut(stream, [1500, 1999, 2001, 3000], isn).reverse()]);
  const result = readCapture(file);
  expect(result.issues).toEqual([]);
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
});

test('a capture started after the handshake still frames a stream that starts at a message', () => {
  const result = readCapture(capture(cut(stream, [700, 2768], 77)));
  expect(result.issues).toEqual([]);
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
});

test('a missing segment delivers the messages before the gap and reports the gap', () => {
  const isn = 10;
  const first = lengths[0] ?? 0;
  // Segment 1 (bytes first+100 .. first+600) never made it into the capture.
  const segments = cut(stream, [first + 100, first + 600, 3000], isn);
  const withoutSecond = segments.filter((_s, i) => i !== 1);
  const result = readCapture(capture([{ seq: isn, flags: SYN }, ...withoutSecond]));
  expect(result.datagrams.map((d) => d.payload)).toEqual([messages[0]]);
  expect(result.issues.map((i) => i.kind).sort()).toEqual(['tcp-stream-gap', 'tcp-stream-incomplete']);
});

test('a stream that ends inside a message reports it', () => {
  const isn = 10;
  const partial = stream.subarray(0, (lengths[0] ?? 0) + 100);
  const result = readCapture(
    capture([
      { seq: isn, flags: SYN },
      ...cut(partial, [500], isn),
      { seq: isn + 1 + partial.length, flags: FIN },
    ]),
  );
  expect(result.datagrams.map((d) => d.payload)).toEqual([messages[0]]);
  expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([['tcp-stream-incomplete', 4]]);
});

test('segments retransmitted after the FIN are ignored', () => {
  const isn = 10;
  const segments = cut(stream, [2000], isn);
  const fin = { seq: isn + 1 + stream.length, flags: FIN | ACK };
  const result = readCapture(capture([{ seq: isn, flags: SYN }, ...segments, fin, ...segments, fin]));
  expect(result.issues).toEqual([]);
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
});

test('a RST in the middle of a message ends the stream with an issue', () => {
  const isn = 10;
  const partial = stream.subarray(0, (lengths[0] ?? 0) + 100);
  const result = readCapture(
    capture([
      { seq: isn, flags: SYN },
      ...cut(partial, [], isn),
      { seq: 4, flags: RST, reverse: true },
      { seq: isn + 1 + partial.length, flags: RST },
    ]),
  );
  expect(result.datagrams).toHaveLength(1);
  expect(result.issues.map((i) => i.kind)).toEqual(['tcp-stream-incomplete']);
});

test('a stream that is not IPFIX stops with a framing issue; other streams go on', () => {
  const http = Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n');
  const file = capture([
    { seq: 1, flags: SYN, srcPort: 40001 },
    { seq: 2, flags: ACK, payload: http, srcPort: 40001 },
    { seq: 100, flags: SYN },
    ...cut(stream, [2000], 100),
    { seq: 2 + http.length, flags: ACK, payload: stream, srcPort: 40001 },
  ]);
  const result = readCapture(file);
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
  expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([['ipfix-framing', 2]]);
  expect(result.issues[0]?.detail).toContain('version');
});

test('a new connection on the same ports (SYN with another ISN) starts a new stream', () => {
  const first = [{ seq: 500, flags: SYN }, ...cut(stream, [], 500), { seq: 501 + stream.length, flags: FIN }];
  const second = [{ seq: 90_000, flags: SYN }, ...cut(stream, [3000], 90_000)];
  const result = readCapture(capture([...first, ...second]));
  expect(result.issues).toEqual([]);
  expect(result.datagrams.map((d) => d.payload)).toEqual([...messages, ...messages]);
});

test('a segment recorded with IPv4 total length 0 (TCP segmentation offload) is read whole', () => {
  const t = tcp({ srcPort: 40000, dstPort: 4739, seq: 1, flags: ACK, payload: stream });
  const packet = ipv4({ src: EXPORTER, dst: COLLECTOR, proto: 6, payload: t, totalLength: 0 });
  const file = pcapFile({ linkType: 1 }, [
    {
      tsSec: 1,
      tsFrac: 0,
      data: ethernet(
        0x0800,
        ipv4({
          src: EXPORTER,
          dst: COLLECTOR,
          proto: 6,
          payload: tcp({ srcPort: 40000, dstPort: 4739, seq: 0, flags: SYN }),
        }),
      ),
    },
    { tsSec: 1, tsFrac: 1, data: ethernet(0x0800, packet) },
  ]);
  expect(payloads(file)).toEqual(messages);
});

test('IPFIX over TCP over IPv6 is framed the same way', () => {
  const segments = [{ seq: 7, flags: SYN }, ...cut(stream, [1000, 3000], 7)];
  const file = pcapFile(
    { linkType: 229 },
    segments.map((s, i) => ({
      tsSec: 1,
      tsFrac: i,
      data: ipv6({
        src: '2001:db8::33',
        dst: '2001:db8::1',
        nextHeader: 6,
        payload: tcp({ srcPort: 40000, dstPort: 4739, seq: s.seq, flags: s.flags, payload: s.payload }),
      }),
    })),
  );
  const result = readCapture(file);
  expect(result.issues).toEqual([]);
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
  expect(result.datagrams[0]).toMatchObject({ src: '2001:db8::33', dst: '2001:db8::1', transport: 'tcp' });
});

describe('message timestamps', () => {
  test('a message carries the time of the frame that completed it', () => {
    const isn = 10;
    const file = capture([{ seq: isn, flags: SYN }, ...cut(stream, [1000, (lengths[0] ?? 0) + 10], isn)]);
    const result = readCapture(file);
    // Frames are 1 µs apart from 0: message 1 completes in frame 3 (index 2), the rest in frame 4.
    expect(result.datagrams.map((d) => Math.round((d.tsMs - 1_700_000_000_000) * 1000))).toEqual([
      2, 3, 3, 3, 3,
    ]);
  });
});

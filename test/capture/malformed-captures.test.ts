// Broken capture files: every problem is a counted issue with its frame number, the datagrams
// before it still come out, and nothing throws, hangs or reads past the buffer.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

import { CaptureReader, readCapture } from '../../collector/capture/index.js';
import {
  PcapngWriter,
  ethernet,
  ipv4,
  ipv6,
  loopback,
  pcapFile,
  sll,
  sll2,
  tcp,
  udp,
} from './capture-builder.js';
import { expectedCaptures, firstUdpFrame, listExportCaptures, readExport } from './corpus-fixtures.js';

const CAPTURE = 'h_multi_tunnel_mixed/pmacct_ipfix.pcap';
const file = readExport(CAPTURE);
const all = readCapture(file).datagrams;
const real = firstUdpFrame(CAPTURE);
const goodFrame = ethernet(
  0x0800,
  ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 17, payload: udp(5000, 4739, real.payload) }),
);

/** The real export datagram, framed for `linkType`. */
function goodFrameFor(linkType: number): Buffer {
  const ip4 = goodFrame.subarray(14);
  switch (linkType) {
    case 1:
      return goodFrame;
    case 0:
      return loopback(2, true, ip4);
    case 113:
      return sll(0x0800, ip4);
    case 276:
      return sll2(0x0800, ip4);
    case 229:
      return ipv6({
        src: '2001:db8::1',
        dst: '2001:db8::2',
        nextHeader: 17,
        payload: udp(5000, 4739, real.payload),
      });
    default:
      return ip4;
  }
}

const kinds = (buf: Buffer): string[] => readCapture(buf).issues.map((i) => i.kind);

describe('files', () => {
  test('an empty file', () => {
    const result = readCapture(Buffer.alloc(0));
    expect(result).toMatchObject({ datagrams: [], frames: 0, issueCounts: { 'unknown-format': 1 } });
    expect(result.issues[0]?.detail).toBe('empty file');
  });

  test('a file that is neither pcap nor pcapng', () => {
    expect(kinds(Buffer.from('this is a text file, not a capture\n'))).toEqual(['unknown-format']);
    expect(kinds(Buffer.from([0xa1, 0xb2]))).toEqual(['unknown-format']);
  });

  test('a pcap header with no records is an empty capture, not an error', () => {
    const result = readCapture(file.subarray(0, 24));
    expect(result).toMatchObject({ datagrams: [], issues: [], frames: 0 });
  });

  test('a pcap header cut short', () => {
    expect(kinds(file.subarray(0, 10))).toEqual(['truncated-file']);
  });

  test('a file cut anywhere gives the datagrams before the cut, and one issue unless cut between records', () => {
    const allHex = all.map((d) => d.payload.toString('hex'));
    const boundaries = new Set<number>([24]);
    for (let at = 24; at < file.length;) {
      at += 16 + file.readUInt32LE(at + 8);
      boundaries.add(at);
    }
    for (let cutAt = 24; cutAt <= file.length; cutAt += 7) {
      const result = readCapture(file.subarray(0, cutAt));
      const n = result.datagrams.length;
      expect(result.datagrams.map((d) => d.payload.toString('hex'))).toEqual(allHex.slice(0, n));
      expect(result.datagrams.map((d) => d.tsMs)).toEqual(all.slice(0, n).map((d) => d.tsMs));
      expect(result.issues.map((i) => i.kind)).toEqual(boundaries.has(cutAt) ? [] : ['truncated-file']);
      expect(result.issues[0]?.frame ?? n + 1).toBe(n + 1);
    }
  });

  test('a record header claiming an absurd length stops the file with an issue', () => {
    const broken = Buffer.from(file);
    broken.writeUInt32LE(0x7fffffff, 24 + 16 + file.readUInt32LE(24 + 8) + 8); // second record's incl_len
    const result = readCapture(broken);
    expect(result.datagrams).toEqual(all.slice(0, 1));
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([['bad-record', 2]]);
  });

  test('a frame captured shorter than it was on the wire (snap length) is an issue', () => {
    const short = goodFrame.subarray(0, 100);
    const result = readCapture(
      pcapFile({ linkType: 1 }, [
        { tsSec: 1, tsFrac: 0, data: short, origLen: goodFrame.length },
        { tsSec: 1, tsFrac: 1, data: goodFrame },
      ]),
    );
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([['truncated-frame', 1]]);
    expect(result.datagrams.map((d) => d.payload)).toEqual([real.payload]);
  });

  test('pcapng: a block length that is not a multiple of 4 stops the file', () => {
    const ng = new PcapngWriter()
      .section()
      .interface(1)
      .enhancedPacket(0, 1n, goodFrame)
      .enhancedPacket(0, 2n, goodFrame)
      .build();
    const secondEpb = ng.lastIndexOf(Buffer.from([6, 0, 0, 0]));
    const broken = Buffer.from(ng);
    broken.writeUInt32LE(broken.readUInt32LE(secondEpb + 4) + 1, secondEpb + 4);
    const result = readCapture(broken);
    expect(result.datagrams).toHaveLength(1);
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([['bad-record', 2]]);
  });

  test('pcapng: a packet on an interface that was never described', () => {
    const ng = new PcapngWriter()
      .section()
      .interface(1)
      .enhancedPacket(3, 1n, goodFrame)
      .enhancedPacket(0, 2n, goodFrame)
      .build();
    const result = readCapture(ng);
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([['unknown-interface', 1]]);
    expect(result.datagrams).toHaveLength(1);
  });

  test('pcapng: a packet block whose captured length overruns the block', () => {
    const ng = new PcapngWriter().section().interface(1).enhancedPacket(0, 1n, goodFrame).build();
    const broken = Buffer.from(ng);
    const epb = broken.indexOf(Buffer.from([6, 0, 0, 0]));
    broken.writeUInt32LE(goodFrame.length + 64, epb + 20);
    expect(readCapture(broken).issues.map((i) => [i.kind, i.frame])).toEqual([['bad-record', 1]]);
  });

  test('pcapng: a section header with a wrong byte-order magic', () => {
    const ng = new PcapngWriter().section().interface(1).build();
    const broken = Buffer.from(ng);
    broken.writeUInt32LE(0x12345678, 8);
    expect(kinds(broken)).toEqual(['bad-record']);
  });
});

describe('packets', () => {
  const udpPacket = ipv4({
    src: '192.0.2.1',
    dst: '192.0.2.2',
    proto: 17,
    payload: udp(1, 2, Buffer.from('hello')),
  });

  test.each<[string, Buffer, number, string]>([
    ['Ethernet frame shorter than its header', Buffer.alloc(10), 1, 'malformed-link-header'],
    [
      'VLAN tag cut off',
      Buffer.concat([Buffer.alloc(12), Buffer.from('8100', 'hex'), Buffer.alloc(2)]),
      1,
      'malformed-link-header',
    ],
    ['Linux cooked header cut off', Buffer.alloc(12), 113, 'malformed-link-header'],
    ['Linux cooked v2 header cut off', Buffer.alloc(12), 276, 'malformed-link-header'],
    ['loopback header cut off', Buffer.alloc(2), 0, 'malformed-link-header'],
    ['IP version 5', Buffer.concat([Buffer.from([0x55]), udpPacket.subarray(1)]), 101, 'malformed-ip'],
    ['link says IPv6, packet says IPv4', udpPacket, 229, 'malformed-ip'],
    [
      'IPv4 header length 12',
      Buffer.concat([Buffer.from([0x43]), udpPacket.subarray(1)]),
      101,
      'malformed-ip',
    ],
    [
      'IPv4 total length beyond the capture',
      ipv4({
        src: '192.0.2.1',
        dst: '192.0.2.2',
        proto: 17,
        payload: udp(1, 2, Buffer.from('x')),
        totalLength: 900,
      }),
      101,
      'truncated-packet',
    ],
    [
      'IPv4 total length below the header',
      ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 17, payload: Buffer.alloc(8), totalLength: 12 }),
      101,
      'malformed-ip',
    ],
    ['IPv4 header cut off', udpPacket.subarray(0, 15), 101, 'truncated-packet'],
    ['IPv6 header cut off', Buffer.from([0x60, 0, 0, 0]), 101, 'truncated-packet'],
    [
      'IPv6 extension header cut off',
      ipv6({ src: '::1', dst: '::2', nextHeader: 0, payload: Buffer.from([17]) }),
      229,
      'malformed-ip',
    ],
    [
      'UDP length beyond the packet',
      ipv4({
        src: '192.0.2.1',
        dst: '192.0.2.2',
        proto: 17,
        payload: Buffer.from('0001000200ff0000aa', 'hex'),
      }),
      101,
      'malformed-udp',
    ],
    [
      'UDP length below 8',
      ipv4({
        src: '192.0.2.1',
        dst: '192.0.2.2',
        proto: 17,
        payload: Buffer.from('0001000200040000', 'hex'),
      }),
      101,
      'malformed-udp',
    ],
    [
      'UDP header cut off',
      ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 17, payload: Buffer.alloc(5) }),
      101,
      'malformed-udp',
    ],
    [
      'TCP header cut off',
      ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 6, payload: Buffer.alloc(12) }),
      101,
      'malformed-tcp',
    ],
    [
      'TCP data offset past the segment',
      ipv4({
        src: '192.0.2.1',
        dst: '192.0.2.2',
        proto: 6,
        payload: (() => {
          const t = tcp({ srcPort: 1, dstPort: 2, seq: 0, flags: 0x10 });
          t[12] = 0xf0;
          return t;
        })(),
      }),
      101,
      'malformed-tcp',
    ],
  ])('%s', (_name, data, linkType, kind) => {
    // A good datagram after the bad frame shows that reading goes on.
    const good = goodFrameFor(linkType);
    const result = readCapture(
      pcapFile({ linkType }, [
        { tsSec: 1, tsFrac: 0, data },
        { tsSec: 1, tsFrac: 1, data: good },
      ]),
    );
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([[kind, 1]]);
    expect(result.issueCounts).toEqual({ [kind]: 1 });
    expect(result.datagrams.map((d) => d.payload)).toEqual([real.payload]);
  });

  test('maxIssues keeps the first issues and still counts them all', () => {
    const records = Array.from({ length: 50 }, (_v, i) => ({ tsSec: 1, tsFrac: i, data: Buffer.alloc(3) }));
    const result = readCapture(pcapFile({ linkType: 1 }, records), { maxIssues: 5 });
    expect(result.issues).toHaveLength(5);
    expect(result.issueCounts).toEqual({ 'malformed-link-header': 50 });
    expect(result.frames).toBe(50);
  });
});

describe('never throws, never loops (property tests)', () => {
  const corpusFiles = listExportCaptures().map((c) => readExport(c));
  const check = (buf: Buffer): void => {
    const result = readCapture(buf);
    expect(result.issueCounts['internal-error']).toBeUndefined();
    expect(result.frames).toBeLessThanOrEqual(buf.length / 16);
    for (const d of result.datagrams) expect(d.payload.length).toBeLessThanOrEqual(65535);
  };

  test('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => check(Buffer.from(bytes))),
      { numRuns: 500 },
    );
  });

  test('random bytes after a valid pcap or pcapng header, for every link type the reader knows', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999),
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.boolean(),
        (linkType, frames, ng) => {
          const file = ng
            ? frames
                .reduce(
                  (w, f, i) => w.enhancedPacket(0, BigInt(i), Buffer.from(f)),
                  new PcapngWriter().section().interface(linkType),
                )
                .build()
            : pcapFile(
                { linkType },
                frames.map((f, i) => ({ tsSec: i, tsFrac: 0, data: Buffer.from(f) })),
              );
          check(file);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('corpus captures with random bytes overwritten', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: corpusFiles.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }),
        (which, edits) => {
          const buf = Buffer.from(corpusFiles[which] as Buffer);
          for (const [at, value] of edits) buf[at % buf.length] = value;
          check(buf);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a mutated file read in chunks gives what the whole file gives', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: corpusFiles.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.integer({ min: 1, max: 300 }),
        (which, edits, step) => {
          const buf = Buffer.from(corpusFiles[which] as Buffer);
          for (const [at, value] of edits) buf[at % buf.length] = value;
          const whole = readCapture(buf);
          const reader = new CaptureReader();
          const datagrams = [];
          for (let at = 0; at < buf.length; at += step)
            datagrams.push(...reader.push(buf.subarray(at, at + step)));
          datagrams.push(...reader.end());
          expect(datagrams.map((d) => d.payload.toString('hex'))).toEqual(
            whole.datagrams.map((d) => d.payload.toString('hex')),
          );
          expect(reader.issues).toEqual(whole.issues);
          expect(reader.frames).toBe(whole.frames);
        },
      ),
      { numRuns: 200 },
    );
  });
});

test('every corpus capture is still covered by the expected counts', () => {
  expect(Object.keys(expectedCaptures)).toHaveLength(70);
});

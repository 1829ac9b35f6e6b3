// Hand-built captures around a real export payload: every file format, byte order, timestamp
// resolution, link type and IP header variant must give the very datagram tcpdump recorded.

import { describe, expect, test } from 'vitest';

import { readCapture } from '../../collector/capture/index.js';
import type { CapturedDatagram } from '../../collector/capture/index.js';
import {
  PcapngWriter,
  ethernet,
  ipv4,
  ipv6,
  ipv6FragmentHeader,
  ipv6Options,
  ipv6Routing,
  loopback,
  pcapFile,
  sll,
  sll2,
  udp,
} from './capture-builder.js';
import { firstUdpFrame } from './corpus-fixtures.js';

const real = firstUdpFrame('a_healthy_v4/softflowd_ipfix.pcap');
const { payload, srcPort, dstPort } = real;
const tsMs = real.tsSec * 1000 + real.tsUsec / 1000;

const SRC4 = '192.0.2.140';
const DST4 = '198.51.100.7';
// Written out in full so that the expected text checks RFC 5952 compression too.
const SRC6_LONG = '2001:0db8:0000:0000:0000:0000:0000:008a';
const SRC6 = '2001:db8::8a';
const DST6 = '2001:db8:0:1::1';

const v4 = ipv4({ src: SRC4, dst: DST4, proto: 17, payload: udp(srcPort, dstPort, payload) });
const v6 = ipv6({ src: SRC6_LONG, dst: DST6, nextHeader: 17, payload: udp(srcPort, dstPort, payload) });

function expected(ipVersion: 4 | 6, at = tsMs): CapturedDatagram {
  return {
    tsMs: at,
    transport: 'udp',
    src: ipVersion === 4 ? SRC4 : SRC6,
    srcPort,
    dst: ipVersion === 4 ? DST4 : DST6,
    dstPort,
    payload,
  };
}

function one(linkType: number, frame: Buffer): Buffer {
  return pcapFile({ linkType }, [{ tsSec: real.tsSec, tsFrac: real.tsUsec, data: frame }]);
}

function expectSingle(file: Buffer, want: CapturedDatagram): void {
  const result = readCapture(file);
  expect(result.issues).toEqual([]);
  expect(result.frames).toBeGreaterThanOrEqual(1);
  expect(result.datagrams).toHaveLength(1);
  const got = result.datagrams[0] as CapturedDatagram;
  expect({ ...got, tsMs: 0 }).toEqual({ ...want, tsMs: 0 });
  expect(got.payload.equals(payload)).toBe(true);
  expect(got.tsMs).toBeCloseTo(want.tsMs, 3);
}

describe('link types', () => {
  test.each<[string, number, Buffer, 4 | 6]>([
    ['Ethernet, IPv4', 1, ethernet(0x0800, v4), 4],
    ['Ethernet, IPv6', 1, ethernet(0x86dd, v6), 6],
    ['Ethernet, 802.1Q tag', 1, ethernet(0x0800, v4, [{ tpid: 0x8100, vid: 100 }]), 4],
    [
      'Ethernet, 802.1ad + 802.1Q (QinQ)',
      1,
      ethernet(0x86dd, v6, [
        { tpid: 0x88a8, vid: 10 },
        { tpid: 0x8100, vid: 20 },
      ]),
      6,
    ],
    ['Linux cooked (SLL), IPv4', 113, sll(0x0800, v4), 4],
    ['Linux cooked (SLL), IPv6', 113, sll(0x86dd, v6), 6],
    ['Linux cooked v2 (SLL2), IPv4', 276, sll2(0x0800, v4), 4],
    ['Linux cooked v2 (SLL2), IPv6', 276, sll2(0x86dd, v6), 6],
    ['BSD null, AF_INET little-endian', 0, loopback(2, true, v4), 4],
    ['BSD null, AF_INET big-endian', 0, loopback(2, false, v4), 4],
    ['BSD null, AF_INET6 24 (OpenBSD)', 0, loopback(24, true, v6), 6],
    ['BSD null, AF_INET6 28 (FreeBSD)', 0, loopback(28, true, v6), 6],
    ['BSD null, AF_INET6 30 (macOS)', 0, loopback(30, false, v6), 6],
    ['OpenBSD loop, AF_INET network order', 108, loopback(2, false, v4), 4],
    ['OpenBSD loop, AF_INET6 written little-endian', 108, loopback(24, true, v6), 6],
    ['raw IP (101), IPv4', 101, v4, 4],
    ['raw IP (101), IPv6', 101, v6, 6],
    ['raw IP (12)', 12, v4, 4],
    ['raw IP (14)', 14, v6, 6],
    ['IPv4 (228)', 228, v4, 4],
    ['IPv6 (229)', 229, v6, 6],
  ])('%s', (_name, linkType, frame, ipVersion) => {
    expectSingle(one(linkType, frame), expected(ipVersion));
  });

  test('an unknown link type is an issue per frame, not an exception', () => {
    const file = pcapFile({ linkType: 147 }, [
      { tsSec: 1, tsFrac: 0, data: v4 },
      { tsSec: 2, tsFrac: 0, data: v4 },
    ]);
    const result = readCapture(file);
    expect(result.datagrams).toEqual([]);
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([
      ['unknown-link-type', 1],
      ['unknown-link-type', 2],
    ]);
  });

  test('frames without IP, or without UDP/TCP, are ignored without an issue', () => {
    const arp = ethernet(0x0806, Buffer.alloc(28));
    const icmp = ethernet(
      0x0800,
      ipv4({ src: SRC4, dst: DST4, proto: 1, payload: Buffer.from('0800f7ff00000000', 'hex') }),
    );
    const file = pcapFile({ linkType: 1 }, [
      { tsSec: real.tsSec, tsFrac: 0, data: arp },
      { tsSec: real.tsSec, tsFrac: 0, data: icmp },
      { tsSec: real.tsSec, tsFrac: real.tsUsec, data: ethernet(0x0800, v4) },
    ]);
    const result = readCapture(file);
    expect(result.issues).toEqual([]);
    expect(result.frames).toBe(3);
    expect(result.ignored).toBe(2);
    expect(result.datagrams).toEqual([expected(4)]);
  });

  test('Ethernet padding after a short IPv4 packet is not part of the UDP payload', () => {
    const tiny = Buffer.from('abc');
    const frame = ethernet(0x0800, ipv4({ src: SRC4, dst: DST4, proto: 17, payload: udp(1000, 2055, tiny) }));
    const padded = Buffer.concat([frame, Buffer.alloc(60 - frame.length, 0xee)]);
    const result = readCapture(pcapFile({ linkType: 1 }, [{ tsSec: 5, tsFrac: 0, data: padded }]));
    expect(result.issues).toEqual([]);
    expect(result.datagrams.map((d) => d.payload.toString())).toEqual(['abc']);
  });

  test('the ports option keeps only traffic to the named destination ports', () => {
    const other = ipv4({ src: SRC4, dst: DST4, proto: 17, payload: udp(srcPort, 53, Buffer.from('dns')) });
    const file = pcapFile({ linkType: 101 }, [
      { tsSec: real.tsSec, tsFrac: real.tsUsec, data: other },
      { tsSec: real.tsSec, tsFrac: real.tsUsec, data: v4 },
    ]);
    expect(readCapture(file, { ports: [dstPort] }).datagrams).toEqual([expected(4)]);
    expect(readCapture(file, { ports: [dstPort] }).ignored).toBe(1);
    expect(readCapture(file).datagrams).toHaveLength(2);
  });
});

describe('IP headers', () => {
  test('IPv4 header options are skipped', () => {
    const options = Buffer.from('0101010101010100', 'hex'); // NOPs, then End of Option List
    const packet = ipv4({
      src: SRC4,
      dst: DST4,
      proto: 17,
      payload: udp(srcPort, dstPort, payload),
      options,
    });
    expect(packet[0]).toBe(0x47);
    expectSingle(one(101, packet), expected(4));
  });

  test('IPv6 hop-by-hop, routing and destination options headers are skipped', () => {
    const chain = Buffer.concat([
      ipv6Options(43, 1), // hop-by-hop -> routing
      ipv6Routing(60, 3), // routing -> destination options
      ipv6Options(17, 2), // destination options -> UDP
      udp(srcPort, dstPort, payload),
    ]);
    expectSingle(one(101, ipv6({ src: SRC6_LONG, dst: DST6, nextHeader: 0, payload: chain })), expected(6));
  });

  test('an IPv6 atomic fragment (offset 0, no more fragments) is a whole packet', () => {
    const chain = Buffer.concat([ipv6FragmentHeader(17, 0, false, 7), udp(srcPort, dstPort, payload)]);
    expectSingle(one(229, ipv6({ src: SRC6_LONG, dst: DST6, nextHeader: 44, payload: chain })), expected(6));
  });

  // The one canonical text (model/address-text.ts): the same spelling the decoders give flow
  // addresses and the filters and config parse to, so an address always compares equal.
  test('IPv4-mapped IPv6 addresses get the canonical text, as flow addresses do', () => {
    const packet = ipv6({
      src: '::ffff:192.0.2.1',
      dst: '::1',
      nextHeader: 17,
      payload: udp(srcPort, dstPort, payload),
    });
    const [d] = readCapture(one(229, packet)).datagrams;
    expect([d?.src, d?.dst]).toEqual(['::ffff:c000:201', '::1']);
  });
});

describe('file formats', () => {
  const frame = ethernet(0x0800, v4);

  test.each([
    ['little-endian, microseconds', true, false],
    ['big-endian, microseconds', false, false],
    ['little-endian, nanoseconds', true, true],
    ['big-endian, nanoseconds', false, true],
  ])('pcap %s', (_name, littleEndian, nanos) => {
    const tsFrac = nanos ? real.tsUsec * 1000 + 789 : real.tsUsec;
    const file = pcapFile({ linkType: 1, littleEndian, nanos }, [{ tsSec: real.tsSec, tsFrac, data: frame }]);
    expect(file.readUInt32BE(0)).toBe(
      littleEndian ? (nanos ? 0x4d3cb2a1 : 0xd4c3b2a1) : nanos ? 0xa1b23c4d : 0xa1b2c3d4,
    );
    expectSingle(file, expected(4, tsMs + (nanos ? 0.000789 : 0)));
  });

  const micros = BigInt(real.tsSec) * 1_000_000n + BigInt(real.tsUsec);

  test.each([true, false])('pcapng, little-endian section: %s', (littleEndian) => {
    const file = new PcapngWriter()
      .section(littleEndian)
      .interface(1)
      .enhancedPacket(0, micros, frame)
      .build();
    expectSingle(file, expected(4));
  });

  test('pcapng if_tsresol: nanoseconds and a power of two', () => {
    const w = new PcapngWriter().section();
    const nanosIface = w.option(9, Buffer.from([9]));
    const binaryIface = w.option(9, Buffer.from([0x80 | 20])); // 2^-20 s units
    const nanos = micros * 1000n + 250n;
    const binary = BigInt(real.tsSec) * (1n << 20n) + (1n << 19n); // .5 s
    const file = w
      .interface(1, [nanosIface])
      .interface(101, [binaryIface])
      .enhancedPacket(0, nanos, frame)
      .enhancedPacket(1, binary, v4)
      .build();
    const result = readCapture(file);
    expect(result.issues).toEqual([]);
    expect(result.datagrams).toHaveLength(2);
    expect(result.datagrams[0]?.tsMs).toBeCloseTo(tsMs + 0.00025, 3);
    expect(result.datagrams[1]?.tsMs).toBeCloseTo(real.tsSec * 1000 + 500, 3);
    for (const d of result.datagrams) expect(d.payload.equals(payload)).toBe(true);
  });

  test('pcapng if_tsoffset adds seconds to every timestamp of the interface', () => {
    const w = new PcapngWriter().section();
    const offset = Buffer.alloc(8);
    offset.writeBigInt64LE(1000n);
    const file = w
      .interface(1, [w.option(14, offset)])
      .enhancedPacket(0, micros - 1_000_000_000n, frame)
      .build();
    expectSingle(file, expected(4));
  });

  test('pcapng with per-interface link types, SPB, OPB, skipped blocks and a second section', () => {
    const w = new PcapngWriter();
    w.section(true)
      .interface(1) // 0: Ethernet
      .interface(113) // 1: Linux cooked
      .block(4, Buffer.alloc(4)) // name resolution block: not a packet
      .block(0x00000bad, Buffer.from('custom block body')) // custom block: skipped
      .enhancedPacket(1, micros, sll(0x86dd, v6))
      .simplePacket(frame) // interface 0, no timestamp
      .obsoletePacket(0, micros + 5n, frame)
      .section(false) // a new section forgets the interfaces and switches byte order
      .interface(229)
      .enhancedPacket(0, micros + 9n, v6);
    const file = w.build();
    const result = readCapture(file);
    expect(result.issues).toEqual([]);
    expect(result.frames).toBe(4);
    expect(result.datagrams.map((d) => [d.src, d.dst])).toEqual([
      [SRC6, DST6],
      [SRC4, DST4],
      [SRC4, DST4],
      [SRC6, DST6],
    ]);
    for (const d of result.datagrams) expect(d.payload.equals(payload)).toBe(true);
    const times = result.datagrams.map((d) => d.tsMs - tsMs);
    // The SPB has no timestamp of its own and takes the previous packet's.
    expect(times[0]).toBeCloseTo(0, 3);
    expect(times[1]).toBeCloseTo(0, 3);
    expect(times[2]).toBeCloseTo(0.005, 3);
    expect(times[3]).toBeCloseTo(0.009, 3);
  });
});

describe('IP fragments', () => {
  const whole = udp(srcPort, dstPort, payload);
  const pieces = (size: number): { offset: number; data: Buffer; more: boolean }[] => {
    const out = [];
    for (let at = 0; at < whole.length; at += size) {
      out.push({ offset: at, data: whole.subarray(at, at + size), more: at + size < whole.length });
    }
    return out;
  };

  test('IPv4 fragments arriving out of order and duplicated are reassembled', () => {
    const frags = pieces(200);
    expect(frags.length).toBeGreaterThan(2);
    const order = [...frags.slice(1).reverse(), frags[0], frags[1]];
    const records = order.map((f, i) => ({
      tsSec: real.tsSec,
      tsFrac: real.tsUsec + i,
      data: ethernet(
        0x0800,
        ipv4({
          src: SRC4,
          dst: DST4,
          proto: 17,
          payload: f?.data ?? Buffer.alloc(0),
          id: 77,
          fragmentOffset: f?.offset,
          moreFragments: f?.more,
        }),
      ),
    }));
    const result = readCapture(pcapFile({ linkType: 1 }, records));
    expect(result.issues).toEqual([]);
    // The datagram completes with the first fragment, the next-to-last frame; the duplicate after it changes nothing.
    expect(result.datagrams).toHaveLength(1);
    expect(result.datagrams[0]?.payload.equals(payload)).toBe(true);
    expect(result.datagrams[0]?.tsMs).toBeCloseTo(tsMs + (order.length - 2) / 1000, 3);
  });

  test('IPv6 fragments, with a destination options header in the fragmentable part, are reassembled', () => {
    const fragmentable = Buffer.concat([ipv6Options(17, 1), whole]);
    const size = 304;
    const records = [];
    for (let at = 0; at < fragmentable.length; at += size) {
      const more = at + size < fragmentable.length;
      const chain = Buffer.concat([
        ipv6FragmentHeader(60, at, more, 0xabcdef),
        fragmentable.subarray(at, at + size),
      ]);
      records.unshift({
        tsSec: real.tsSec,
        tsFrac: real.tsUsec,
        data: ipv6({ src: SRC6_LONG, dst: DST6, nextHeader: 44, payload: chain }),
      });
    }
    expect(records.length).toBeGreaterThan(1);
    expectSingle(pcapFile({ linkType: 229 }, records), expected(6));
  });

  const frag = (
    f: { offset: number; data: Buffer; more: boolean },
    tsSec = real.tsSec,
  ): { tsSec: number; tsFrac: number; data: Buffer } => ({
    tsSec,
    tsFrac: 0,
    data: ipv4({
      src: SRC4,
      dst: DST4,
      proto: 17,
      payload: f.data,
      id: 5,
      fragmentOffset: f.offset,
      moreFragments: f.more,
    }),
  });

  test('a missing fragment is reported when the capture ends', () => {
    const frags = pieces(200);
    const result = readCapture(
      pcapFile(
        { linkType: 228 },
        frags.slice(1).map((f) => frag(f)),
      ),
    );
    expect(result.datagrams).toEqual([]);
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([['ip-fragment-incomplete', 1]]);
  });

  test('fragments that overlap with different bytes are refused', () => {
    const [first, second] = pieces(200);
    if (first === undefined || second === undefined) throw new Error('payload too short');
    const forged = { offset: 96, data: Buffer.alloc(200, 0x41), more: false };
    const result = readCapture(pcapFile({ linkType: 228 }, [frag(first), frag(forged), frag(second)]));
    expect(result.datagrams).toEqual([]);
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([['ip-fragment-overlap', 2]]);
  });

  test('a fragment reaching past 65535 bytes is refused', () => {
    const result = readCapture(
      pcapFile({ linkType: 228 }, [frag({ offset: 65528, data: Buffer.alloc(16), more: false })]),
    );
    expect(result.datagrams).toEqual([]);
    expect(result.issues.map((i) => i.kind)).toEqual(['ip-fragment-too-large']);
  });

  test('fragments too far apart in time are given up (timeout)', () => {
    const frags = pieces(200);
    const [first, ...rest] = frags;
    if (first === undefined) throw new Error('no fragments');
    const records = [frag(first, real.tsSec), ...rest.map((f) => frag(f, real.tsSec + 120))];
    const result = readCapture(pcapFile({ linkType: 228 }, records));
    expect(result.datagrams).toEqual([]);
    // The first fragment expires when the late ones come; those wait in vain until the end.
    expect(result.issues.map((i) => [i.kind, i.frame])).toEqual([
      ['ip-fragment-incomplete', 1],
      ['ip-fragment-incomplete', 2],
    ]);
  });
});

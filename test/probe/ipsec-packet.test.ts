// What the probe reads out of single packets: ESP, ESP in UDP 4500 with RFC 3948's non-ESP
// marker and keepalives, IKE, 5-tuples, IPv6 with extension headers, and fragments through the
// pipeline's reassembly (one packet, its fragments counted).

import { describe, expect, test } from 'vitest';
import { FlowMeter } from '../../probe/flow-meter.js';
import type { ProbeRecord } from '../../probe/flow-meter.js';
import { PacketInfo, PacketKind, readIpPacket } from '../../probe/ipsec-packet.js';
import { PacketPipeline } from '../../probe/packet-pipeline.js';

function ipv4(proto: number, payload: Buffer, opts: { id?: number; frag?: number } = {}): Buffer {
  const b = Buffer.alloc(20 + payload.length);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(opts.id ?? 1, 4);
  b.writeUInt16BE(opts.frag ?? 0, 6);
  b[8] = 64;
  b[9] = proto;
  Buffer.from([192, 0, 2, 10]).copy(b, 12);
  Buffer.from([198, 51, 100, 20]).copy(b, 16);
  payload.copy(b, 20);
  return b;
}

function ipv6(nextHeader: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  b[0] = 0x60;
  b.writeUInt16BE(payload.length, 4);
  b[6] = nextHeader;
  b[7] = 64;
  Buffer.from('20010db8000000010000000000000001', 'hex').copy(b, 8);
  Buffer.from('20010db8000000050000000000000001', 'hex').copy(b, 24);
  payload.copy(b, 40);
  return b;
}

const esp = (spi: number, seq: number, body = 32): Buffer => {
  const b = Buffer.alloc(8 + body, 0x5a);
  b.writeUInt32BE(spi, 0);
  b.writeUInt32BE(seq, 4);
  return b;
};

function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE(b.length, 4);
  payload.copy(b, 8);
  return b;
}

function read(packet: Buffer): PacketInfo {
  const info = new PacketInfo();
  readIpPacket(null, packet, 0, info);
  return info;
}

describe('readIpPacket', () => {
  test('ESP: SPI and sequence number, IPv4 fast path', () => {
    const p = read(ipv4(50, esp(0xc3a1f2d4, 77)));
    expect([p.kind, p.spi, p.seq, p.ipLength, p.srcText(), p.dstText()]).toEqual([
      PacketKind.Esp,
      0xc3a1f2d4,
      77,
      60,
      '192.0.2.10',
      '198.51.100.20',
    ]);
  });

  test('NAT-T (RFC 3948): ESP, non-ESP marker = IKE, 0xFF = keepalive', () => {
    expect(read(ipv4(17, udp(36013, 4500, esp(0xa8c2017f, 5)))).kind).toBe(PacketKind.NattEsp);
    const ike = Buffer.concat([Buffer.alloc(4), Buffer.alloc(28, 1)]);
    expect(read(ipv4(17, udp(4500, 36013, ike))).kind).toBe(PacketKind.NattIke);
    expect(read(ipv4(17, udp(36013, 4500, Buffer.from([0xff])))).kind).toBe(PacketKind.NattKeepalive);
    const natt = read(ipv4(17, udp(36013, 4500, esp(0xa8c2017f, 5))));
    expect([natt.spi, natt.seq, natt.srcPort, natt.dstPort]).toEqual([0xa8c2017f, 5, 36013, 4500]);
  });

  test('IKE on 500, other UDP, TCP flags, ICMP type/code', () => {
    expect(read(ipv4(17, udp(500, 500, Buffer.alloc(40)))).kind).toBe(PacketKind.Ike);
    expect(read(ipv4(17, udp(33000, 53, Buffer.alloc(20)))).kind).toBe(PacketKind.Other);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(443, 0);
    tcp.writeUInt16BE(50000, 2);
    tcp[13] = 0x12;
    expect(read(ipv4(6, tcp)).tcpFlags).toBe(0x12);
    expect(read(ipv4(1, Buffer.from([3, 4, 0, 0, 0, 0, 5, 0xdc]))).icmpTypeCode).toBe(0x0304);
  });

  test('ESP too short for its header is not metered', () => {
    const p = read(ipv4(50, Buffer.alloc(6)));
    expect([p.kind, p.reason]).toEqual([PacketKind.None, 'short-esp']);
  });

  test('IPv6 ESP behind hop-by-hop and destination options headers', () => {
    const hbh = Buffer.alloc(8);
    hbh[0] = 60; // next: destination options
    const dst = Buffer.alloc(16);
    dst[0] = 50; // next: ESP
    dst[1] = 1; // (1 + 1) * 8 bytes
    const p = read(ipv6(0, Buffer.concat([hbh, dst, esp(0x10000a05, 9)])));
    expect([p.kind, p.ipVersion, p.spi, p.seq, p.srcText(), p.dstText()]).toEqual([
      PacketKind.Esp,
      6,
      0x10000a05,
      9,
      '2001:db8:0:1::1',
      '2001:db8:0:5::1',
    ]);
    expect(p.ipLength).toBe(40 + 8 + 16 + 40);
  });

  test('IPv4 fragments are fragments', () => {
    expect(read(ipv4(50, esp(1, 1), { frag: 0x2000 })).kind).toBe(PacketKind.Fragment);
    expect(read(ipv4(50, Buffer.alloc(16), { frag: 0x0005 })).kind).toBe(PacketKind.Fragment);
  });
});

/** A pcap holding raw IPv4/IPv6 packets (LINKTYPE_RAW). */
function pcap(packets: readonly Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(101, 20);
  const records = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_710_234_000 + i, 0);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    return Buffer.concat([r, p]);
  });
  return Buffer.concat([header, ...records]);
}

describe('fragmented ESP through the pipeline', () => {
  test('reassembled before the ESP header is read: one packet, its fragments counted, wire bytes', () => {
    const records: ProbeRecord[] = [];
    const meter = new FlowMeter({ activeTimeoutMs: 60_000, idleTimeoutMs: 15_000 }, (r) => records.push(r));
    const pipeline = new PacketPipeline(meter);
    const packets: Buffer[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      const whole = esp(0x1e7f4c20, seq, 1592); // 1600 bytes of ESP
      // First fragment: 1480 bytes (185 units) with MF; second: the rest at offset 185.
      packets.push(ipv4(50, whole.subarray(0, 1480), { id: seq, frag: 0x2000 }));
      packets.push(ipv4(50, whole.subarray(1480), { id: seq, frag: 185 }));
    }
    pipeline.push(pcap(packets));
    pipeline.end();
    meter.flush();
    expect(pipeline.counters).toMatchObject({ fragments: 6, reassembled: 3 });
    const sa = records.find((r) => r.type === 'sa');
    expect(sa).toMatchObject({ spi: 0x1e7f4c20, packets: 3, fragments: 6, lost: 0, firstSeq: 1, lastSeq: 3 });
    // On the wire: two IP headers per packet.
    expect(sa?.octets).toBe(3 * (1600 + 40));
  });

  test('IPv6 fragment header: reassembled too', () => {
    const records: ProbeRecord[] = [];
    const meter = new FlowMeter({ activeTimeoutMs: 60_000, idleTimeoutMs: 15_000 }, (r) => records.push(r));
    const pipeline = new PacketPipeline(meter);
    const whole = esp(0x20000b05, 42, 1392);
    const frag = (offset: number, more: boolean, data: Buffer): Buffer => {
      const h = Buffer.alloc(8);
      h[0] = 50;
      h.writeUInt16BE(offset | (more ? 1 : 0), 2);
      h.writeUInt32BE(0xabcd, 4);
      return ipv6(44, Buffer.concat([h, data]));
    };
    pipeline.push(pcap([frag(0, true, whole.subarray(0, 1000)), frag(1000, false, whole.subarray(1000))]));
    pipeline.end();
    meter.flush();
    expect(records.find((r) => r.type === 'sa')).toMatchObject({
      ipVersion: 6,
      spi: 0x20000b05,
      packets: 1,
      fragments: 2,
      firstSeq: 42,
    });
  });
});

// Reads what the probe meters out of one IP packet: ESP (IP protocol 50, RFC 4303 §2: SPI then
// sequence number), ESP in UDP 4500 (RFC 3948 §2.2: a non-ESP marker of four zero bytes means
// IKE, one byte 0xFF is a NAT-keepalive, anything else starts with the SPI), IKE on UDP 500,
// and the 5-tuple of everything else. IPv4 without fragments takes a fast path that allocates
// nothing; IPv6 (extension headers) and fragments go through collector/capture's IP decoder.

import { ipv4Text } from '../model/address-text.js';
import { decodeIpPacket } from '../collector/capture/ip-packet.js';
import type { IpResult } from '../collector/capture/ip-packet.js';

export const PacketKind = {
  /** Not metered: not IP, malformed, truncated, or an IPv6 packet with nothing inside. */
  None: 0,
  Esp: 1,
  /** ESP in UDP (RFC 3948). */
  NattEsp: 2,
  /** IKE on the NAT-T port behind the non-ESP marker. */
  NattIke: 3,
  /** RFC 3948 §2.3 NAT-keepalive. */
  NattKeepalive: 4,
  /** IKE on UDP 500. */
  Ike: 5,
  /** Anything else with a 5-tuple (ports 0 when the protocol has none). */
  Other: 6,
  /** An IP fragment: see `fragment`; the packet is known once reassembled. */
  Fragment: 7,
} as const;
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ESP = 50;
const PROTO_ICMPV6 = 58;
const IKE_PORT = 500;
const NATT_PORT = 4500;

/**
 * One packet as the meter sees it, filled in place by `readIpPacket` (one instance reused for
 * every packet: read it, never keep it).
 */
export class PacketInfo {
  kind: PacketKind = PacketKind.None;
  ipVersion: 4 | 6 = 4;
  /** IPv4 addresses as unsigned 32-bit numbers (fast path), or -1. */
  src4 = -1;
  dst4 = -1;
  /** Address text; for IPv4 filled only on demand (`srcText()`). */
  #src: string | null = null;
  #dst: string | null = null;
  proto = 0;
  srcPort = 0;
  dstPort = 0;
  spi = 0;
  seq = 0;
  /** IP-layer bytes on the wire (IPv4 total length, IPv6 40 + payload length). */
  ipLength = 0;
  tcpFlags = 0;
  /** ICMP (type << 8) | code, or -1. */
  icmpTypeCode = -1;
  /** The decoded fragment when `kind` is Fragment. */
  fragment: Extract<IpResult, { kind: 'fragment' }> | null = null;
  /** Why the packet is None, for the counters. */
  reason: 'not-ip' | 'malformed' | 'truncated' | 'empty' | 'short-esp' | null = null;

  setText(src: string, dst: string): void {
    this.#src = src;
    this.#dst = dst;
  }

  srcText(): string {
    if (this.#src === null) this.#src = ipv4FromNumber(this.src4);
    return this.#src;
  }

  dstText(): string {
    if (this.#dst === null) this.#dst = ipv4FromNumber(this.dst4);
    return this.#dst;
  }

  reset(): void {
    this.kind = PacketKind.None;
    this.src4 = -1;
    this.dst4 = -1;
    this.#src = null;
    this.#dst = null;
    this.proto = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.spi = 0;
    this.seq = 0;
    this.ipLength = 0;
    this.tcpFlags = 0;
    this.icmpTypeCode = -1;
    this.fragment = null;
    this.reason = null;
  }
}

const v4Scratch = Buffer.alloc(4);

function ipv4FromNumber(n: number): string {
  v4Scratch.writeUInt32BE(n >>> 0, 0);
  return ipv4Text(v4Scratch, 0);
}

/**
 * Reads the IP packet that starts at `at` in `buf` into `out`. `linkVersion` is what the link
 * layer announced (null: the version nibble decides).
 */
export function readIpPacket(linkVersion: 4 | 6 | null, buf: Buffer, at: number, out: PacketInfo): void {
  out.reset();
  const length = buf.length - at;
  if (length < 20) {
    out.reason = 'truncated';
    return;
  }
  const b0 = buf[at]!;
  const version = b0 >> 4;
  if (version === 4 && (linkVersion === null || linkVersion === 4)) {
    const ihl = (b0 & 0x0f) * 4;
    let total = buf.readUInt16BE(at + 2);
    // Total length 0: a TSO packet captured before segmentation (see collector/capture/ip-packet.ts).
    if (total === 0) total = length;
    const frag = buf.readUInt16BE(at + 6);
    if (ihl >= 20 && total >= ihl && total <= length && (frag & 0x3fff) === 0) {
      out.ipVersion = 4;
      out.src4 = buf.readUInt32BE(at + 12);
      out.dst4 = buf.readUInt32BE(at + 16);
      out.ipLength = total;
      readTransport(buf[at + 9]!, buf, at + ihl, at + total, out);
      return;
    }
  }
  readSlow(linkVersion, at === 0 ? buf : buf.subarray(at), out);
}

function readSlow(linkVersion: 4 | 6 | null, packet: Buffer, out: PacketInfo): void {
  const r = decodeIpPacket(linkVersion, packet);
  switch (r.kind) {
    case 'datagram': {
      out.ipVersion = r.ipVersion;
      out.setText(r.src, r.dst);
      out.ipLength =
        r.ipVersion === 4 ? packet.readUInt16BE(2) || packet.length : 40 + packet.readUInt16BE(4);
      const at = r.payload.byteOffset - packet.byteOffset;
      readTransport(r.proto, packet, at, at + r.payload.length, out);
      return;
    }
    case 'fragment':
      out.kind = PacketKind.Fragment;
      out.ipVersion = r.ipVersion;
      out.setText(r.src, r.dst);
      out.ipLength =
        r.ipVersion === 4 ? packet.readUInt16BE(2) || packet.length : 40 + packet.readUInt16BE(4);
      out.fragment = r;
      return;
    case 'empty':
      out.reason = 'empty';
      return;
    case 'malformed':
      out.reason = 'malformed';
      return;
    case 'truncated':
      out.reason = 'truncated';
      return;
  }
}

/**
 * Reads a reassembled datagram into `out`; `ipLength` is what its fragments took on the wire
 * (every fragment's IP header included).
 */
export function readReassembled(
  ipVersion: 4 | 6,
  src: string,
  dst: string,
  ipLength: number,
  proto: number,
  payload: Buffer,
  out: PacketInfo,
): void {
  out.reset();
  out.ipVersion = ipVersion;
  out.setText(src, dst);
  out.ipLength = ipLength;
  readTransport(proto, payload, 0, payload.length, out);
}

/** The transport header at `at` (up to `end`) of `buf`. */
function readTransport(proto: number, buf: Buffer, at: number, end: number, out: PacketInfo): void {
  out.proto = proto;
  const avail = end - at;
  switch (proto) {
    case PROTO_ESP:
      if (avail < 8) {
        out.kind = PacketKind.None;
        out.reason = 'short-esp';
        return;
      }
      out.kind = PacketKind.Esp;
      out.spi = buf.readUInt32BE(at);
      out.seq = buf.readUInt32BE(at + 4);
      return;
    case PROTO_UDP: {
      if (avail < 8) {
        out.kind = PacketKind.Other;
        return;
      }
      const sp = buf.readUInt16BE(at);
      const dp = buf.readUInt16BE(at + 2);
      out.srcPort = sp;
      out.dstPort = dp;
      if (sp === NATT_PORT || dp === NATT_PORT) {
        const p = at + 8;
        const n = end - p;
        if (n === 1 && buf[p] === 0xff) {
          out.kind = PacketKind.NattKeepalive;
        } else if (n >= 4 && buf.readUInt32BE(p) === 0) {
          out.kind = PacketKind.NattIke;
        } else if (n >= 8) {
          out.kind = PacketKind.NattEsp;
          out.spi = buf.readUInt32BE(p);
          out.seq = buf.readUInt32BE(p + 4);
        } else {
          out.kind = PacketKind.Other;
        }
        return;
      }
      out.kind = sp === IKE_PORT || dp === IKE_PORT ? PacketKind.Ike : PacketKind.Other;
      return;
    }
    case PROTO_TCP:
      out.kind = PacketKind.Other;
      if (avail >= 14) {
        out.srcPort = buf.readUInt16BE(at);
        out.dstPort = buf.readUInt16BE(at + 2);
        out.tcpFlags = buf[at + 13]!;
      }
      return;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      out.kind = PacketKind.Other;
      if (avail >= 2) out.icmpTypeCode = (buf[at]! << 8) | buf[at + 1]!;
      return;
    default:
      out.kind = PacketKind.Other;
  }
}

// IPv4 and IPv6 headers, down to the transport payload or a fragment of it. Checksums are not
// verified on purpose: captures on the sending host (loopback, offloading NICs) record packets
// before the kernel or the NIC fills the checksums in, and the exporters' bytes are still right.

import { ipv4Text, ipv6Text } from '../../model/address-text.js';

export type IpResult =
  | {
      readonly kind: 'datagram';
      readonly ipVersion: 4 | 6;
      readonly src: string;
      readonly dst: string;
      readonly proto: number;
      readonly payload: Buffer;
    }
  | IpFragment
  /** An IPv6 packet whose header chain ends in "no next header" (RFC 8200 §4.7): nothing inside. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'malformed'; readonly detail: string }
  /** The header says the packet is longer than the bytes captured. */
  | { readonly kind: 'truncated'; readonly detail: string };

export interface IpFragment {
  readonly kind: 'fragment';
  readonly ipVersion: 4 | 6;
  readonly src: string;
  readonly dst: string;
  /** Fragments with the same key belong to one original packet (RFC 791 §3.2, RFC 8200 §4.5). */
  readonly key: string;
  /** Byte offset of `data` in the original packet's payload (IPv6: its fragmentable part). */
  readonly offset: number;
  readonly more: boolean;
  /** IPv4: the protocol. IPv6: the Next Header of the fragment header (RFC 8200 §4.5). */
  readonly nextHeader: number;
  readonly data: Buffer;
}

const MF_FLAG = 0x2000;

const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
const IPV6_NO_NEXT = 59;
const IPV6_DEST_OPTIONS = 60;

/** Decodes the IP packet in `packet`; `linkVersion` is what the link layer announced (null: trust the packet). */
export function decodeIpPacket(linkVersion: 4 | 6 | null, packet: Buffer): IpResult {
  if (packet.length < 1) return { kind: 'malformed', detail: 'empty IP packet' };
  const version = (packet[0] ?? 0) >> 4;
  if (linkVersion !== null && version !== linkVersion) {
    return {
      kind: 'malformed',
      detail: `link layer announced IPv${linkVersion}, header says version ${version}`,
    };
  }
  if (version === 4) return decodeIpv4(packet);
  if (version === 6) return decodeIpv6(packet);
  return { kind: 'malformed', detail: `IP version ${version}` };
}

function decodeIpv4(packet: Buffer): IpResult {
  if (packet.length < 20)
    return { kind: 'truncated', detail: `IPv4 header needs 20 bytes, ${packet.length} captured` };
  const headerLength = ((packet[0] ?? 0) & 0x0f) * 4;
  if (headerLength < 20) return { kind: 'malformed', detail: `IPv4 header length ${headerLength}` };
  if (packet.length < headerLength) {
    return { kind: 'truncated', detail: `IPv4 header of ${headerLength} bytes, ${packet.length} captured` };
  }
  let totalLength = packet.readUInt16BE(2);
  // A total length of 0 is what Linux records for TCP segmentation offload (TSO) packets
  // captured before the NIC splits them; the captured length is then the only length there is.
  if (totalLength === 0) totalLength = packet.length;
  if (totalLength < headerLength) {
    return {
      kind: 'malformed',
      detail: `IPv4 total length ${totalLength} below header length ${headerLength}`,
    };
  }
  if (totalLength > packet.length) {
    return { kind: 'truncated', detail: `IPv4 total length ${totalLength}, ${packet.length} bytes captured` };
  }
  const src = ipv4Text(packet, 12);
  const dst = ipv4Text(packet, 16);
  const proto = packet[9] ?? 0;
  // Bytes past the total length are link-layer padding (short Ethernet frames), not payload.
  const payload = packet.subarray(headerLength, totalLength);
  const fragmentField = packet.readUInt16BE(6);
  const offset = (fragmentField & 0x1fff) * 8;
  const more = (fragmentField & MF_FLAG) !== 0;
  if (offset === 0 && !more) return { kind: 'datagram', ipVersion: 4, src, dst, proto, payload };
  const id = packet.readUInt16BE(4);
  return {
    kind: 'fragment',
    ipVersion: 4,
    src,
    dst,
    key: `4|${src}|${dst}|${proto}|${id}`,
    offset,
    more,
    nextHeader: proto,
    data: payload,
  };
}

function decodeIpv6(packet: Buffer): IpResult {
  if (packet.length < 40)
    return { kind: 'truncated', detail: `IPv6 header needs 40 bytes, ${packet.length} captured` };
  const payloadLength = packet.readUInt16BE(4);
  // Payload length 0 means a jumbogram (RFC 2675) or a TSO packet; the captured bytes are the packet.
  const end = payloadLength === 0 ? packet.length : 40 + payloadLength;
  if (end > packet.length) {
    return {
      kind: 'truncated',
      detail: `IPv6 payload length ${payloadLength}, ${packet.length - 40} bytes captured`,
    };
  }
  const src = ipv6Text(packet, 8);
  const dst = ipv6Text(packet, 24);
  const body = packet.subarray(0, end);
  const walk = walkIpv6Headers(body, 40, packet[6] ?? 0);
  switch (walk.kind) {
    case 'payload':
      return {
        kind: 'datagram',
        ipVersion: 6,
        src,
        dst,
        proto: walk.proto,
        payload: body.subarray(walk.offset),
      };
    case 'empty':
      return { kind: 'empty' };
    case 'malformed':
      return walk;
    case 'fragment': {
      const at = walk.offset;
      const nextHeader = body[at] ?? 0;
      const field = body.readUInt16BE(at + 2);
      const offset = field & 0xfff8;
      const more = (field & 1) !== 0;
      const id = body.readUInt32BE(at + 4);
      const data = body.subarray(at + 8);
      // An atomic fragment (offset 0, no more fragments) is a whole packet (RFC 6946 §4).
      if (offset === 0 && !more) {
        const inner = walkIpv6Headers(body, at + 8, nextHeader);
        if (inner.kind === 'payload') {
          return {
            kind: 'datagram',
            ipVersion: 6,
            src,
            dst,
            proto: inner.proto,
            payload: body.subarray(inner.offset),
          };
        }
        if (inner.kind === 'empty') return inner;
        if (inner.kind === 'malformed') return inner;
        return { kind: 'malformed', detail: 'atomic IPv6 fragment holds another fragment header' };
      }
      return {
        kind: 'fragment',
        ipVersion: 6,
        src,
        dst,
        key: `6|${src}|${dst}|${id}`,
        offset,
        more,
        nextHeader,
        data,
      };
    }
  }
}

export type Ipv6Walk =
  | { readonly kind: 'payload'; readonly proto: number; readonly offset: number }
  /** `offset` is where the 8-byte fragment header starts (bounds already checked). */
  | { readonly kind: 'fragment'; readonly offset: number }
  | { readonly kind: 'empty' }
  | { readonly kind: 'malformed'; readonly detail: string };

/**
 * Follows the IPv6 header chain from `offset` (RFC 8200 §4), skipping hop-by-hop, routing and
 * destination options (and AH, RFC 4302 §2.2, which counts in 4-byte units), until the upper
 * layer or a fragment header.
 */
export function walkIpv6Headers(buf: Buffer, offset: number, nextHeader: number): Ipv6Walk {
  let at = offset;
  let next = nextHeader;
  while (true) {
    switch (next) {
      case IPV6_HOP_BY_HOP:
      case IPV6_ROUTING:
      case IPV6_DEST_OPTIONS:
      case IPV6_AH: {
        if (buf.length - at < 2)
          return { kind: 'malformed', detail: `IPv6 extension header ${next} truncated` };
        const units = buf[at + 1] ?? 0;
        const length = next === IPV6_AH ? (units + 2) * 4 : (units + 1) * 8;
        if (buf.length - at < length)
          return { kind: 'malformed', detail: `IPv6 extension header ${next} truncated` };
        next = buf[at] ?? 0;
        at += length;
        break;
      }
      case IPV6_FRAGMENT:
        if (buf.length - at < 8) return { kind: 'malformed', detail: 'IPv6 fragment header truncated' };
        return { kind: 'fragment', offset: at };
      case IPV6_NO_NEXT:
        return { kind: 'empty' };
      default:
        return { kind: 'payload', proto: next, offset: at };
    }
  }
}

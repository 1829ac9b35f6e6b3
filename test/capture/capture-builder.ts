// Builds packets and capture files byte by byte, straight from the format specifications, so the
// tests can wrap real export payloads in every link type and file format the reader supports.
// It shares no code with collector/capture on purpose: a bug there must not hide itself here.

import ipaddr from 'ipaddr.js';

export function addressBytes(text: string): Buffer {
  return Buffer.from(ipaddr.parse(text).toByteArray());
}

export function udp(srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const ACK = 0x10;

export function tcp(o: {
  srcPort: number;
  dstPort: number;
  seq: number;
  flags: number;
  payload?: Buffer;
  options?: Buffer;
}): Buffer {
  const options = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h.writeUInt16BE(o.srcPort, 0);
  h.writeUInt16BE(o.dstPort, 2);
  h.writeUInt32BE(o.seq >>> 0, 4);
  h.writeUInt32BE(0, 8);
  h[12] = ((20 + options.length) / 4) << 4;
  h[13] = o.flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, options, o.payload ?? Buffer.alloc(0)]);
}

export function ipv4(o: {
  src: string;
  dst: string;
  proto: number;
  payload: Buffer;
  id?: number;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number;
  moreFragments?: boolean;
  options?: Buffer;
  /** Overrides the total length field (to build broken packets). */
  totalLength?: number;
}): Buffer {
  const options = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + options.length);
  h[0] = 0x40 | ((20 + options.length) / 4);
  h.writeUInt16BE(o.totalLength ?? h.length + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  h.writeUInt16BE(((o.fragmentOffset ?? 0) / 8) | (o.moreFragments === true ? 0x2000 : 0), 6);
  h[8] = 64;
  h[9] = o.proto;
  addressBytes(o.src).copy(h, 12);
  addressBytes(o.dst).copy(h, 16);
  options.copy(h, 20);
  return Buffer.concat([h, o.payload]);
}

/** A hop-by-hop or destination options header of `units` 8-byte units, filled with one PadN option. */
export function ipv6Options(nextHeader: number, units: number): Buffer {
  const h = Buffer.alloc(units * 8);
  h[0] = nextHeader;
  h[1] = units - 1;
  h[2] = 1; // PadN (RFC 8200 §4.2)
  h[3] = units * 8 - 4;
  return h;
}

/** A routing header with segments left 0, which every receiver skips (RFC 8200 §4.4). */
export function ipv6Routing(nextHeader: number, units: number): Buffer {
  const h = Buffer.alloc(units * 8);
  h[0] = nextHeader;
  h[1] = units - 1;
  h[2] = 3; // routing type (RPL source route); segments left stays 0
  return h;
}

export function ipv6FragmentHeader(nextHeader: number, offset: number, more: boolean, id: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = nextHeader;
  h.writeUInt16BE(offset | (more ? 1 : 0), 2);
  h.writeUInt32BE(id, 4);
  return h;
}

/** `nextHeader` is the first header after the fixed one; `payload` holds that header chain. */
export function ipv6(o: { src: string; dst: string; nextHeader: number; payload: Buffer }): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(o.payload.length, 4);
  h[6] = o.nextHeader;
  h[7] = 64;
  addressBytes(o.src).copy(h, 8);
  addressBytes(o.dst).copy(h, 24);
  return Buffer.concat([h, o.payload]);
}

export function ethernet(
  etherType: number,
  payload: Buffer,
  tags: readonly { tpid: number; vid: number }[] = [],
): Buffer {
  const parts: Buffer[] = [Buffer.from('020000000002020000000001', 'hex')];
  for (const tag of tags) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tag.tpid, 0);
    t.writeUInt16BE(tag.vid, 2);
    parts.push(t);
  }
  const type = Buffer.alloc(2);
  type.writeUInt16BE(etherType, 0);
  parts.push(type, payload);
  return Buffer.concat(parts);
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113). */
export function sll(protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // sent to us
  h.writeUInt16BE(772, 2); // ARPHRD_LOOPBACK
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276). */
export function sll2(protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(1, 4); // interface index
  h.writeUInt16BE(772, 8);
  h[10] = 0;
  h[11] = 6;
  return Buffer.concat([h, payload]);
}

/** BSD loopback header: the address family as a 32-bit word in the given byte order. */
export function loopback(family: number, littleEndian: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  if (littleEndian) h.writeUInt32LE(family, 0);
  else h.writeUInt32BE(family, 0);
  return Buffer.concat([h, payload]);
}

export interface PcapRecord {
  readonly tsSec: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  readonly tsFrac: number;
  readonly data: Buffer;
  readonly origLen?: number;
}

export function pcapFile(
  o: { linkType: number; littleEndian?: boolean; nanos?: boolean; snapLen?: number },
  records: readonly PcapRecord[],
): Buffer {
  const le = o.littleEndian ?? true;
  const u32 = (b: Buffer, v: number, at: number): void => {
    if (le) b.writeUInt32LE(v >>> 0, at);
    else b.writeUInt32BE(v >>> 0, at);
  };
  const u16 = (b: Buffer, v: number, at: number): void => {
    if (le) b.writeUInt16LE(v, at);
    else b.writeUInt16BE(v, at);
  };
  const header = Buffer.alloc(24);
  u32(header, o.nanos === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(header, 2, 4);
  u16(header, 4, 6);
  u32(header, o.snapLen ?? 262144, 16);
  u32(header, o.linkType, 20);
  const parts: Buffer[] = [header];
  for (const r of records) {
    const h = Buffer.alloc(16);
    u32(h, r.tsSec, 0);
    u32(h, r.tsFrac, 4);
    u32(h, r.data.length, 8);
    u32(h, r.origLen ?? r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

/** pcapng blocks, written in one byte order (a file may mix sections of both). */
export class PcapngWriter {
  private readonly parts: Buffer[] = [];
  constructor(private littleEndian = true) {}

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.littleEndian) b.writeUInt32LE(v >>> 0, 0);
    else b.writeUInt32BE(v >>> 0, 0);
    return b;
  }

  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.littleEndian) b.writeUInt16LE(v, 0);
    else b.writeUInt16BE(v, 0);
    return b;
  }

  private pad(b: Buffer): Buffer {
    return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  }

  option(code: number, value: Buffer): Buffer {
    return Buffer.concat([this.u16(code), this.u16(value.length), this.pad(value)]);
  }

  endOfOptions(): Buffer {
    return Buffer.alloc(4);
  }

  /** A block of any type; the body is padded to 32 bits as every block must be. */
  block(type: number, unpadded: Buffer): this {
    const body = this.pad(unpadded);
    const length = 12 + body.length;
    this.parts.push(this.u32(type), this.u32(length), body, this.u32(length));
    return this;
  }

  /** Section header; switches the writer to `littleEndian` for this and the following blocks. */
  section(littleEndian = this.littleEndian): this {
    this.littleEndian = littleEndian;
    const body = Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), Buffer.alloc(8, 0xff)]);
    return this.block(0x0a0d0d0a, body);
  }

  interface(linkType: number, options: Buffer[] = [], snapLen = 0): this {
    const opts = options.length > 0 ? Buffer.concat([...options, this.endOfOptions()]) : Buffer.alloc(0);
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(snapLen), opts]));
  }

  enhancedPacket(interfaceId: number, timestamp: bigint, data: Buffer, origLen = data.length): this {
    const body = Buffer.concat([
      this.u32(interfaceId),
      this.u32(Number(timestamp >> 32n)),
      this.u32(Number(timestamp & 0xffffffffn)),
      this.u32(data.length),
      this.u32(origLen),
      this.pad(data),
    ]);
    return this.block(6, body);
  }

  simplePacket(data: Buffer, origLen = data.length): this {
    return this.block(3, Buffer.concat([this.u32(origLen), this.pad(data)]));
  }

  obsoletePacket(interfaceId: number, timestamp: bigint, data: Buffer): this {
    const body = Buffer.concat([
      this.u16(interfaceId),
      this.u16(0),
      this.u32(Number(timestamp >> 32n)),
      this.u32(Number(timestamp & 0xffffffffn)),
      this.u32(data.length),
      this.u32(data.length),
      this.pad(data),
    ]);
    return this.block(2, body);
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// pcapng files (draft-ietf-opsawg-pcapng): a sequence of blocks, each `type, total length, body,
// total length`. A Section Header Block states the byte order of its section; Interface
// Description Blocks give each interface its link type and timestamp resolution; packets arrive
// in Enhanced (EPB), Simple (SPB) or the obsolete Packet Block (OPB). Other blocks are skipped.

import { MAX_RECORD_LENGTH } from './pcap-format.js';

export const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_OPB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPTION_END = 0;
const OPTION_IF_TSRESOL = 9;
const OPTION_IF_TSOFFSET = 14;

export interface PcapngInterface {
  readonly linkType: number;
  readonly snapLen: number;
  /** Timestamp units per second: 10^6 unless if_tsresol says otherwise (draft §4.2). */
  readonly unitsPerSecond: bigint;
  /** if_tsoffset: seconds added to every timestamp of the interface (draft §4.2). */
  readonly offsetSeconds: bigint;
}

export interface PcapngSection {
  readonly littleEndian: boolean;
  readonly interfaces: PcapngInterface[];
}

export type PcapngBlockStep =
  | { readonly kind: 'need'; readonly bytes: number }
  | { readonly kind: 'section'; readonly consumed: number; readonly section: PcapngSection }
  | { readonly kind: 'interface'; readonly consumed: number; readonly iface: PcapngInterface }
  | {
      readonly kind: 'packet';
      readonly consumed: number;
      readonly interfaceId: number;
      /** Raw timestamp in the interface's units; null for a Simple Packet Block, which has none. */
      readonly timestamp: bigint | null;
      readonly data: Buffer;
      readonly origLen: number;
    }
  /** A packet block whose own lengths contradict each other: it counts as a frame, but is unreadable. */
  | { readonly kind: 'bad-packet'; readonly consumed: number; readonly detail: string }
  | { readonly kind: 'skip'; readonly consumed: number; readonly detail: string | null }
  | { readonly kind: 'fatal'; readonly detail: string };

/** True when the 4 bytes at `pos` are a Section Header Block type (the same in both byte orders). */
export function isPcapngStart(buf: Buffer, pos: number): boolean {
  return buf.length - pos >= 4 && buf.readUInt32BE(pos) === BLOCK_SHB;
}

/**
 * Reads the block at `pos`. `section` is the current section (null before the first SHB).
 * A block length that is not a multiple of 4 or shorter than a block can be means the file is
 * corrupt: there is no way to find the next block, so that is fatal.
 */
export function readPcapngBlock(buf: Buffer, pos: number, section: PcapngSection | null): PcapngBlockStep {
  const avail = buf.length - pos;
  if (avail < 12) return { kind: 'need', bytes: 12 };
  const isShb = buf.readUInt32BE(pos) === BLOCK_SHB;
  let littleEndian: boolean;
  if (isShb) {
    const bom = buf.readUInt32LE(pos + 8);
    if (bom === BYTE_ORDER_MAGIC) littleEndian = true;
    else if (buf.readUInt32BE(pos + 8) === BYTE_ORDER_MAGIC) littleEndian = false;
    else return { kind: 'fatal', detail: 'section header block without a valid byte-order magic' };
  } else if (section === null) {
    return { kind: 'fatal', detail: 'pcapng file does not start with a section header block' };
  } else {
    littleEndian = section.littleEndian;
  }
  const u32 = (at: number): number =>
    littleEndian ? buf.readUInt32LE(pos + at) : buf.readUInt32BE(pos + at);
  const u16 = (at: number): number =>
    littleEndian ? buf.readUInt16LE(pos + at) : buf.readUInt16BE(pos + at);
  const type = u32(0);
  const length = u32(4);
  if (length < 12 || length % 4 !== 0 || length > MAX_RECORD_LENGTH) {
    return { kind: 'fatal', detail: `block type 0x${type.toString(16)} has an impossible length ${length}` };
  }
  if (avail < length) return { kind: 'need', bytes: length };
  if (u32(length - 4) !== length) {
    return {
      kind: 'fatal',
      detail: `block type 0x${type.toString(16)}: trailing length differs from ${length}`,
    };
  }

  switch (type) {
    case BLOCK_SHB: {
      if (length < 28)
        return { kind: 'fatal', detail: `section header block of ${length} bytes is too short` };
      return { kind: 'section', consumed: length, section: { littleEndian, interfaces: [] } };
    }
    case BLOCK_IDB: {
      if (length < 20)
        return { kind: 'skip', consumed: length, detail: 'interface description block too short' };
      let unitsPerSecond = 1_000_000n;
      let offsetSeconds = 0n;
      // Options run from after the fixed fields to before the trailing length, each padded to 32 bits.
      for (let at = 16; at + 4 <= length - 4;) {
        const code = u16(at);
        const optLen = u16(at + 2);
        if (code === OPTION_END || at + 4 + optLen > length - 4) break;
        if (code === OPTION_IF_TSRESOL && optLen >= 1) {
          const v = buf[pos + at + 4] ?? 6;
          // Most significant bit set: a negative power of two; otherwise of ten.
          unitsPerSecond = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
        } else if (code === OPTION_IF_TSOFFSET && optLen >= 8) {
          offsetSeconds = littleEndian ? buf.readBigInt64LE(pos + at + 4) : buf.readBigInt64BE(pos + at + 4);
        }
        at += 4 + ((optLen + 3) & ~3);
      }
      return {
        kind: 'interface',
        consumed: length,
        iface: { linkType: u16(8), snapLen: u32(12), unitsPerSecond, offsetSeconds },
      };
    }
    case BLOCK_EPB:
    case BLOCK_OPB: {
      if (length < 32) return { kind: 'bad-packet', consumed: length, detail: 'packet block too short' };
      const interfaceId = type === BLOCK_EPB ? u32(8) : u16(8);
      const timestamp = (BigInt(u32(12)) << 32n) | BigInt(u32(16));
      const capLen = u32(20);
      const origLen = u32(24);
      if (capLen > length - 32) {
        return {
          kind: 'bad-packet',
          consumed: length,
          detail: `captured length ${capLen} overruns its block`,
        };
      }
      return {
        kind: 'packet',
        consumed: length,
        interfaceId,
        timestamp,
        data: buf.subarray(pos + 28, pos + 28 + capLen),
        origLen,
      };
    }
    case BLOCK_SPB: {
      if (length < 16)
        return { kind: 'bad-packet', consumed: length, detail: 'simple packet block too short' };
      const origLen = u32(8);
      // A Simple Packet Block has no captured length: it is the original length, cut by the
      // block size and by interface 0's snap length (draft §4.4).
      const snapLen = section?.interfaces[0]?.snapLen ?? 0;
      let capLen = Math.min(origLen, length - 16);
      if (snapLen > 0) capLen = Math.min(capLen, snapLen);
      return {
        kind: 'packet',
        consumed: length,
        interfaceId: 0,
        timestamp: null,
        data: buf.subarray(pos + 12, pos + 12 + capLen),
        origLen,
      };
    }
    default:
      return { kind: 'skip', consumed: length, detail: null };
  }
}

/** Epoch ms of a raw timestamp in the interface's units, keeping sub-ms precision. */
export function pcapngTimestampMs(timestamp: bigint, iface: PcapngInterface): number {
  const seconds = timestamp / iface.unitsPerSecond + iface.offsetSeconds;
  const rest = timestamp % iface.unitsPerSecond;
  return Number(seconds) * 1000 + (Number(rest) * 1000) / Number(iface.unitsPerSecond);
}

// Classic libpcap files: a 24-byte file header, then one 16-byte record header per packet.
// Layout from draft-ietf-opsawg-pcap (§4 file header, §5 packet record). The writer's byte order
// is whatever its host used, so the magic number is read both ways to learn it.

/** Bytes of the file header and of each record header. */
export const PCAP_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

/** A record longer than this cannot be a real packet; the file is corrupt past this point. */
export const MAX_RECORD_LENGTH = 16 * 1024 * 1024;

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;

export interface PcapHeader {
  readonly littleEndian: boolean;
  /** True for the nanosecond variant (magic 0xa1b23c4d), false for microseconds. */
  readonly nanos: boolean;
  readonly linkType: number;
  readonly snapLen: number;
}

export type PcapRecordStep =
  | { readonly kind: 'need'; readonly bytes: number }
  | {
      readonly kind: 'record';
      readonly consumed: number;
      readonly tsMs: number;
      readonly data: Buffer;
      readonly origLen: number;
    }
  | { readonly kind: 'fatal'; readonly detail: string };

/** Byte order and resolution from the 4 magic bytes at `pos`, or null when they are not a pcap magic. */
export function detectPcapMagic(buf: Buffer, pos: number): { littleEndian: boolean; nanos: boolean } | null {
  if (buf.length - pos < 4) return null;
  const le = buf.readUInt32LE(pos);
  const be = buf.readUInt32BE(pos);
  if (le === MAGIC_MICROS) return { littleEndian: true, nanos: false };
  if (be === MAGIC_MICROS) return { littleEndian: false, nanos: false };
  if (le === MAGIC_NANOS) return { littleEndian: true, nanos: true };
  if (be === MAGIC_NANOS) return { littleEndian: false, nanos: true };
  return null;
}

/** Reads the file header at `pos`; the caller has checked that PCAP_HEADER_LENGTH bytes are there. */
export function readPcapHeader(buf: Buffer, pos: number): PcapHeader | null {
  const magic = detectPcapMagic(buf, pos);
  if (magic === null || buf.length - pos < PCAP_HEADER_LENGTH) return null;
  const u32 = (at: number): number => (magic.littleEndian ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  // The link type is the low 16 bits; the upper bits carry FCS information (draft §4, LinkType).
  return { ...magic, snapLen: u32(pos + 16), linkType: u32(pos + 20) & 0xffff };
}

/** Reads one packet record at `pos`. */
export function readPcapRecord(buf: Buffer, pos: number, header: PcapHeader): PcapRecordStep {
  const avail = buf.length - pos;
  if (avail < PCAP_RECORD_HEADER_LENGTH) return { kind: 'need', bytes: PCAP_RECORD_HEADER_LENGTH };
  // Plain reads, no closure: this runs once per packet of the file (the probe reads millions).
  const le = header.littleEndian;
  const seconds = le ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos);
  const fraction = le ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
  const capLen = le ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
  const origLen = le ? buf.readUInt32LE(pos + 12) : buf.readUInt32BE(pos + 12);
  if (capLen > MAX_RECORD_LENGTH) {
    return { kind: 'fatal', detail: `record claims ${capLen} captured bytes, more than any packet can have` };
  }
  const total = PCAP_RECORD_HEADER_LENGTH + capLen;
  if (avail < total) return { kind: 'need', bytes: total };
  const tsMs = seconds * 1000 + (header.nanos ? fraction / 1e6 : fraction / 1e3);
  return {
    kind: 'record',
    consumed: total,
    tsMs,
    data: buf.subarray(pos + PCAP_RECORD_HEADER_LENGTH, pos + total),
    origLen,
  };
}

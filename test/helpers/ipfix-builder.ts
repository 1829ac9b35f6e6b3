// Builds IPFIX messages byte by byte from RFC 7011's layouts (§3.1 message header, §3.3 set
// header, §3.4.1 template record, §3.2 field specifier with the enterprise bit). Test and
// benchmark input only: the collector never encodes.

export interface FieldSpec {
  readonly id: number;
  readonly length: number;
  /** Private Enterprise Number: sets the enterprise bit (RFC 7011 §3.2). */
  readonly enterprise?: number;
}

export type FieldValue = number | bigint | string | Buffer;

export function templateSet(templateId: number, fields: readonly FieldSpec[]): Buffer {
  const specLen = fields.reduce((n, f) => n + (f.enterprise === undefined ? 4 : 8), 0);
  const buf = Buffer.alloc(4 + 4 + specLen);
  buf.writeUInt16BE(2, 0);
  buf.writeUInt16BE(buf.length, 2);
  buf.writeUInt16BE(templateId, 4);
  buf.writeUInt16BE(fields.length, 6);
  let off = 8;
  for (const f of fields) {
    buf.writeUInt16BE(f.enterprise === undefined ? f.id : f.id | 0x8000, off);
    buf.writeUInt16BE(f.length, off + 2);
    off += 4;
    if (f.enterprise !== undefined) {
      buf.writeUInt32BE(f.enterprise, off);
      off += 4;
    }
  }
  return buf;
}

/** Encodes one data record for `fields`; addresses as text, numbers big-endian in the field's length. */
export function dataRecord(fields: readonly FieldSpec[], values: readonly FieldValue[]): Buffer {
  const parts = fields.map((f, i) => encodeValue(f.length, values[i] ?? 0));
  return Buffer.concat(parts);
}

export function dataSet(templateId: number, records: readonly Buffer[]): Buffer {
  const body = Buffer.concat(records);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(templateId, 0);
  header.writeUInt16BE(4 + body.length, 2);
  return Buffer.concat([header, body]);
}

export function ipfixMessage(opts: {
  exportTimeSec: number;
  sequence: number;
  domainId: number;
  sets: readonly Buffer[];
}): Buffer {
  const body = Buffer.concat(opts.sets);
  const header = Buffer.alloc(16);
  header.writeUInt16BE(10, 0);
  header.writeUInt16BE(16 + body.length, 2);
  header.writeUInt32BE(opts.exportTimeSec >>> 0, 4);
  header.writeUInt32BE(opts.sequence >>> 0, 8);
  header.writeUInt32BE(opts.domainId >>> 0, 12);
  return Buffer.concat([header, body]);
}

function encodeValue(length: number, value: FieldValue): Buffer {
  if (Buffer.isBuffer(value)) {
    const out = Buffer.alloc(length);
    value.copy(out, 0, 0, length);
    return out;
  }
  if (typeof value === 'string') return encodeAddress(value, length);
  const out = Buffer.alloc(length);
  let v = BigInt(value);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function encodeAddress(text: string, length: number): Buffer {
  if (length === 4) return Buffer.from(text.split('.').map(Number));
  // IPv6: expand '::' and write eight 16-bit groups.
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** IANA element ids used by the tests and benchmarks (RFC 7012 / IANA IPFIX registry). */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  ipClassOfService: 5,
  tcpControlBits: 6,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  ingressInterface: 10,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  egressInterface: 14,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  fragmentIdentification: 54,
  fragmentOffset: 88,
  droppedPacketDeltaCount: 133,
  droppedPacketTotalCount: 135,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  fragmentFlags: 197,
  ipSecSPI: 295,
} as const;

/** tunnelflow's enterprise elements for ESP sequence numbers (PEN 32473, RFC 5612's documentation PEN). */
export const TUNNELFLOW_PEN = 32473;

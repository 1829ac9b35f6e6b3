// The one IPFIX encoder (RFC 7011), the mirror of ipfix.ts: message header (§3.1), set header
// (§3.3), template and options template records (§3.4.1, §3.4.2.2), field specifiers with the
// enterprise bit (§3.2), data records with fixed and variable-length fields (§7). The probe
// exports with it; tests and benchmarks build their datagrams with it. Pure: bytes out, no I/O.

import { parseIpv4, parseIpv6 } from '../../model/address-parse.js';
import { VARIABLE_LENGTH } from './elements.js';

/** RFC 7011 §3.3.2: set ids 2 and 3; data sets use the template id (≥ 256). */
export const TEMPLATE_SET_ID = 2;
export const OPTIONS_TEMPLATE_SET_ID = 3;
export const IPFIX_VERSION = 10;
export const MESSAGE_HEADER_LENGTH = 16;
const SET_HEADER_LENGTH = 4;

/** One field specifier to encode; `enterprise` absent or 0 means an IANA element. */
export interface EncodeField {
  readonly id: number;
  /** Encoded length in bytes, or 65535 (VARIABLE_LENGTH) for a variable-length field. */
  readonly length: number;
  readonly enterprise?: number;
}

export interface EncodeTemplate {
  readonly templateId: number;
  readonly fields: readonly EncodeField[];
  /** Options templates only: the first `scopeFieldCount` fields are scope fields (≥ 1). */
  readonly scopeFieldCount?: number;
}

/**
 * A field value: integers (number or bigint) big-endian in the field's length; address text
 * for 4- and 16-byte address fields (any other string is UTF-8, RFC 7011 §6.1.6); buffers as
 * they are (fixed fields zero-padded or cut to the length).
 */
export type EncodeValue = number | bigint | string | Uint8Array;

function hasEnterprise(f: EncodeField): boolean {
  return f.enterprise !== undefined && f.enterprise !== 0;
}

function specifiersLength(fields: readonly EncodeField[]): number {
  let n = 0;
  for (const f of fields) n += hasEnterprise(f) ? 8 : 4;
  return n;
}

function writeSpecifiers(buf: Buffer, at: number, fields: readonly EncodeField[]): number {
  let off = at;
  for (const f of fields) {
    const pen = hasEnterprise(f);
    // §3.2: the enterprise bit is the top bit of the element id; the PEN follows the length.
    buf.writeUInt16BE(pen ? (f.id & 0x7fff) | 0x8000 : f.id & 0x7fff, off);
    buf.writeUInt16BE(f.length, off + 2);
    off += 4;
    if (pen) {
      buf.writeUInt32BE((f.enterprise as number) >>> 0, off);
      off += 4;
    }
  }
  return off;
}

/** A template set (set id 2) holding one template record per entry. */
export function encodeTemplateSet(templates: readonly EncodeTemplate[]): Buffer {
  return encodeTemplates(TEMPLATE_SET_ID, templates, false);
}

/** An options template set (set id 3); each template names its scope field count (§3.4.2.2). */
export function encodeOptionsTemplateSet(templates: readonly EncodeTemplate[]): Buffer {
  return encodeTemplates(OPTIONS_TEMPLATE_SET_ID, templates, true);
}

/** Template records (§3.4.1) or options template records (§3.4.2.2, with the scope count) in one set. */
function encodeTemplates(setId: number, templates: readonly EncodeTemplate[], options: boolean): Buffer {
  const header = options ? 6 : 4;
  let length = SET_HEADER_LENGTH;
  for (const t of templates) length += header + specifiersLength(t.fields);
  const buf = Buffer.alloc(length);
  buf.writeUInt16BE(setId, 0);
  buf.writeUInt16BE(length, 2);
  let off = SET_HEADER_LENGTH;
  for (const t of templates) {
    buf.writeUInt16BE(t.templateId, off);
    buf.writeUInt16BE(t.fields.length, off + 2);
    if (options) buf.writeUInt16BE(t.scopeFieldCount ?? 1, off + 4);
    off = writeSpecifiers(buf, off + header, t.fields);
  }
  return buf;
}

/** A template withdrawal (§8.1): a template record with a field count of 0. */
export function encodeTemplateWithdrawal(templateId: number, options = false): Buffer {
  const buf = Buffer.alloc(SET_HEADER_LENGTH + 4);
  buf.writeUInt16BE(options ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID, 0);
  buf.writeUInt16BE(buf.length, 2);
  buf.writeUInt16BE(templateId, 4);
  buf.writeUInt16BE(0, 6);
  return buf;
}

function writeUnsigned(buf: Buffer, at: number, length: number, input: number | bigint): void {
  // Times in ms may carry a fraction (µs and ns captures): integer fields take the whole part.
  const value = typeof input === 'number' && !Number.isInteger(input) ? Math.trunc(input) : input;
  if (typeof value === 'number' && length <= 6 && value >= 0 && Number.isSafeInteger(value)) {
    buf.writeUIntBE(value, at, length);
    return;
  }
  let v = BigInt.asUintN(length * 8, BigInt(value));
  for (let i = length - 1; i >= 0; i--) {
    buf[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function valueBytes(value: string | Uint8Array, fixedLength: number | null): Uint8Array {
  if (typeof value !== 'string') return value;
  if (fixedLength === 4) {
    const v4 = parseIpv4(value);
    if (v4 >= 0) {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(v4, 0);
      return out;
    }
  }
  if (fixedLength === 16 && value.includes(':')) {
    const v6 = parseIpv6(value);
    if (v6 !== null) return v6;
  }
  return Buffer.from(value, 'utf8');
}

/** Bytes `value` takes in a field of `length` (variable-length: with its length prefix, §7). */
function encodedLength(length: number, value: EncodeValue): number {
  if (length !== VARIABLE_LENGTH) return length;
  const n = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : valueLength(value);
  return n < 255 ? 1 + n : 3 + n;
}

function valueLength(value: EncodeValue): number {
  if (typeof value === 'number' || typeof value === 'bigint') return 8;
  return value.length;
}

/** Encodes one data record; `values[i]` goes into `fields[i]` (missing values are zero / empty). */
export function encodeDataRecord(fields: readonly EncodeField[], values: readonly EncodeValue[]): Buffer {
  let length = 0;
  for (let i = 0; i < fields.length; i++) length += encodedLength(fields[i]!.length, values[i] ?? 0);
  const buf = Buffer.alloc(length);
  let off = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const value = values[i] ?? 0;
    if (f.length === VARIABLE_LENGTH) {
      const bytes =
        typeof value === 'number' || typeof value === 'bigint' ? bigEndian8(value) : valueBytes(value, null);
      // §7: lengths below 255 in one byte; otherwise 255 followed by a 16-bit length.
      if (bytes.length < 255) {
        buf[off++] = bytes.length;
      } else {
        buf[off] = 255;
        buf.writeUInt16BE(bytes.length, off + 1);
        off += 3;
      }
      buf.set(bytes, off);
      off += bytes.length;
    } else if (typeof value === 'number' || typeof value === 'bigint') {
      writeUnsigned(buf, off, f.length, value);
      off += f.length;
    } else {
      const bytes = valueBytes(value, f.length);
      buf.set(bytes.subarray(0, f.length), off);
      off += f.length;
    }
  }
  return buf;
}

function bigEndian8(value: number | bigint): Buffer {
  const out = Buffer.alloc(8);
  writeUnsigned(out, 0, 8, value);
  return out;
}

/** A data set for `templateId` holding already encoded records. */
export function encodeDataSet(templateId: number, records: readonly Uint8Array[]): Buffer {
  let length = SET_HEADER_LENGTH;
  for (const r of records) length += r.length;
  const buf = Buffer.alloc(length);
  buf.writeUInt16BE(templateId, 0);
  buf.writeUInt16BE(length, 2);
  let off = SET_HEADER_LENGTH;
  for (const r of records) {
    buf.set(r, off);
    off += r.length;
  }
  return buf;
}

export interface EncodeMessage {
  /** §3.1 Export Time: seconds since the epoch. */
  readonly exportTimeSec: number;
  /** §3.1 Sequence Number: data records sent in this stream before this message, mod 2^32. */
  readonly sequence: number;
  readonly observationDomainId: number;
  readonly sets: readonly Uint8Array[];
}

/** One IPFIX message: the 16-byte header and the sets (at most 65535 bytes in all, §3.1). */
export function encodeMessage(m: EncodeMessage): Buffer {
  let length = MESSAGE_HEADER_LENGTH;
  for (const s of m.sets) length += s.length;
  if (length > 0xffff) throw new RangeError(`IPFIX message of ${length} bytes exceeds 65535`);
  const buf = Buffer.alloc(length);
  buf.writeUInt16BE(IPFIX_VERSION, 0);
  buf.writeUInt16BE(length, 2);
  buf.writeUInt32BE(Math.floor(m.exportTimeSec) >>> 0, 4);
  buf.writeUInt32BE(m.sequence >>> 0, 8);
  buf.writeUInt32BE(m.observationDomainId >>> 0, 12);
  let off = MESSAGE_HEADER_LENGTH;
  for (const s of m.sets) {
    buf.set(s, off);
    off += s.length;
  }
  return buf;
}

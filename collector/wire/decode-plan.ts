// Templates compiled once into decode plans (nfdump's "sequencer" idea): one operation
// and one length per field, checked against the element table when the template arrives,
// so a data record is decoded by a tight loop with no lookups and no per-field objects.
// A fixed-length template's plan is also generated as straight-line code (fieldReader):
// one statement per stored field, no loop, no switch, no length tests.

import { u32, uint, ntpMs } from './byte-read.js';
import { DataRecord } from './data-record.js';
import type { OptionsField, OptionsRecord } from './data-record.js';
import {
  elementMeaning,
  lengthAllowed,
  variableLengthAllowed,
  V9_SCOPE_TYPES,
  VARIABLE_LENGTH,
} from './elements.js';
import type { AbstractDataType, RecordSlot } from './elements.js';
import { ipv4Text, ipv6Text } from '../../model/address-text.js';
import type { BadTemplateReason } from './issues.js';
import type { TemplateRecord, TemplateVersion } from './template.js';

// Plan operations. SKIP covers unknown elements, elements tunnelflow does not use and
// fields whose length their type cannot have. Operations below OP_FIRST_NUMERIC convert
// bytes in their own way; the others store an unsigned integer read in the common way.
const OP_SKIP = 0;
const OP_SRC4 = 1;
const OP_DST4 = 2;
const OP_SRC6 = 3;
const OP_DST6 = 4;
const OP_START_SECONDS = 5;
const OP_END_SECONDS = 6;
const OP_START_MS = 7;
const OP_END_MS = 8;
const OP_START_US = 9;
const OP_END_US = 10;
const OP_START_NS = 11;
const OP_END_NS = 12;
const OP_SYSTEM_INIT_MS = 13;
// Address fields of a template that carries both families: their offsets are noted and the
// family is chosen once the whole record is read (see resolveAddresses).
const OP_SRC4_MIXED = 14;
const OP_DST4_MIXED = 15;
const OP_SRC6_MIXED = 16;
const OP_DST6_MIXED = 17;
const OP_FIRST_NUMERIC = 20;
const OP_OCTETS = 20;
const OP_PACKETS = 21;
const OP_OCTETS_TOTAL = 22;
const OP_PACKETS_TOTAL = 23;
const OP_PROTO = 24;
const OP_TOS = 25;
const OP_TCP_FLAGS = 26;
const OP_SRC_PORT = 27;
const OP_DST_PORT = 28;
const OP_IN_IF = 29;
const OP_OUT_IF = 30;
const OP_LAST_SWITCHED = 31;
const OP_FIRST_SWITCHED = 32;
const OP_ICMP_TYPE_CODE = 33;
const OP_ICMP_TYPE = 34;
const OP_ICMP_CODE = 35;
const OP_SAMPLING_INTERVAL = 36;
const OP_SAMPLER_ID = 37;
const OP_SAMPLER_RANDOM_INTERVAL = 38;
const OP_FRAGMENT_ID = 39;
const OP_FRAGMENT_OFFSET = 40;
const OP_FRAGMENT_FLAGS = 41;
const OP_IP_VERSION = 42;
const OP_FLOW_DIRECTION = 43;
const OP_DROPPED = 44;
const OP_DROPPED_TOTAL = 45;
const OP_FLOW_END_REASON = 46;
const OP_START_DELTA_US = 47;
const OP_END_DELTA_US = 48;
const OP_SPI = 49;
const OP_SELECTOR_ID = 50;
const OP_ESP_SEQ_FIRST = 51;
const OP_ESP_SEQ_LAST = 52;
const OP_ESP_LOST = 53;
const OP_REV_OCTETS = 54;
const OP_REV_PACKETS = 55;
const OP_REV_TOS = 56;
const OP_REV_TCP_FLAGS = 57;
const OP_REV_ICMP_TYPE_CODE = 58;
const OP_ESP_DUPLICATES = 59;
const OP_ESP_OUT_OF_ORDER = 60;
const OP_IP_FRAGMENTS = 61;
const OP_NATT_KEEPALIVES = 62;

/** More field specifiers than fit in one set (16383 of 4 bytes in 65535). */
const MAX_FIELDS = 16384;

const slotOps: Record<RecordSlot, number> = {
  srcAddr4: OP_SRC4,
  dstAddr4: OP_DST4,
  srcAddr6: OP_SRC6,
  dstAddr6: OP_DST6,
  octets: OP_OCTETS,
  packets: OP_PACKETS,
  octetsTotal: OP_OCTETS_TOTAL,
  packetsTotal: OP_PACKETS_TOTAL,
  proto: OP_PROTO,
  tos: OP_TOS,
  tcpFlags: OP_TCP_FLAGS,
  srcPort: OP_SRC_PORT,
  dstPort: OP_DST_PORT,
  inIf: OP_IN_IF,
  outIf: OP_OUT_IF,
  lastSwitched: OP_LAST_SWITCHED,
  firstSwitched: OP_FIRST_SWITCHED,
  icmpTypeCode: OP_ICMP_TYPE_CODE,
  icmpType: OP_ICMP_TYPE,
  icmpCode: OP_ICMP_CODE,
  samplingInterval: OP_SAMPLING_INTERVAL,
  samplerId: OP_SAMPLER_ID,
  samplerRandomInterval: OP_SAMPLER_RANDOM_INTERVAL,
  fragmentId: OP_FRAGMENT_ID,
  fragmentOffset: OP_FRAGMENT_OFFSET,
  fragmentFlags: OP_FRAGMENT_FLAGS,
  ipVersion: OP_IP_VERSION,
  flowDirection: OP_FLOW_DIRECTION,
  droppedPackets: OP_DROPPED,
  droppedPacketsTotal: OP_DROPPED_TOTAL,
  flowEndReason: OP_FLOW_END_REASON,
  startSeconds: OP_START_SECONDS,
  endSeconds: OP_END_SECONDS,
  startMilliseconds: OP_START_MS,
  endMilliseconds: OP_END_MS,
  startMicroseconds: OP_START_US,
  endMicroseconds: OP_END_US,
  startNanoseconds: OP_START_NS,
  endNanoseconds: OP_END_NS,
  startDeltaMicroseconds: OP_START_DELTA_US,
  endDeltaMicroseconds: OP_END_DELTA_US,
  systemInitTimeMs: OP_SYSTEM_INIT_MS,
  spi: OP_SPI,
  selectorId: OP_SELECTOR_ID,
  espSeqFirst: OP_ESP_SEQ_FIRST,
  espSeqLast: OP_ESP_SEQ_LAST,
  espLostPackets: OP_ESP_LOST,
  espDuplicatePackets: OP_ESP_DUPLICATES,
  espOutOfOrderPackets: OP_ESP_OUT_OF_ORDER,
  ipFragmentPackets: OP_IP_FRAGMENTS,
  nattKeepalivePackets: OP_NATT_KEEPALIVES,
  revOctets: OP_REV_OCTETS,
  revPackets: OP_REV_PACKETS,
  revTos: OP_REV_TOS,
  revTcpFlags: OP_REV_TCP_FLAGS,
  revIcmpTypeCode: OP_REV_ICMP_TYPE_CODE,
};

/** How an options record field is turned into a value. */
type ValueKind =
  'uint' | 'ipv4' | 'ipv6' | 'mac' | 'string' | 'hex' | 'float' | 'seconds' | 'ms' | 'us' | 'ns';

interface OptionsFieldPlan {
  readonly elementId: number;
  readonly enterprise: number;
  readonly name: string;
  readonly scope: boolean;
  readonly kind: ValueKind;
}

/** A template ready to decode data records. */
export interface CompiledTemplate {
  readonly version: TemplateVersion;
  readonly record: TemplateRecord;
  /** One operation and one encoded length (65535 = variable) per field. */
  readonly ops: Uint8Array;
  readonly lengths: Uint16Array;
  /** Fewest bytes a record can take (variable-length fields count their 1-byte prefix). */
  readonly minRecordLength: number;
  /** Record length when no field is variable-length, else -1. */
  readonly fixedRecordLength: number;
  /** Options templates only: how each field becomes a named value. */
  readonly optionFields: readonly OptionsFieldPlan[] | null;
  /**
   * 0 when the template carries addresses of one family (or none); else the family listed
   * first (4 or 6), which wins when a record has addresses of both families set.
   */
  readonly mixedFamilyFirst: 0 | 4 | 6;
  /**
   * The fields that are stored, with their offsets in the record (fixed-length templates
   * only; empty otherwise): a record is decoded without looking at the skipped fields.
   */
  readonly planOps: Uint8Array;
  readonly planOffsets: Uint16Array;
  readonly planLengths: Uint16Array;
  /**
   * The plan as straight-line code (fixed-length templates of one address family, while
   * READER_LIMIT allows), or null: readFlowRecord then runs the plan in storeFields' loop.
   */
  readonly reader: FieldReader | null;
  /**
   * The record streaming decoders fill for every record of this template. Every record
   * writes exactly the same slots, so it never needs clearing (see RecordSink).
   */
  readonly scratch: DataRecord;
}

/** A field the template declares with a length its element cannot have; it is skipped. */
export interface FieldLengthProblem {
  readonly elementId: number;
  readonly enterprise: number;
  readonly length: number;
}

export type CompileResult =
  | {
      readonly ok: true;
      readonly template: CompiledTemplate;
      readonly lengthProblems: readonly FieldLengthProblem[];
    }
  | { readonly ok: false; readonly reason: BadTemplateReason };

function valueKind(type: AbstractDataType | undefined, length: number): ValueKind {
  if (type === undefined) return length <= 8 && length !== VARIABLE_LENGTH ? 'uint' : 'hex';
  if (!lengthAllowed(type, length)) return 'hex';
  switch (type) {
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
    case 'signed32':
    case 'boolean':
      return 'uint';
    case 'float64':
      return 'float';
    case 'ipv4Address':
      return 'ipv4';
    case 'ipv6Address':
      return 'ipv6';
    case 'macAddress':
      return 'mac';
    case 'string':
      return 'string';
    case 'dateTimeSeconds':
      return 'seconds';
    case 'dateTimeMilliseconds':
      return 'ms';
    case 'dateTimeMicroseconds':
      return 'us';
    case 'dateTimeNanoseconds':
      return 'ns';
    default:
      return 'hex';
  }
}

/**
 * Checks a template record and compiles it. Rejected (the template is not learned):
 * ids below 256 (RFC 7011 §3.4.1), no fields, zero-length fields (records would
 * mis-align), variable length in NetFlow v9 (RFC 3954 has none) or on an element of fixed
 * size (RFC 7011 §7), and options templates with an impossible scope count.
 */
export function compileTemplate(record: TemplateRecord, version: TemplateVersion): CompileResult {
  if (record.templateId < 256) return { ok: false, reason: 'template-id-below-256' };
  const count = record.fields.length;
  if (count === 0) return { ok: false, reason: 'zero-field-count' };
  // No set can hold more field specifiers (4 bytes each in at most 65535 bytes); only a
  // doctored snapshot could bring more.
  if (count >= MAX_FIELDS) return { ok: false, reason: 'field-count-past-end' };
  if (
    record.options &&
    (record.scopeFieldCount > count || (version === 10 && record.scopeFieldCount === 0))
  ) {
    return { ok: false, reason: 'scope-count-invalid' };
  }
  const ops = new Uint8Array(count);
  const lengths = new Uint16Array(count);
  const optionFields: OptionsFieldPlan[] | null = record.options ? [] : null;
  const lengthProblems: FieldLengthProblem[] = [];
  let minRecordLength = 0;
  let variable = false;
  // RFC 7011 §8 lets a template repeat an element and gives no rule for its values: the
  // first instance wins (tunnel records list the outer header first), so later ones are skipped.
  const seenElements = new Set<number>();
  let firstFamily: 0 | 4 | 6 = 0;
  let has4 = false;
  let has6 = false;
  for (let i = 0; i < count; i++) {
    const field = record.fields[i]!;
    const { length, elementId, enterprise } = field;
    if (length === 0) return { ok: false, reason: 'zero-length-field' };
    const v9Scope = version === 9 && record.options && i < record.scopeFieldCount;
    const meaning = v9Scope ? undefined : elementMeaning(enterprise, elementId);
    const type = meaning?.element?.type;
    if (length === VARIABLE_LENGTH) {
      if (version === 9) return { ok: false, reason: 'variable-length-not-allowed' };
      if (type !== undefined && !variableLengthAllowed(type)) {
        return { ok: false, reason: 'variable-length-not-allowed' };
      }
      variable = true;
      minRecordLength += 1;
    } else {
      minRecordLength += length;
    }
    lengths[i] = length;
    if (optionFields) {
      const name = v9Scope
        ? (V9_SCOPE_TYPES.get(elementId) ?? `scope${elementId}`)
        : (meaning?.name ?? `ie${elementId}`);
      const kind = v9Scope ? (length <= 8 ? 'uint' : 'hex') : valueKind(type, length);
      optionFields.push({ elementId, enterprise, name, scope: i < record.scopeFieldCount, kind });
      continue;
    }
    const slot = meaning?.slot;
    if (slot === undefined || type === undefined || length === VARIABLE_LENGTH) continue;
    if (!lengthAllowed(type, length)) {
      lengthProblems.push({ elementId, enterprise, length });
      continue;
    }
    const elementKey = enterprise * 65536 + elementId;
    if (seenElements.has(elementKey)) continue;
    seenElements.add(elementKey);
    const op = slotOps[slot];
    const family = op === OP_SRC4 || op === OP_DST4 ? 4 : op === OP_SRC6 || op === OP_DST6 ? 6 : 0;
    if (family !== 0 && firstFamily === 0) firstFamily = family;
    if (family === 4) has4 = true;
    else if (family === 6) has6 = true;
    ops[i] = op;
  }
  const mixed = has4 && has6;
  if (mixed) {
    for (let i = 0; i < count; i++) {
      const op = ops[i]!;
      if (op === OP_SRC4) ops[i] = OP_SRC4_MIXED;
      else if (op === OP_DST4) ops[i] = OP_DST4_MIXED;
      else if (op === OP_SRC6) ops[i] = OP_SRC6_MIXED;
      else if (op === OP_DST6) ops[i] = OP_DST6_MIXED;
    }
  }
  // A record must fit in one message (IPFIX length field is 16 bits).
  if (minRecordLength > 65535) return { ok: false, reason: 'record-too-long' };
  let stored = 0;
  if (!variable) for (let i = 0; i < count; i++) if (ops[i] !== OP_SKIP) stored++;
  const planOps = new Uint8Array(stored);
  const planOffsets = new Uint16Array(stored);
  const planLengths = new Uint16Array(stored);
  if (!variable) {
    for (let i = 0, k = 0, offset = 0; i < count; offset += lengths[i]!, i++) {
      if (ops[i] === OP_SKIP) continue;
      planOps[k] = ops[i]!;
      planOffsets[k] = offset;
      planLengths[k] = lengths[i]!;
      k++;
    }
  }
  const scratch = new DataRecord();
  scratch.templateId = record.templateId;
  return {
    ok: true,
    template: {
      version,
      record,
      ops,
      lengths,
      minRecordLength,
      fixedRecordLength: variable ? -1 : minRecordLength,
      optionFields,
      mixedFamilyFirst: mixed ? firstFamily : 0,
      planOps,
      planOffsets,
      planLengths,
      reader: variable || mixed ? null : fieldReader(planOps, planOffsets, planLengths),
      scratch,
    },
    lengthProblems,
  };
}

/** Seconds / ms since 1970 as epoch ms; 0 means "not set". */
function absoluteMs(value: number, scale: number): number | null {
  return value === 0 ? null : value * scale;
}

// Scratch arrays for locating the fields of a variable-length record (at most 16383
// field specifiers fit in a set). Decoding is synchronous, so one set is enough.
const varOps = new Uint8Array(MAX_FIELDS);
const varOffsets = new Uint32Array(MAX_FIELDS);
const varLengths = new Uint32Array(MAX_FIELDS);

/**
 * Decodes one flow data record at `pos` into `out`. Returns the offset after it, or -1
 * when a field would run past `end` (only possible with variable-length fields: the
 * caller only starts a record when `minRecordLength` bytes are left).
 */
export function readFlowRecord(
  template: CompiledTemplate,
  bytes: Uint8Array,
  pos: number,
  end: number,
  out: DataRecord,
): number {
  const fixed = template.fixedRecordLength;
  const mixed = template.mixedFamilyFirst;
  if (mixed !== 0) mixedSrc4 = mixedDst4 = mixedSrc6 = mixedDst6 = -1;
  if (fixed >= 0) {
    const reader = template.reader;
    if (reader !== null) {
      reader(bytes, pos, out);
      return pos + fixed;
    }
    storeFields(
      template.planOps,
      template.planOffsets,
      template.planLengths,
      template.planOps.length,
      bytes,
      pos,
      out,
    );
    if (mixed !== 0) resolveAddresses(mixed, bytes, out);
    return pos + fixed;
  }
  const ops = template.ops;
  const lengths = template.lengths;
  const count = ops.length;
  let stored = 0;
  for (let i = 0; i < count; i++) {
    let length = lengths[i]!;
    if (length === VARIABLE_LENGTH) {
      // RFC 7011 §7: one length byte, or 255 followed by a two-byte length.
      if (pos >= end) return -1;
      length = bytes[pos]!;
      pos += 1;
      if (length === 255) {
        if (pos + 2 > end) return -1;
        length = (bytes[pos]! << 8) | bytes[pos + 1]!;
        pos += 2;
      }
    }
    if (pos + length > end) return -1;
    const op = ops[i]!;
    if (op !== OP_SKIP) {
      varOps[stored] = op;
      varOffsets[stored] = pos;
      varLengths[stored] = length;
      stored++;
    }
    pos += length;
  }
  storeFields(varOps, varOffsets, varLengths, stored, bytes, 0, out);
  if (mixed !== 0) resolveAddresses(mixed, bytes, out);
  return pos;
}

// Offsets of the address fields of the record being read from a template with both
// families (-1: not in the template). Decoding is synchronous, so one set is enough.
let mixedSrc4 = -1;
let mixedDst4 = -1;
let mixedSrc6 = -1;
let mixedDst6 = -1;

function allZero(b: Uint8Array, p: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (b[p + i] !== 0) return false;
  return true;
}

/**
 * Picks the address family of a record whose template has IPv4 and IPv6 address fields:
 * the family with a field set (not all zero) wins; when both or neither are set, the
 * family listed first in the template does. So an exporter's union template with
 * 0.0.0.0 beside real IPv6 addresses gives the IPv6 flow, and an outer IPv6 header listed
 * before an inner IPv4 one gives the outer addresses, like every other repeated element.
 */
function resolveAddresses(first: 4 | 6, b: Uint8Array, out: DataRecord): void {
  const set4 = (mixedSrc4 >= 0 && !allZero(b, mixedSrc4, 4)) || (mixedDst4 >= 0 && !allZero(b, mixedDst4, 4));
  const set6 =
    (mixedSrc6 >= 0 && !allZero(b, mixedSrc6, 16)) || (mixedDst6 >= 0 && !allZero(b, mixedDst6, 16));
  const family = set4 === set6 ? first : set4 ? 4 : 6;
  if (family === 4) {
    out.src = mixedSrc4 >= 0 ? ipv4Text(b, mixedSrc4) : null;
    out.dst = mixedDst4 >= 0 ? ipv4Text(b, mixedDst4) : null;
    out.src4 = mixedSrc4 >= 0 ? u32(b, mixedSrc4) : -1;
    out.dst4 = mixedDst4 >= 0 ? u32(b, mixedDst4) : -1;
  } else {
    out.src = mixedSrc6 >= 0 ? ipv6Text(b, mixedSrc6) : null;
    out.dst = mixedDst6 >= 0 ? ipv6Text(b, mixedDst6) : null;
    out.src4 = -1;
    out.dst4 = -1;
  }
  out.addressFamily = family;
}

/** Runs `count` plan operations; field k starts at `base + offsets[k]`, all of it in bounds. */
function storeFields(
  ops: Uint8Array,
  offsets: Uint16Array | Uint32Array,
  lengths: Uint16Array | Uint32Array,
  count: number,
  b: Uint8Array,
  base: number,
  out: DataRecord,
): void {
  for (let i = 0; i < count; i++) {
    const op = ops[i]!;
    const p = base + offsets[i]!;
    const length = lengths[i]!;
    if (op >= OP_FIRST_NUMERIC) {
      // The common lengths are read inline; the rest (3, 5-7 bytes) by uint().
      let v: number;
      if (length === 4) v = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      else if (length === 2) v = (b[p]! << 8) | b[p + 1]!;
      else if (length === 1) v = b[p]!;
      else if (length === 8) {
        v =
          (((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0) * 4294967296 +
          (((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0);
      } else v = uint(b, p, length);
      switch (op) {
        case OP_OCTETS:
          out.octets = v;
          break;
        case OP_PACKETS:
          out.packets = v;
          break;
        case OP_OCTETS_TOTAL:
          out.octetsTotal = v;
          break;
        case OP_PACKETS_TOTAL:
          out.packetsTotal = v;
          break;
        case OP_PROTO:
          out.proto = v;
          break;
        case OP_TOS:
          out.tos = v;
          break;
        case OP_TCP_FLAGS:
          out.tcpFlags = v;
          break;
        case OP_SRC_PORT:
          out.srcPort = v;
          break;
        case OP_DST_PORT:
          out.dstPort = v;
          break;
        case OP_IN_IF:
          out.inIf = v;
          break;
        case OP_OUT_IF:
          out.outIf = v;
          break;
        case OP_LAST_SWITCHED:
          out.lastSwitched = v;
          break;
        case OP_FIRST_SWITCHED:
          out.firstSwitched = v;
          break;
        case OP_ICMP_TYPE_CODE:
          out.icmpTypeCode = v;
          break;
        case OP_ICMP_TYPE:
          out.icmpType = v;
          break;
        case OP_ICMP_CODE:
          out.icmpCode = v;
          break;
        case OP_SAMPLING_INTERVAL:
          out.samplingInterval = v;
          break;
        case OP_SAMPLER_ID:
          out.samplerId = v;
          break;
        case OP_SAMPLER_RANDOM_INTERVAL:
          out.samplerRandomInterval = v;
          break;
        case OP_FRAGMENT_ID:
          out.fragmentId = v;
          break;
        case OP_FRAGMENT_OFFSET:
          out.fragmentOffset = v;
          break;
        case OP_FRAGMENT_FLAGS:
          out.fragmentFlags = v;
          break;
        case OP_IP_VERSION:
          out.ipVersion = v;
          break;
        case OP_FLOW_DIRECTION:
          out.flowDirection = v;
          break;
        case OP_DROPPED:
          out.droppedPackets = v;
          break;
        case OP_DROPPED_TOTAL:
          out.droppedPacketsTotal = v;
          break;
        case OP_FLOW_END_REASON:
          out.flowEndReason = v;
          break;
        case OP_START_DELTA_US:
          out.startDeltaUs = v;
          break;
        case OP_END_DELTA_US:
          out.endDeltaUs = v;
          break;
        case OP_SPI:
          out.spi = v;
          break;
        case OP_SELECTOR_ID:
          out.selectorId = v;
          break;
        case OP_ESP_SEQ_FIRST:
          out.espSeqFirst = v;
          break;
        case OP_ESP_SEQ_LAST:
          out.espSeqLast = v;
          break;
        case OP_ESP_LOST:
          out.espLostPackets = v;
          break;
        case OP_ESP_DUPLICATES:
          out.espDuplicatePackets = v;
          break;
        case OP_ESP_OUT_OF_ORDER:
          out.espOutOfOrderPackets = v;
          break;
        case OP_IP_FRAGMENTS:
          out.ipFragmentPackets = v;
          break;
        case OP_NATT_KEEPALIVES:
          out.nattKeepalivePackets = v;
          break;
        case OP_REV_OCTETS:
          out.revOctets = v;
          break;
        case OP_REV_PACKETS:
          out.revPackets = v;
          break;
        case OP_REV_TOS:
          out.revTos = v;
          break;
        case OP_REV_TCP_FLAGS:
          out.revTcpFlags = v;
          break;
        case OP_REV_ICMP_TYPE_CODE:
          out.revIcmpTypeCode = v;
          break;
      }
      continue;
    }
    switch (op) {
      case OP_SRC4:
        out.src = ipv4Text(b, p);
        out.src4 = u32(b, p);
        out.addressFamily = 4;
        break;
      case OP_DST4:
        out.dst = ipv4Text(b, p);
        out.dst4 = u32(b, p);
        break;
      case OP_SRC6:
        out.src = ipv6Text(b, p);
        out.addressFamily = 6;
        break;
      case OP_DST6:
        out.dst = ipv6Text(b, p);
        break;
      case OP_SRC4_MIXED:
        mixedSrc4 = p;
        break;
      case OP_DST4_MIXED:
        mixedDst4 = p;
        break;
      case OP_SRC6_MIXED:
        mixedSrc6 = p;
        break;
      case OP_DST6_MIXED:
        mixedDst6 = p;
        break;
      case OP_START_SECONDS:
        out.startAbsMs = absoluteMs(u32(b, p), 1000);
        break;
      case OP_END_SECONDS:
        out.endAbsMs = absoluteMs(u32(b, p), 1000);
        break;
      case OP_START_MS:
        out.startAbsMs = absoluteMs(u32(b, p) * 4294967296 + u32(b, p + 4), 1);
        break;
      case OP_END_MS:
        out.endAbsMs = absoluteMs(u32(b, p) * 4294967296 + u32(b, p + 4), 1);
        break;
      case OP_START_US:
        out.startAbsMs = ntpMs(b, p, true);
        break;
      case OP_END_US:
        out.endAbsMs = ntpMs(b, p, true);
        break;
      case OP_START_NS:
        out.startAbsMs = ntpMs(b, p, false);
        break;
      case OP_END_NS:
        out.endAbsMs = ntpMs(b, p, false);
        break;
      case OP_SYSTEM_INIT_MS:
        out.systemInitMs = absoluteMs(u32(b, p) * 4294967296 + u32(b, p + 4), 1);
        break;
    }
  }
}

/** A compiled plan: stores the fields of the record at `pos` (all of it in bounds) in `out`. */
export type FieldReader = (bytes: Uint8Array, pos: number, out: DataRecord) => void;

/** The DataRecord property each numeric operation stores (storeFields' switch, as a table). */
const NUMERIC_PROPERTY: Readonly<Record<number, keyof DataRecord>> = {
  [OP_OCTETS]: 'octets',
  [OP_PACKETS]: 'packets',
  [OP_OCTETS_TOTAL]: 'octetsTotal',
  [OP_PACKETS_TOTAL]: 'packetsTotal',
  [OP_PROTO]: 'proto',
  [OP_TOS]: 'tos',
  [OP_TCP_FLAGS]: 'tcpFlags',
  [OP_SRC_PORT]: 'srcPort',
  [OP_DST_PORT]: 'dstPort',
  [OP_IN_IF]: 'inIf',
  [OP_OUT_IF]: 'outIf',
  [OP_LAST_SWITCHED]: 'lastSwitched',
  [OP_FIRST_SWITCHED]: 'firstSwitched',
  [OP_ICMP_TYPE_CODE]: 'icmpTypeCode',
  [OP_ICMP_TYPE]: 'icmpType',
  [OP_ICMP_CODE]: 'icmpCode',
  [OP_SAMPLING_INTERVAL]: 'samplingInterval',
  [OP_SAMPLER_ID]: 'samplerId',
  [OP_SAMPLER_RANDOM_INTERVAL]: 'samplerRandomInterval',
  [OP_FRAGMENT_ID]: 'fragmentId',
  [OP_FRAGMENT_OFFSET]: 'fragmentOffset',
  [OP_FRAGMENT_FLAGS]: 'fragmentFlags',
  [OP_IP_VERSION]: 'ipVersion',
  [OP_FLOW_DIRECTION]: 'flowDirection',
  [OP_DROPPED]: 'droppedPackets',
  [OP_DROPPED_TOTAL]: 'droppedPacketsTotal',
  [OP_FLOW_END_REASON]: 'flowEndReason',
  [OP_START_DELTA_US]: 'startDeltaUs',
  [OP_END_DELTA_US]: 'endDeltaUs',
  [OP_SPI]: 'spi',
  [OP_SELECTOR_ID]: 'selectorId',
  [OP_ESP_SEQ_FIRST]: 'espSeqFirst',
  [OP_ESP_SEQ_LAST]: 'espSeqLast',
  [OP_ESP_LOST]: 'espLostPackets',
  [OP_ESP_DUPLICATES]: 'espDuplicatePackets',
  [OP_ESP_OUT_OF_ORDER]: 'espOutOfOrderPackets',
  [OP_IP_FRAGMENTS]: 'ipFragmentPackets',
  [OP_NATT_KEEPALIVES]: 'nattKeepalivePackets',
  [OP_REV_OCTETS]: 'revOctets',
  [OP_REV_PACKETS]: 'revPackets',
  [OP_REV_TOS]: 'revTos',
  [OP_REV_TCP_FLAGS]: 'revTcpFlags',
  [OP_REV_ICMP_TYPE_CODE]: 'revIcmpTypeCode',
};

/**
 * Distinct generated readers kept at most. Templates with the same plan share one (every
 * exporter of a model sends the same template), so a few are enough for any real network;
 * past the limit (a source inventing templates) plans run in storeFields' loop instead,
 * which decodes the same values, so memory and compile work stay bounded.
 */
export const READER_LIMIT = 256;

const readers = new Map<string, FieldReader>();

/** Readers generated so far (tests). */
export function generatedReaders(): number {
  return readers.size;
}

/** JS expression of the big-endian unsigned integer of `length` bytes at `p + offset`. */
function uintSource(offset: number, length: number): string {
  const at = (k: number) => `b[p + ${offset + k}]`;
  const u32At = (k: number) =>
    `((${at(k)} << 24) | (${at(k + 1)} << 16) | (${at(k + 2)} << 8) | ${at(k + 3)}) >>> 0`;
  switch (length) {
    case 1:
      return at(0);
    case 2:
      return `(${at(0)} << 8) | ${at(1)}`;
    case 4:
      return u32At(0);
    case 8:
      return `(${u32At(0)}) * 4294967296 + ((${u32At(4)}))`;
    default:
      return `uint(b, p + ${offset}, ${length})`;
  }
}

/** The statements of one plan operation, or null for one generated code leaves out (mixed addresses). */
function operationSource(op: number, offset: number, length: number): string | null {
  const property = NUMERIC_PROPERTY[op];
  if (property !== undefined) return `out.${property} = ${uintSource(offset, length)};`;
  const at = `p + ${offset}`;
  switch (op) {
    case OP_SRC4:
      return `out.src = ipv4Text(b, ${at}); out.src4 = ${uintSource(offset, 4)}; out.addressFamily = 4;`;
    case OP_DST4:
      return `out.dst = ipv4Text(b, ${at}); out.dst4 = ${uintSource(offset, 4)};`;
    case OP_SRC6:
      return `out.src = ipv6Text(b, ${at}); out.addressFamily = 6;`;
    case OP_DST6:
      return `out.dst = ipv6Text(b, ${at});`;
    case OP_START_SECONDS:
    case OP_END_SECONDS:
      return `out.${op === OP_START_SECONDS ? 'startAbsMs' : 'endAbsMs'} = absoluteMs(${uintSource(offset, 4)}, 1000);`;
    case OP_START_MS:
    case OP_END_MS:
    case OP_SYSTEM_INIT_MS: {
      const target = op === OP_START_MS ? 'startAbsMs' : op === OP_END_MS ? 'endAbsMs' : 'systemInitMs';
      return `out.${target} = absoluteMs(${uintSource(offset, 8)}, 1);`;
    }
    case OP_START_US:
    case OP_END_US:
    case OP_START_NS:
    case OP_END_NS: {
      const target = op === OP_START_US || op === OP_START_NS ? 'startAbsMs' : 'endAbsMs';
      return `out.${target} = ntpMs(b, ${at}, ${op === OP_START_US || op === OP_END_US});`;
    }
    default:
      return null;
  }
}

/**
 * The plan of a fixed-length, one-family template as one straight-line function: each
 * stored field one statement with its offset and length as constants, in field order
 * (so a later field overwrites an earlier one exactly as in storeFields). What goes into
 * the source is only numbers from the plan arrays and names from the tables above, never
 * bytes of the template or record. Null past READER_LIMIT or for an operation without
 * generated code; the caller then runs the plan in storeFields.
 */
function fieldReader(ops: Uint8Array, offsets: Uint16Array, lengths: Uint16Array): FieldReader | null {
  const key = `${ops.join(',')}|${offsets.join(',')}|${lengths.join(',')}`;
  const known = readers.get(key);
  if (known !== undefined) return known;
  if (readers.size >= READER_LIMIT) return null;
  const statements: string[] = [];
  for (let i = 0; i < ops.length; i++) {
    const statement = operationSource(ops[i]!, offsets[i]!, lengths[i]!);
    if (statement === null) return null;
    statements.push(statement);
  }
  const build = new Function(
    'ipv4Text',
    'ipv6Text',
    'uint',
    'ntpMs',
    'absoluteMs',
    `'use strict';\nreturn function readFields(b, p, out) {\n${statements.join('\n')}\n};`,
  ) as (...helpers: unknown[]) => FieldReader;
  const reader = build(ipv4Text, ipv6Text, uint, ntpMs, absoluteMs);
  readers.set(key, reader);
  return reader;
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

function hexText(bytes: Uint8Array, start: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++)
    text += (bytes[start + i]! < 16 ? '0' : '') + bytes[start + i]!.toString(16);
  return text;
}

function optionValue(kind: ValueKind, bytes: Uint8Array, pos: number, length: number): number | string {
  switch (kind) {
    case 'uint':
      return uint(bytes, pos, length);
    case 'ipv4':
      return ipv4Text(bytes, pos);
    case 'ipv6':
      return ipv6Text(bytes, pos);
    case 'mac': {
      const hex = hexText(bytes, pos, 6);
      return hex.replace(/(..)(?!$)/g, '$1:');
    }
    case 'string': {
      // Exporters pad fixed-length strings with NULs (softflowd's IF_NAME does).
      let stop = pos + length;
      while (stop > pos && bytes[stop - 1] === 0) stop--;
      return textDecoder.decode(bytes.subarray(pos, stop));
    }
    case 'float': {
      const view = new DataView(bytes.buffer, bytes.byteOffset + pos, length);
      return length === 4 ? view.getFloat32(0) : view.getFloat64(0);
    }
    case 'seconds':
      return u32(bytes, pos) * 1000;
    case 'ms':
      return uint(bytes, pos, 8);
    case 'us':
      return ntpMs(bytes, pos, true) ?? 0;
    case 'ns':
      return ntpMs(bytes, pos, false) ?? 0;
    case 'hex':
      return hexText(bytes, pos, length);
  }
}

/** Decodes one options data record; null when a field would run past `end`. */
export function readOptionsRecord(
  template: CompiledTemplate,
  bytes: Uint8Array,
  pos: number,
  end: number,
): { readonly record: OptionsRecord; readonly next: number } | null {
  const plans = template.optionFields;
  if (!plans) return null;
  const lengths = template.lengths;
  const fields: OptionsField[] = [];
  for (let i = 0; i < plans.length; i++) {
    const plan = plans[i]!;
    let length = lengths[i]!;
    let kind = plan.kind;
    if (length === VARIABLE_LENGTH) {
      if (pos >= end) return null;
      length = bytes[pos]!;
      pos += 1;
      if (length === 255) {
        if (pos + 2 > end) return null;
        length = (bytes[pos]! << 8) | bytes[pos + 1]!;
        pos += 2;
      }
      if (kind !== 'string') kind = 'hex';
    }
    if (pos + length > end) return null;
    fields.push({
      elementId: plan.elementId,
      enterprise: plan.enterprise,
      name: plan.name,
      scope: plan.scope,
      value: optionValue(kind, bytes, pos, length),
    });
    pos += length;
  }
  return { record: { templateId: template.record.templateId, fields }, next: pos };
}

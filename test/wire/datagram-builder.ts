// Test helper: builds NetFlow v9 and IPFIX datagrams byte by byte, straight from the RFC
// layouts (RFC 7011 §3, RFC 3954 §5-6), for cases the corpus exporters never produce.
// It shares no code with the decoders.

import ipaddr from 'ipaddr.js';

export const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
export const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
export const u64 = (v: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
};
export const ip = (text: string): Buffer => Buffer.from(ipaddr.parse(text).toByteArray());

/** NTP timestamp (seconds since 1900 + 2^-32 fraction) of an epoch-ms time. */
export function ntp(epochMs: number): Buffer {
  const seconds = Math.floor(epochMs / 1000) + 2208988800;
  const fraction = Math.round(((epochMs % 1000) / 1000) * 2 ** 32);
  return Buffer.concat([u32(seconds % 2 ** 32), u32(Math.min(fraction, 2 ** 32 - 1))]);
}

/** A variable-length field value with its RFC 7011 §7 length prefix. */
export function varlen(value: Buffer, long = false): Buffer {
  if (!long && value.length < 255) return Buffer.concat([u8(value.length), value]);
  return Buffer.concat([u8(255), u16(value.length), value]);
}

export interface FieldSpec {
  readonly id: number;
  readonly length: number;
  /** Private Enterprise Number; sets the enterprise bit. */
  readonly pen?: number;
}

function fieldSpecifier(f: FieldSpec): Buffer {
  if (f.pen === undefined) return Buffer.concat([u16(f.id), u16(f.length)]);
  return Buffer.concat([u16(f.id | 0x8000), u16(f.length), u32(f.pen)]);
}

function set(id: number, body: Buffer): Buffer {
  return Buffer.concat([u16(id), u16(body.length + 4), body]);
}

export function ipfixTemplateSet(templates: readonly { id: number; fields: readonly FieldSpec[] }[]): Buffer {
  return set(
    2,
    Buffer.concat(
      templates.map((t) => Buffer.concat([u16(t.id), u16(t.fields.length), ...t.fields.map(fieldSpecifier)])),
    ),
  );
}

export function ipfixOptionsTemplateSet(
  templates: readonly { id: number; scopeCount: number; fields: readonly FieldSpec[] }[],
): Buffer {
  return set(
    3,
    Buffer.concat(
      templates.map((t) =>
        Buffer.concat([u16(t.id), u16(t.fields.length), u16(t.scopeCount), ...t.fields.map(fieldSpecifier)]),
      ),
    ),
  );
}

/** RFC 7011 §8.1 withdrawal records (field count 0) in a template (or options template) set. */
export function ipfixWithdrawalSet(templateIds: readonly number[], options = false): Buffer {
  return set(options ? 3 : 2, Buffer.concat(templateIds.map((id) => Buffer.concat([u16(id), u16(0)]))));
}

export function dataSet(templateId: number, records: readonly Buffer[], padding = 0): Buffer {
  return set(templateId, Buffer.concat([...records, Buffer.alloc(padding)]));
}

export interface IpfixHeaderSpec {
  readonly domain?: number;
  readonly exportTime?: number;
  readonly sequence?: number;
}

export function ipfixMessage(header: IpfixHeaderSpec, sets: readonly Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  return Buffer.concat([
    u16(10),
    u16(16 + body.length),
    u32(header.exportTime ?? 1710234336),
    u32(header.sequence ?? 0),
    u32(header.domain ?? 0),
    body,
  ]);
}

export function v9TemplateFlowSet(
  templates: readonly { id: number; fields: readonly FieldSpec[] }[],
): Buffer {
  return set(
    0,
    Buffer.concat(
      templates.map((t) => Buffer.concat([u16(t.id), u16(t.fields.length), ...t.fields.map(fieldSpecifier)])),
    ),
  );
}

/** RFC 3954 §6.1: scope and option lengths in bytes, padded to 4 bytes. */
export function v9OptionsTemplateFlowSet(
  id: number,
  scope: readonly FieldSpec[],
  options: readonly FieldSpec[],
): Buffer {
  const body = Buffer.concat([
    u16(id),
    u16(scope.length * 4),
    u16(options.length * 4),
    ...scope.map(fieldSpecifier),
    ...options.map(fieldSpecifier),
  ]);
  const padding = (4 - ((body.length + 4) % 4)) % 4;
  return set(1, Buffer.concat([body, Buffer.alloc(padding)]));
}

export interface V9HeaderSpec {
  readonly sourceId?: number;
  readonly uptimeMs?: number;
  readonly unixSecs?: number;
  readonly sequence?: number;
  readonly count: number;
}

export function v9Packet(header: V9HeaderSpec, flowsets: readonly Buffer[]): Buffer {
  return Buffer.concat([
    u16(9),
    u16(header.count),
    u32(header.uptimeMs ?? 100_000),
    u32(header.unixSecs ?? 1710234336),
    u32(header.sequence ?? 0),
    u32(header.sourceId ?? 0),
    ...flowsets,
  ]);
}

export interface V5RecordSpec {
  readonly src: string;
  readonly dst: string;
  readonly packets: number;
  readonly octets: number;
  readonly first: number;
  readonly last: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly proto: number;
  readonly tcpFlags?: number;
  readonly tos?: number;
}

export function v5Datagram(
  header: {
    uptimeMs: number;
    unixSecs: number;
    unixNsecs: number;
    sequence?: number;
    engineType?: number;
    engineId?: number;
    sampling?: number;
  },
  records: readonly V5RecordSpec[],
): Buffer {
  return Buffer.concat([
    u16(5),
    u16(records.length),
    u32(header.uptimeMs),
    u32(header.unixSecs),
    u32(header.unixNsecs),
    u32(header.sequence ?? 0),
    u8(header.engineType ?? 0),
    u8(header.engineId ?? 0),
    u16(header.sampling ?? 0),
    ...records.map((r) =>
      Buffer.concat([
        ip(r.src),
        ip(r.dst),
        ip('0.0.0.0'),
        u16(1),
        u16(2),
        u32(r.packets),
        u32(r.octets),
        u32(r.first),
        u32(r.last),
        u16(r.srcPort ?? 0),
        u16(r.dstPort ?? 0),
        u8(0),
        u8(r.tcpFlags ?? 0),
        u8(r.proto),
        u8(r.tos ?? 0),
        u16(0),
        u16(0),
        u8(0),
        u8(0),
        u16(0),
      ]),
    ),
  ]);
}

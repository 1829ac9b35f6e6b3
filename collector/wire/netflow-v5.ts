// NetFlow v5 decoder (Cisco's fixed format: 24-byte header, 48-byte records). Pure and
// total: never throws, never reads past the datagram.

import { headerFits } from './header-check.js';
import { u16, u32 } from './byte-read.js';
import { DataRecord } from './data-record.js';
import { emptyMessage } from './decoded-message.js';
import type { DecodedMessage, RecordSink } from './decoded-message.js';
import { ipv4Text } from '../../model/address-text.js';

const HEADER_LENGTH = 24;
const RECORD_LENGTH = 48;
/** Cisco's v5 format holds at most 30 records per datagram. */
const MAX_RECORDS = 30;

/**
 * Decodes one NetFlow v5 datagram. v5 has no length field, so the header count is the
 * only framing: a count above 30 or one the datagram cannot hold rejects the datagram
 * (any record boundary would be a guess); bytes beyond the counted records are reported
 * as trailing and not decoded.
 */
// v5 records all fill the same slots, so one record serves every streamed record.
const scratch = new DataRecord();

export function decodeNetflowV5(bytes: Uint8Array, exporter: string, sink?: RecordSink): DecodedMessage {
  const out = emptyMessage();
  const length = bytes.length;
  if (!headerFits(out, bytes, exporter, HEADER_LENGTH, 5)) return out;
  const count = u16(bytes, 2);
  const engineType = bytes[20]!;
  const engineId = bytes[21]!;
  const sampling = u16(bytes, 22);
  const domainId = (engineType << 8) | engineId;
  out.header = {
    version: 5,
    count,
    sysUptimeMs: u32(bytes, 4),
    unixSecs: u32(bytes, 8),
    unixNsecs: u32(bytes, 12),
    flowSequence: u32(bytes, 16),
    engineType,
    engineId,
    samplingMode: sampling >>> 14,
    samplingInterval: sampling & 0x3fff,
  };
  out.domainId = domainId;
  const present = Math.floor((length - HEADER_LENGTH) / RECORD_LENGTH);
  if (count > MAX_RECORDS) {
    out.issues.push({
      exporter,
      domainId,
      setId: null,
      kind: 'count-mismatch',
      declared: count,
      found: present,
    });
    return out;
  }
  const needed = HEADER_LENGTH + count * RECORD_LENGTH;
  if (length < needed) {
    out.issues.push({ exporter, domainId, setId: null, kind: 'truncated', needed, available: length });
    return out;
  }
  if (length > needed) {
    out.issues.push({ exporter, domainId, setId: null, kind: 'trailing-bytes', bytes: length - needed });
  }
  sink?.begin(out.header, domainId);
  for (let i = 0; i < count; i++) {
    const o = HEADER_LENGTH + i * RECORD_LENGTH;
    const r = sink ? scratch : new DataRecord();
    r.src = ipv4Text(bytes, o);
    r.dst = ipv4Text(bytes, o + 4);
    r.src4 = u32(bytes, o);
    r.dst4 = u32(bytes, o + 4);
    r.addressFamily = 4;
    r.inIf = u16(bytes, o + 12);
    r.outIf = u16(bytes, o + 14);
    r.packets = u32(bytes, o + 16);
    r.octets = u32(bytes, o + 20);
    r.firstSwitched = u32(bytes, o + 24);
    r.lastSwitched = u32(bytes, o + 28);
    r.srcPort = u16(bytes, o + 32);
    r.dstPort = u16(bytes, o + 34);
    r.tcpFlags = bytes[o + 37]!;
    r.proto = bytes[o + 38]!;
    r.tos = bytes[o + 39]!;
    if (sink) sink.record(r);
    else out.records.push(r);
  }
  out.dataRecordCount = count;
  return out;
}

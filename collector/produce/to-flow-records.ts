// Wire data records → FlowRecord (store/model.ts): absolute times, ICMP type/code,
// sampling-scaled counters, and RFC 5103 biflows split into their two directions.

import type { ExportVersion, FlowRecord } from '../../store/model.js';
import type { DataRecord } from '../wire/data-record.js';
import type { DecodedMessage } from '../wire/decoded-message.js';
import type { TemplateCache } from '../wire/template-cache.js';
import { flowTimes, timeBase } from './flow-time.js';
import { domainSamplingRate, recordSamplingRate } from './sampling-rate.js';

export interface ConversionCounts {
  /** FlowRecords produced (a biflow gives up to two). */
  readonly flows: number;
  /** Data records dropped because they name no source or destination address. */
  readonly recordsWithoutAddress: number;
  /** Flows that carried no usable time and were given the export time. */
  readonly flowsWithoutTime: number;
}

const ICMP = 1;
const ICMPV6 = 58;

/**
 * ICMP type and code: IE 176-179 when present, else IE 32 / 139 ((type << 8) | code),
 * else, for ICMP flows of exporters that put them in the destination port (v5, and v9 /
 * IPFIX exporters such as pmacct), `type = port >> 8, code = port & 0xff`, as nfdump and
 * tshark read them. Null for non-ICMP protocols.
 */
function icmpOf(
  proto: number,
  type: number | null,
  code: number | null,
  typeCode: number | null,
  dstPort: number | null,
): number {
  if (proto !== ICMP && proto !== ICMPV6) return -1;
  if (type !== null || code !== null) return ((type ?? 0) << 8) | (code ?? 0);
  if (typeCode !== null) return typeCode & 0xffff;
  if (dstPort !== null) return dstPort & 0xffff;
  return -1;
}

/**
 * Appends the FlowRecords of one decoded datagram to `out`. `receivedMs` is the
 * caller's clock (retention counts from it).
 */
export function toFlowRecords(
  decoded: DecodedMessage,
  exporter: string,
  receivedMs: number,
  cache: TemplateCache,
  out: FlowRecord[],
): ConversionCounts {
  const header = decoded.header;
  const records = decoded.records;
  if (header === null || records.length === 0)
    return { flows: 0, recordsWithoutAddress: 0, flowsWithoutTime: 0 };
  const version: ExportVersion = header.version;
  const domainId = decoded.domainId ?? 0;
  const options = version === 5 ? undefined : cache.domainOptions(exporter, version, domainId);
  const base = timeBase(header, options?.systemInitMs ?? null);
  const domainRate = domainSamplingRate(header, options);
  const times = new Float64Array(2);
  const before = out.length;
  let withoutAddress = 0;
  let withoutTime = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const src = r.src;
    const dst = r.dst;
    if (src === null || dst === null) {
      withoutAddress++;
      continue;
    }
    if (!flowTimes(r, base, times)) withoutTime++;
    const startMs = times[0]!;
    const endMs = times[1]!;
    const rate = recordSamplingRate(r, options, domainRate);
    const ipVersion = r.addressFamily === 6 ? 6 : 4;
    const proto = r.proto ?? 0;
    const rawPackets = r.packets ?? r.packetsTotal ?? 0;
    const rawOctets = r.octets ?? r.octetsTotal ?? 0;
    const biflow = r.revPackets !== null || r.revOctets !== null;
    // RFC 5103: a biflow record carries both directions; a direction without packets
    // (softflowd's one-sided ICMP biflows) is not a flow.
    if (!biflow || rawPackets > 0 || (r.packets === null && rawOctets > 0)) {
      const icmp = icmpOf(proto, r.icmpType, r.icmpCode, r.icmpTypeCode, r.dstPort);
      out.push(
        flowRecord(
          r,
          exporter,
          domainId,
          version,
          receivedMs,
          startMs,
          endMs,
          ipVersion,
          src,
          dst,
          proto,
          r.srcPort,
          r.dstPort,
          rawPackets,
          rawOctets,
          rate,
          r.tcpFlags,
          r.tos,
          icmp,
          r.inIf,
          r.outIf,
          true,
        ),
      );
    }
    if (biflow) {
      const revPackets = r.revPackets ?? 0;
      const revOctets = r.revOctets ?? 0;
      if (revPackets > 0 || (r.revPackets === null && revOctets > 0)) {
        const icmp = icmpOf(proto, null, null, r.revIcmpTypeCode, null);
        out.push(
          flowRecord(
            r,
            exporter,
            domainId,
            version,
            receivedMs,
            startMs,
            endMs,
            ipVersion,
            dst,
            src,
            proto,
            r.dstPort,
            r.srcPort,
            revPackets,
            revOctets,
            rate,
            r.revTcpFlags,
            r.revTos,
            icmp,
            r.outIf,
            r.inIf,
            false,
          ),
        );
      }
    }
  }
  return { flows: out.length - before, recordsWithoutAddress: withoutAddress, flowsWithoutTime: withoutTime };
}

// One object literal with a fixed key order, so every FlowRecord shares a hidden class.
function flowRecord(
  r: DataRecord,
  exporter: string,
  domainId: number,
  version: ExportVersion,
  receivedMs: number,
  startMs: number,
  endMs: number,
  ipVersion: 4 | 6,
  src: string,
  dst: string,
  proto: number,
  srcPort: number | null,
  dstPort: number | null,
  rawPackets: number,
  rawOctets: number,
  rate: number,
  tcpFlags: number | null,
  tos: number | null,
  icmp: number,
  inIf: number | null,
  outIf: number | null,
  forward: boolean,
): FlowRecord {
  return {
    exporter,
    domainId,
    version,
    receivedMs,
    startMs,
    endMs,
    ipVersion,
    src,
    dst,
    proto,
    srcPort,
    dstPort,
    // The SPI, ESP sequence numbers, fragment fields and loss describe the forward
    // direction's packets only; the reverse direction of a biflow gets none of them.
    spi: forward ? r.spi : null,
    packets: rate === 1 ? rawPackets : Math.round(rawPackets * rate),
    octets: rate === 1 ? rawOctets : Math.round(rawOctets * rate),
    rawPackets,
    rawOctets,
    samplingRate: rate,
    tcpFlags,
    tos,
    icmpType: icmp < 0 ? null : icmp >> 8,
    icmpCode: icmp < 0 ? null : icmp & 0xff,
    fragmentId: forward ? r.fragmentId : null,
    fragmentOffset: forward ? r.fragmentOffset : null,
    fragmentFlags: forward ? r.fragmentFlags : null,
    inIf,
    outIf,
    flowDirection: r.flowDirection,
    // A probe's explicit ESP loss first, then RFC 5102 droppedPacketDeltaCount, then the
    // running droppedPacketTotalCount.
    reportedLoss: forward ? (r.espLostPackets ?? r.droppedPackets ?? r.droppedPacketsTotal) : null,
    espSeqFirst: forward ? r.espSeqFirst : null,
    espSeqLast: forward ? r.espSeqLast : null,
    templateId: r.templateId,
  };
}

// Wire data records → FlowRecord (model/flow.ts): absolute times, ICMP type/code,
// sampling-scaled counters, and RFC 5103 biflows split into their two directions.

import type { ExportVersion, FlowRecord, ProducedFlow } from '../../model/flow.js';
import type { DataRecord } from '../wire/data-record.js';
import type { DecodedMessage, MessageHeader, RecordSink } from '../wire/decoded-message.js';
import type { DomainOptions, TemplateCache } from '../wire/template-cache.js';
import { flowTimes, timeBase } from './flow-time.js';
import type { TimeBase } from './flow-time.js';
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
 * ICMP (type << 8) | code, or -1: IE 176-179 when present, else IE 32 / 139, else, for
 * ICMP flows of exporters that put it in the destination port (v5, and v9 / IPFIX
 * exporters such as pmacct), the port, as nfdump and tshark read it. None for non-ICMP
 * protocols.
 */
function icmpOf(
  proto: number,
  type: number | null,
  code: number | null,
  typeCode: number | null,
  dstPort: number | null,
): number {
  if (proto !== ICMP && proto !== ICMPV6) return -1;
  if (type !== null || code !== null) return (((type ?? 0) & 0xff) << 8) | ((code ?? 0) & 0xff);
  if (typeCode !== null) return typeCode & 0xffff;
  if (dstPort !== null) return dstPort & 0xffff;
  return -1;
}

// Start / end of the record being converted; conversion is synchronous, one pair serves all.
const times = new Float64Array(2);

/**
 * Turns the data records of one datagram into FlowRecords as the decoder hands them over
 * (a RecordSink), or from a decoded message (`toFlowRecords`). One builder per datagram.
 */
export class FlowRecordBuilder implements RecordSink {
  flows = 0;
  recordsWithoutAddress = 0;
  flowsWithoutTime = 0;
  private version: ExportVersion = 10;
  private domainId = 0;
  private header: MessageHeader | null = null;
  private options: DomainOptions | undefined = undefined;
  private epoch = -1;
  private base: TimeBase = { exportMs: 0, uptimeMs: null, systemInitMs: null };
  private domainRate = 1;

  constructor(
    private readonly exporter: string,
    private readonly receivedMs: number,
    private readonly cache: TemplateCache,
    private readonly out: FlowRecord[],
  ) {}

  begin(header: MessageHeader, domainId: number): void {
    this.header = header;
    this.version = header.version;
    this.domainId = domainId;
    this.refreshOptions();
  }

  /** Options records may arrive in the same datagram, before its data: re-read when they change. */
  private refreshOptions(): void {
    const header = this.header;
    if (header === null) return;
    this.epoch = this.cache.optionsEpoch;
    this.options =
      header.version === 5
        ? undefined
        : this.cache.domainOptions(this.exporter, header.version, this.domainId);
    this.base = timeBase(header, this.options?.systemInitMs ?? null);
    this.domainRate = domainSamplingRate(header, this.options);
  }

  record(r: DataRecord): void {
    if (this.epoch !== this.cache.optionsEpoch) this.refreshOptions();
    const src = r.src;
    const dst = r.dst;
    if (src === null || dst === null) {
      this.recordsWithoutAddress++;
      return;
    }
    if (!flowTimes(r, this.base, times)) this.flowsWithoutTime++;
    const startMs = times[0]!;
    const endMs = times[1]!;
    const rate = recordSamplingRate(r, this.options, this.domainRate);
    const ipVersion = r.addressFamily === 6 ? 6 : 4;
    const proto = r.proto ?? 0;
    const rawPackets = r.packets ?? r.packetsTotal ?? 0;
    const rawOctets = r.octets ?? r.octetsTotal ?? 0;
    const biflow = r.revPackets !== null || r.revOctets !== null;
    const out = this.out;
    // RFC 5103: a biflow record carries both directions; a direction without packets
    // (softflowd's one-sided ICMP biflows) is not a flow.
    if (!biflow || rawPackets > 0 || (r.packets === null && rawOctets > 0)) {
      const icmp = icmpOf(proto, r.icmpType, r.icmpCode, r.icmpTypeCode, r.dstPort);
      out.push(
        this.flowRecord(
          r,
          startMs,
          endMs,
          ipVersion,
          src,
          dst,
          r.src4,
          r.dst4,
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
      this.flows++;
    }
    if (biflow) {
      const revPackets = r.revPackets ?? 0;
      const revOctets = r.revOctets ?? 0;
      if (revPackets > 0 || (r.revPackets === null && revOctets > 0)) {
        const icmp = icmpOf(proto, null, null, r.revIcmpTypeCode, null);
        out.push(
          this.flowRecord(
            r,
            startMs,
            endMs,
            ipVersion,
            dst,
            src,
            r.dst4,
            r.src4,
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
        this.flows++;
      }
    }
  }

  // One object literal with a fixed key order, so every FlowRecord shares a hidden class.
  private flowRecord(
    r: DataRecord,
    startMs: number,
    endMs: number,
    ipVersion: 4 | 6,
    src: string,
    dst: string,
    srcIpv4: number,
    dstIpv4: number,
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
  ): ProducedFlow {
    return {
      exporter: this.exporter,
      domainId: this.domainId,
      version: this.version,
      receivedMs: this.receivedMs,
      startMs,
      endMs,
      ipVersion,
      src,
      dst,
      srcIpv4,
      dstIpv4,
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
      // For the normalizer to fill in place (model/flow.ts ProducedFlow).
      kind: null,
      tunnelId: null,
      saId: null,
      tunnelDirection: null,
      validatedLoss: null,
      lossClearedReason: null,
    };
  }

  counts(): ConversionCounts {
    return {
      flows: this.flows,
      recordsWithoutAddress: this.recordsWithoutAddress,
      flowsWithoutTime: this.flowsWithoutTime,
    };
  }
}

/**
 * Appends the FlowRecords of a decoded message (decoded without a sink) to `out`.
 * `receivedMs` is the caller's clock (retention counts from it).
 */
export function toFlowRecords(
  decoded: DecodedMessage,
  exporter: string,
  receivedMs: number,
  cache: TemplateCache,
  out: FlowRecord[],
): ConversionCounts {
  const builder = new FlowRecordBuilder(exporter, receivedMs, cache, out);
  if (decoded.header === null) return builder.counts();
  builder.begin(decoded.header, decoded.domainId ?? 0);
  for (const record of decoded.records) builder.record(record);
  return builder.counts();
}

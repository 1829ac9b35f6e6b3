import type {
  ExportVersion,
  FlowKind,
  LossClearedReason,
  NormalizedFlow,
  TunnelDirection,
} from '../../model/flow.js';
import { canonicalAddress } from '../../model/address-parse.js';
import type { FlowRow } from './flow.table.js';

/** A flow as read back from the store: the normalized flow plus its row id. */
export interface StoredFlow extends NormalizedFlow {
  readonly id: number;
}

/** Row → domain object; the derived key columns stay behind. */
export function toStoredFlow(row: FlowRow): StoredFlow {
  return {
    id: row.id,
    exporter: row.exporter,
    domainId: row.domain_id,
    version: row.version as ExportVersion,
    templateId: row.template_id,
    receivedMs: row.received_ms,
    startMs: row.start_ms,
    endMs: row.end_ms,
    ipVersion: row.ip_version === 6 ? 6 : 4,
    src: addressText(row.src),
    dst: addressText(row.dst),
    proto: row.proto,
    srcPort: row.src_port,
    dstPort: row.dst_port,
    spi: row.spi,
    packets: row.packets,
    octets: row.octets,
    rawPackets: row.raw_packets,
    rawOctets: row.raw_octets,
    samplingRate: row.sampling_rate,
    tcpFlags: row.tcp_flags,
    tos: row.tos,
    icmpType: row.icmp_type,
    icmpCode: row.icmp_code,
    fragmentId: row.fragment_id,
    fragmentOffset: row.fragment_offset,
    fragmentFlags: row.fragment_flags,
    inIf: row.in_if,
    outIf: row.out_if,
    flowDirection: row.flow_direction,
    reportedLoss: row.reported_loss,
    espSeqFirst: row.esp_seq_first,
    espSeqLast: row.esp_seq_last,
    kind: row.kind as FlowKind,
    tunnelId: row.tunnel_id,
    saId: row.sa_id,
    tunnelDirection: row.tunnel_direction as TunnelDirection | null,
    validatedLoss: row.validated_loss,
    lossClearedReason: row.loss_cleared_reason as LossClearedReason | null,
  };
}

/**
 * PostgreSQL's inet prints IPv4-mapped and IPv4-compatible IPv6 addresses with a dotted tail
 * (::ffff:10.0.0.1); the store's one text of an address has none (model/address-text.ts).
 * Only such a text has both a dot and a colon, so every other address costs two scans.
 */
function addressText(text: string): string {
  return text.includes('.') && text.includes(':') ? (canonicalAddress(text) ?? text) : text;
}

// The flow records every stage passes on (DESIGN.md "Canonical flow"). model/ is the
// domain layer: flows, tunnels, SAs, tunnel buckets and address text. It imports nothing
// of ours; collector, store, analysis, api and reports import it.

/** NetFlow/IPFIX version a record arrived in (10 = IPFIX). */
export type ExportVersion = 5 | 9 | 10;

/**
 * One canonical flow record, as `collector/produce` builds it from a decoded data
 * record: absolute times, textual addresses, counters scaled by the sampling rate
 * (raw values kept). Absent values are null, never undefined.
 */
export interface FlowRecord {
  /** Exporter address as text (the datagram's source, or `ingest --exporter`). */
  readonly exporter: string;
  /** NetFlow v9 source id / IPFIX observation domain id; for v5 (engine type << 8) | engine id. */
  readonly domainId: number;
  readonly version: ExportVersion;
  /** Wall-clock ms at which tunnelflow received the datagram (retention counts from it). */
  readonly receivedMs: number;
  /** Flow start / end, epoch ms (UTC). */
  readonly startMs: number;
  readonly endMs: number;
  readonly ipVersion: 4 | 6;
  /** Canonical text form (IPv4 dotted quad, IPv6 RFC 5952 compressed, lowercase). */
  readonly src: string;
  readonly dst: string;
  /**
   * `src` / `dst` as an unsigned 32-bit number when the producer read an IPv4 address off
   * the wire (-1 or absent otherwise), so that later stages need not parse the text back.
   * When set (≥ 0) it is the same address as the text: the producer reads both from the
   * same bytes, and the normalizer's tunnel lookups rely on it (the store's encoder, where a
   * check costs less than the parse it spares, still compares).
   */
  readonly srcIpv4?: number;
  readonly dstIpv4?: number;
  readonly proto: number;
  readonly srcPort: number | null;
  readonly dstPort: number | null;
  /** IPsec SPI (IPFIX IE 295), when exported. */
  readonly spi: number | null;
  /** Packets and octets scaled by `samplingRate`. */
  readonly packets: number;
  readonly octets: number;
  /** Packets and octets as exported. */
  readonly rawPackets: number;
  readonly rawOctets: number;
  /** 1 when the exporter announced no sampling. */
  readonly samplingRate: number;
  readonly tcpFlags: number | null;
  readonly tos: number | null;
  readonly icmpType: number | null;
  readonly icmpCode: number | null;
  /** IE 54 fragmentIdentification. */
  readonly fragmentId: number | null;
  /** IE 88 fragmentOffset (in 8-byte units as on the wire). */
  readonly fragmentOffset: number | null;
  /** IE 197 fragmentFlags as exported (RFC 5102 §5.4.x layout; collector/wire/elements.ts names the bits). */
  readonly fragmentFlags: number | null;
  readonly inIf: number | null;
  readonly outIf: number | null;
  /** IE 61 flowDirection (0 ingress, 1 egress), when exported. */
  readonly flowDirection: number | null;
  /** Loss the exporter reported for this flow (IE 133 droppedPacketDeltaCount, IE 135 total, or a probe's field). */
  readonly reportedLoss: number | null;
  /** First / last ESP sequence number seen by a probe that exports them (see elements.ts). */
  readonly espSeqFirst: number | null;
  readonly espSeqLast: number | null;
  /** IPFIX template id / v9 template id the record came from (null for v5). */
  readonly templateId: number | null;
}

/** What a flow is, for an IPsec engineer (DESIGN.md "Canonical flow"). */
export type FlowKind =
  'esp' | 'esp-in-udp' | 'ike' | 'esp-fragment' | 'icmp-frag-needed' | 'cleartext-leak' | 'other';

/** Why a loss value was cleared (stored as null) instead of being believed. */
export type LossClearedReason =
  'negative' | 'exceeds-sequence-space' | 'exceeds-ceiling' | 'sa-change' | 'fragments' | 'non-esp';

export type LossSource = 'reported' | 'sequence' | 'two-point';

/** A tunnel direction: `a-b` is traffic sent by peer A (the lower address) to peer B. */
export type TunnelDirection = 'a-b' | 'b-a';

/**
 * A flow after `collector/normalize`: what it is and which tunnel / SA it belongs to.
 * Tunnel and SA ids are deterministic strings built by the normalizer (stable across
 * restarts and across collectors writing one database).
 */
export interface NormalizedFlow extends FlowRecord {
  readonly kind: FlowKind;
  readonly tunnelId: string | null;
  readonly saId: string | null;
  /** Which direction of its tunnel the flow travels, when it belongs to one. */
  readonly tunnelDirection: TunnelDirection | null;
  /** `reportedLoss` after validation: null when it was absent or cleared. */
  readonly validatedLoss: number | null;
  readonly lossClearedReason: LossClearedReason | null;
}

/**
 * A FlowRecord as `collector/produce` makes it: with the NormalizedFlow fields still empty
 * (`kind` null), for the normalizer to fill in the record itself. So each record is one
 * object from decoder to store, not a FlowRecord and then a NormalizedFlow copying its 32
 * fields (a record the normalizer has filled once is copied if it comes again).
 */
export interface ProducedFlow extends FlowRecord {
  kind: FlowKind | null;
  tunnelId: string | null;
  saId: string | null;
  tunnelDirection: TunnelDirection | null;
  validatedLoss: number | null;
  lossClearedReason: LossClearedReason | null;
}

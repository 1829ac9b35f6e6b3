// A decoded flow data record, in wire terms (RFC element semantics, no domain logic).
// One class with every slot initialised in the constructor, so all records share one
// shape and the decode plan's stores stay monomorphic on the hot path.

/**
 * A flow data record as the wire gives it. Absent elements are null. Counters are plain
 * numbers: a 64-bit counter above 2^53 loses precision (no real flow gets there).
 * Absolute times of any IPFIX precision (seconds, ms, NTP µs/ns) are already epoch ms.
 */
export class DataRecord {
  /** Template the record came from; null for NetFlow v5. */
  templateId: number | null = null;
  /** Canonical address text; `addressFamily` says which element family filled them. */
  src: string | null = null;
  dst: string | null = null;
  addressFamily: 0 | 4 | 6 = 0;
  /** The IPv4 addresses as unsigned 32-bit numbers, -1 when `src` / `dst` are no IPv4 field's. */
  src4 = -1;
  dst4 = -1;
  proto: number | null = null;
  srcPort: number | null = null;
  dstPort: number | null = null;
  tos: number | null = null;
  tcpFlags: number | null = null;
  inIf: number | null = null;
  outIf: number | null = null;
  octets: number | null = null;
  packets: number | null = null;
  octetsTotal: number | null = null;
  packetsTotal: number | null = null;
  /** IE 32 / 139: (type << 8) | code. */
  icmpTypeCode: number | null = null;
  /** IE 176-179. */
  icmpType: number | null = null;
  icmpCode: number | null = null;
  ipVersion: number | null = null;
  flowDirection: number | null = null;
  flowEndReason: number | null = null;
  spi: number | null = null;
  fragmentId: number | null = null;
  fragmentOffset: number | null = null;
  fragmentFlags: number | null = null;
  droppedPackets: number | null = null;
  droppedPacketsTotal: number | null = null;
  espSeqFirst: number | null = null;
  espSeqLast: number | null = null;
  espLostPackets: number | null = null;
  /** tunnelflow PEN 32473 ids 4-7 (elements.ts): what a probe's sequence window saw. */
  espDuplicatePackets: number | null = null;
  espOutOfOrderPackets: number | null = null;
  ipFragmentPackets: number | null = null;
  nattKeepalivePackets: number | null = null;
  /** sysUpTime ms of the first / last packet (IE 22 / 21, v5 First / Last). */
  firstSwitched: number | null = null;
  lastSwitched: number | null = null;
  /** Absolute start / end, epoch ms, from IE 150-157. */
  startAbsMs: number | null = null;
  endAbsMs: number | null = null;
  /** IE 158 / 159: µs before the IPFIX export time. */
  startDeltaUs: number | null = null;
  endDeltaUs: number | null = null;
  /** IE 160 carried in the record itself. */
  systemInitMs: number | null = null;
  samplingInterval: number | null = null;
  samplerRandomInterval: number | null = null;
  samplerId: number | null = null;
  selectorId: number | null = null;
  /** RFC 5103 reverse direction (PEN 29305) counters and flags. */
  revOctets: number | null = null;
  revPackets: number | null = null;
  revTos: number | null = null;
  revTcpFlags: number | null = null;
  revIcmpTypeCode: number | null = null;
}

/** One element of an options data record. */
export interface OptionsField {
  readonly elementId: number;
  readonly enterprise: number;
  /** IANA / RFC 3954 scope name, or `ie<id>` / `pen<pen>.ie<id>` when unknown. */
  readonly name: string;
  readonly scope: boolean;
  /** Integers and times as numbers, addresses and strings as text, octet arrays as hex. */
  readonly value: number | string;
}

/** An options data record (RFC 7011 §3.4.2.2, RFC 3954 §6.2), kept whole: they are rare. */
export interface OptionsRecord {
  readonly templateId: number;
  readonly fields: readonly OptionsField[];
}

// The one table that knows IANA IPFIX / NetFlow v9 information element ids.
//
// Sources: the IANA "IPFIX Information Elements" registry (RFC 7012 and its updates),
// RFC 3954 §8 (NetFlow v9 field types and scope types), RFC 5103 (biflows), RFC 5477
// (PSAMP selector / sampling elements). NetFlow v9 field types 0-127 are the IPFIX ids
// 0-127 (IANA registry note "Values 0-127: NFv9-compatible"), so one table serves both;
// the v9 name is kept where it differs, for people reading tshark or nfdump output.
//
// Every decoded element either lands in a `DataRecord` slot (`slot`) or is skipped by
// the decode plan; options records keep every element by name.

/** IPFIX abstract data types (RFC 7012 §3.1); they decide which encoded lengths are legal. */
export type AbstractDataType =
  | 'unsigned8'
  | 'unsigned16'
  | 'unsigned32'
  | 'unsigned64'
  | 'signed32'
  | 'float64'
  | 'boolean'
  | 'macAddress'
  | 'octetArray'
  | 'string'
  | 'dateTimeSeconds'
  | 'dateTimeMilliseconds'
  | 'dateTimeMicroseconds'
  | 'dateTimeNanoseconds'
  | 'ipv4Address'
  | 'ipv6Address'
  | 'basicList'
  | 'subTemplateList'
  | 'subTemplateMultiList';

/**
 * Where a decoded element goes in a flow `DataRecord`. The names are the record's
 * property names; `collector/wire/decode-plan.ts` turns them into plan operations.
 */
export type RecordSlot =
  | 'octets'
  | 'packets'
  | 'octetsTotal'
  | 'packetsTotal'
  | 'proto'
  | 'tos'
  | 'tcpFlags'
  | 'srcPort'
  | 'dstPort'
  | 'srcAddr4'
  | 'dstAddr4'
  | 'srcAddr6'
  | 'dstAddr6'
  | 'inIf'
  | 'outIf'
  | 'lastSwitched'
  | 'firstSwitched'
  | 'icmpTypeCode'
  | 'icmpType'
  | 'icmpCode'
  | 'samplingInterval'
  | 'samplerId'
  | 'samplerRandomInterval'
  | 'fragmentId'
  | 'fragmentOffset'
  | 'fragmentFlags'
  | 'ipVersion'
  | 'flowDirection'
  | 'droppedPackets'
  | 'droppedPacketsTotal'
  | 'flowEndReason'
  | 'startSeconds'
  | 'endSeconds'
  | 'startMilliseconds'
  | 'endMilliseconds'
  | 'startMicroseconds'
  | 'endMicroseconds'
  | 'startNanoseconds'
  | 'endNanoseconds'
  | 'startDeltaMicroseconds'
  | 'endDeltaMicroseconds'
  | 'systemInitTimeMs'
  | 'spi'
  | 'selectorId'
  | 'espSeqFirst'
  | 'espSeqLast'
  | 'espLostPackets'
  | 'espDuplicatePackets'
  | 'espOutOfOrderPackets'
  | 'ipFragmentPackets'
  | 'nattKeepalivePackets'
  | 'revOctets'
  | 'revPackets'
  | 'revTos'
  | 'revTcpFlags'
  | 'revIcmpTypeCode';

export interface InformationElement {
  readonly id: number;
  /** IANA name (RFC 7012 registry spelling). */
  readonly name: string;
  /** RFC 3954 name, when the element exists in NetFlow v9 under another name. */
  readonly v9Name?: string;
  readonly type: AbstractDataType;
  /** Flow record slot the element fills; absent: kept only in options records. */
  readonly slot?: RecordSlot;
  /** Slot of the RFC 5103 reverse element (PEN 29305, same id), when tunnelflow uses it. */
  readonly reverseSlot?: RecordSlot;
}

/** RFC 5103 §6.1: PEN 29305 marks "the reverse direction of IANA element <same id>". */
export const REVERSE_PEN = 29305;

/**
 * tunnelflow's own elements, for probes that export ESP sequence numbers and ESP loss
 * (no IANA element exists for them). They live under PEN 32473, the PEN that RFC 5612
 * reserves for documentation, so they can never collide with a real vendor's elements.
 * A probe exporting them sends field specifiers with the enterprise bit set and
 * PEN 32473 (`tunnelflow probe` does, and describes them with RFC 5610 type records):
 *   id 1  espSequenceFirst (unsigned32): first ESP sequence number seen in the flow
 *         (the low 32 bits with ESN, RFC 4304)
 *   id 2  espSequenceLast  (unsigned32): highest ESP sequence number seen in the flow
 *   id 3  espLostPackets   (unsigned64): ESP packets the probe counts as lost: numbers that
 *         left its anti-replay style window (RFC 4303 §3.4.3) unseen while the flow lasted
 *   id 4  espDuplicatePackets (unsigned64): packets whose sequence number was already seen
 *   id 5  espOutOfOrderPackets (unsigned64): late packets that filled a gap in the window
 *   id 6  ipFragmentPackets (unsigned64): IP fragments the flow's packets arrived in (all of
 *         them, first fragments included; a reassembled packet counts once in packetDeltaCount)
 *   id 7  nattKeepalivePackets (unsigned64): RFC 3948 §2.3 NAT-keepalives (one byte 0xFF)
 *   id 8  espSequenceGeneration (unsigned32): how often the SA's sequence numbers restarted
 *         before this flow (a rekey reusing the SPI, a peer reboot)
 *   id 9  captureDroppedPackets (unsigned64): packets the capture dropped before the probe
 *         saw them (the kernel's count), in options records scoped by observation domain
 *   id 10 espSequenceFirstExtended (unsigned64), id 11 espSequenceLastExtended (unsigned64):
 *         the 64-bit sequence numbers the probe inferred (RFC 4304 §2, RFC 4303 appendix A)
 * Ids 1-3 become FlowRecord.espSeqFirst, espSeqLast and reportedLoss.
 */
export const TUNNELFLOW_PEN = 32473;

const iana: readonly InformationElement[] = [
  {
    id: 1,
    name: 'octetDeltaCount',
    v9Name: 'IN_BYTES',
    type: 'unsigned64',
    slot: 'octets',
    reverseSlot: 'revOctets',
  },
  {
    id: 2,
    name: 'packetDeltaCount',
    v9Name: 'IN_PKTS',
    type: 'unsigned64',
    slot: 'packets',
    reverseSlot: 'revPackets',
  },
  { id: 3, name: 'deltaFlowCount', v9Name: 'FLOWS', type: 'unsigned64' },
  { id: 4, name: 'protocolIdentifier', v9Name: 'PROTOCOL', type: 'unsigned8', slot: 'proto' },
  {
    id: 5,
    name: 'ipClassOfService',
    v9Name: 'SRC_TOS',
    type: 'unsigned8',
    slot: 'tos',
    reverseSlot: 'revTos',
  },
  {
    id: 6,
    name: 'tcpControlBits',
    v9Name: 'TCP_FLAGS',
    type: 'unsigned16',
    slot: 'tcpFlags',
    reverseSlot: 'revTcpFlags',
  },
  { id: 7, name: 'sourceTransportPort', v9Name: 'L4_SRC_PORT', type: 'unsigned16', slot: 'srcPort' },
  { id: 8, name: 'sourceIPv4Address', v9Name: 'IPV4_SRC_ADDR', type: 'ipv4Address', slot: 'srcAddr4' },
  { id: 9, name: 'sourceIPv4PrefixLength', v9Name: 'SRC_MASK', type: 'unsigned8' },
  { id: 10, name: 'ingressInterface', v9Name: 'INPUT_SNMP', type: 'unsigned32', slot: 'inIf' },
  { id: 11, name: 'destinationTransportPort', v9Name: 'L4_DST_PORT', type: 'unsigned16', slot: 'dstPort' },
  { id: 12, name: 'destinationIPv4Address', v9Name: 'IPV4_DST_ADDR', type: 'ipv4Address', slot: 'dstAddr4' },
  { id: 13, name: 'destinationIPv4PrefixLength', v9Name: 'DST_MASK', type: 'unsigned8' },
  { id: 14, name: 'egressInterface', v9Name: 'OUTPUT_SNMP', type: 'unsigned32', slot: 'outIf' },
  { id: 15, name: 'ipNextHopIPv4Address', v9Name: 'IPV4_NEXT_HOP', type: 'ipv4Address' },
  { id: 16, name: 'bgpSourceAsNumber', v9Name: 'SRC_AS', type: 'unsigned32' },
  { id: 17, name: 'bgpDestinationAsNumber', v9Name: 'DST_AS', type: 'unsigned32' },
  { id: 18, name: 'bgpNextHopIPv4Address', v9Name: 'BGP_IPV4_NEXT_HOP', type: 'ipv4Address' },
  { id: 19, name: 'postMCastPacketDeltaCount', v9Name: 'MUL_DST_PKTS', type: 'unsigned64' },
  { id: 20, name: 'postMCastOctetDeltaCount', v9Name: 'MUL_DST_BYTES', type: 'unsigned64' },
  // RFC 3954 §8: LAST_SWITCHED / FIRST_SWITCHED are sysUpTime in ms of the last / first packet.
  { id: 21, name: 'flowEndSysUpTime', v9Name: 'LAST_SWITCHED', type: 'unsigned32', slot: 'lastSwitched' },
  { id: 22, name: 'flowStartSysUpTime', v9Name: 'FIRST_SWITCHED', type: 'unsigned32', slot: 'firstSwitched' },
  { id: 23, name: 'postOctetDeltaCount', v9Name: 'OUT_BYTES', type: 'unsigned64' },
  { id: 24, name: 'postPacketDeltaCount', v9Name: 'OUT_PKTS', type: 'unsigned64' },
  { id: 25, name: 'minimumIpTotalLength', v9Name: 'MIN_PKT_LNGTH', type: 'unsigned64' },
  { id: 26, name: 'maximumIpTotalLength', v9Name: 'MAX_PKT_LNGTH', type: 'unsigned64' },
  { id: 27, name: 'sourceIPv6Address', v9Name: 'IPV6_SRC_ADDR', type: 'ipv6Address', slot: 'srcAddr6' },
  { id: 28, name: 'destinationIPv6Address', v9Name: 'IPV6_DST_ADDR', type: 'ipv6Address', slot: 'dstAddr6' },
  { id: 29, name: 'sourceIPv6PrefixLength', v9Name: 'IPV6_SRC_MASK', type: 'unsigned8' },
  { id: 30, name: 'destinationIPv6PrefixLength', v9Name: 'IPV6_DST_MASK', type: 'unsigned8' },
  { id: 31, name: 'flowLabelIPv6', v9Name: 'IPV6_FLOW_LABEL', type: 'unsigned32' },
  // (type << 8) | code, RFC 7012 registry; v9 calls it ICMP_TYPE although it carries both.
  {
    id: 32,
    name: 'icmpTypeCodeIPv4',
    v9Name: 'ICMP_TYPE',
    type: 'unsigned16',
    slot: 'icmpTypeCode',
    reverseSlot: 'revIcmpTypeCode',
  },
  { id: 33, name: 'igmpType', v9Name: 'MUL_IGMP_TYPE', type: 'unsigned8' },
  // RFC 3954: SAMPLING_INTERVAL "1 out of N packets"; SAMPLING_ALGORITHM 1 deterministic, 2 random.
  {
    id: 34,
    name: 'samplingInterval',
    v9Name: 'SAMPLING_INTERVAL',
    type: 'unsigned32',
    slot: 'samplingInterval',
  },
  { id: 35, name: 'samplingAlgorithm', v9Name: 'SAMPLING_ALGORITHM', type: 'unsigned8' },
  { id: 36, name: 'flowActiveTimeout', v9Name: 'FLOW_ACTIVE_TIMEOUT', type: 'unsigned16' },
  { id: 37, name: 'flowIdleTimeout', v9Name: 'FLOW_INACTIVE_TIMEOUT', type: 'unsigned16' },
  { id: 38, name: 'engineType', v9Name: 'ENGINE_TYPE', type: 'unsigned8' },
  { id: 39, name: 'engineId', v9Name: 'ENGINE_ID', type: 'unsigned8' },
  { id: 40, name: 'exportedOctetTotalCount', v9Name: 'TOTAL_BYTES_EXP', type: 'unsigned64' },
  { id: 41, name: 'exportedMessageTotalCount', v9Name: 'TOTAL_PKTS_EXP', type: 'unsigned64' },
  { id: 42, name: 'exportedFlowRecordTotalCount', v9Name: 'TOTAL_FLOWS_EXP', type: 'unsigned64' },
  { id: 44, name: 'sourceIPv4Prefix', v9Name: 'IPV4_SRC_PREFIX', type: 'ipv4Address' },
  { id: 45, name: 'destinationIPv4Prefix', v9Name: 'IPV4_DST_PREFIX', type: 'ipv4Address' },
  { id: 46, name: 'mplsTopLabelType', v9Name: 'MPLS_TOP_LABEL_TYPE', type: 'unsigned8' },
  { id: 47, name: 'mplsTopLabelIPv4Address', v9Name: 'MPLS_TOP_LABEL_IP_ADDR', type: 'ipv4Address' },
  // RFC 3954: FLOW_SAMPLER_ID (1 byte) names the sampler whose options record gives the rate.
  { id: 48, name: 'samplerId', v9Name: 'FLOW_SAMPLER_ID', type: 'unsigned8', slot: 'samplerId' },
  { id: 49, name: 'samplerMode', v9Name: 'FLOW_SAMPLER_MODE', type: 'unsigned8' },
  {
    id: 50,
    name: 'samplerRandomInterval',
    v9Name: 'FLOW_SAMPLER_RANDOM_INTERVAL',
    type: 'unsigned32',
    slot: 'samplerRandomInterval',
  },
  { id: 52, name: 'minimumTTL', v9Name: 'MIN_TTL', type: 'unsigned8' },
  { id: 53, name: 'maximumTTL', v9Name: 'MAX_TTL', type: 'unsigned8' },
  { id: 54, name: 'fragmentIdentification', v9Name: 'IPV4_IDENT', type: 'unsigned32', slot: 'fragmentId' },
  { id: 55, name: 'postIpClassOfService', v9Name: 'DST_TOS', type: 'unsigned8' },
  { id: 56, name: 'sourceMacAddress', v9Name: 'SRC_MAC', type: 'macAddress' },
  { id: 57, name: 'postDestinationMacAddress', v9Name: 'DST_MAC', type: 'macAddress' },
  { id: 58, name: 'vlanId', v9Name: 'SRC_VLAN', type: 'unsigned16' },
  { id: 59, name: 'postVlanId', v9Name: 'DST_VLAN', type: 'unsigned16' },
  { id: 60, name: 'ipVersion', v9Name: 'IP_PROTOCOL_VERSION', type: 'unsigned8', slot: 'ipVersion' },
  // RFC 3954: DIRECTION 0 ingress, 1 egress.
  { id: 61, name: 'flowDirection', v9Name: 'DIRECTION', type: 'unsigned8', slot: 'flowDirection' },
  { id: 62, name: 'ipNextHopIPv6Address', v9Name: 'IPV6_NEXT_HOP', type: 'ipv6Address' },
  { id: 63, name: 'bgpNextHopIPv6Address', v9Name: 'BPG_IPV6_NEXT_HOP', type: 'ipv6Address' },
  { id: 64, name: 'ipv6ExtensionHeaders', v9Name: 'IPV6_OPTION_HEADERS', type: 'unsigned32' },
  { id: 70, name: 'mplsTopLabelStackSection', v9Name: 'MPLS_LABEL_1', type: 'octetArray' },
  { id: 80, name: 'destinationMacAddress', v9Name: 'IN_DST_MAC', type: 'macAddress' },
  { id: 81, name: 'postSourceMacAddress', v9Name: 'OUT_SRC_MAC', type: 'macAddress' },
  { id: 82, name: 'interfaceName', v9Name: 'IF_NAME', type: 'string' },
  { id: 83, name: 'interfaceDescription', v9Name: 'IF_DESC', type: 'string' },
  { id: 84, name: 'samplerName', v9Name: 'SAMPLER_NAME', type: 'string' },
  // v9 IN_PERMANENT_BYTES / PKTS: running totals, used when an exporter sends no delta counter.
  { id: 85, name: 'octetTotalCount', v9Name: 'IN_PERMANENT_BYTES', type: 'unsigned64', slot: 'octetsTotal' },
  { id: 86, name: 'packetTotalCount', v9Name: 'IN_PERMANENT_PKTS', type: 'unsigned64', slot: 'packetsTotal' },
  // RFC 5102: the fragment offset in 8-byte units, as in the IPv4 header.
  { id: 88, name: 'fragmentOffset', type: 'unsigned16', slot: 'fragmentOffset' },
  { id: 89, name: 'forwardingStatus', v9Name: 'FORWARDING_STATUS', type: 'unsigned8' },
  { id: 130, name: 'exporterIPv4Address', type: 'ipv4Address' },
  { id: 131, name: 'exporterIPv6Address', type: 'ipv6Address' },
  { id: 132, name: 'droppedOctetDeltaCount', type: 'unsigned64' },
  { id: 133, name: 'droppedPacketDeltaCount', type: 'unsigned64', slot: 'droppedPackets' },
  { id: 134, name: 'droppedOctetTotalCount', type: 'unsigned64' },
  { id: 135, name: 'droppedPacketTotalCount', type: 'unsigned64', slot: 'droppedPacketsTotal' },
  { id: 136, name: 'flowEndReason', type: 'unsigned8', slot: 'flowEndReason' },
  { id: 137, name: 'commonPropertiesId', type: 'unsigned64' },
  { id: 138, name: 'observationPointId', type: 'unsigned64' },
  {
    id: 139,
    name: 'icmpTypeCodeIPv6',
    type: 'unsigned16',
    slot: 'icmpTypeCode',
    reverseSlot: 'revIcmpTypeCode',
  },
  { id: 141, name: 'lineCardId', type: 'unsigned32' },
  { id: 142, name: 'portId', type: 'unsigned32' },
  { id: 143, name: 'meteringProcessId', type: 'unsigned32' },
  { id: 144, name: 'exportingProcessId', type: 'unsigned32' },
  { id: 145, name: 'templateId', type: 'unsigned16' },
  { id: 148, name: 'flowId', type: 'unsigned64' },
  { id: 149, name: 'observationDomainId', type: 'unsigned32' },
  { id: 150, name: 'flowStartSeconds', type: 'dateTimeSeconds', slot: 'startSeconds' },
  { id: 151, name: 'flowEndSeconds', type: 'dateTimeSeconds', slot: 'endSeconds' },
  { id: 152, name: 'flowStartMilliseconds', type: 'dateTimeMilliseconds', slot: 'startMilliseconds' },
  { id: 153, name: 'flowEndMilliseconds', type: 'dateTimeMilliseconds', slot: 'endMilliseconds' },
  // RFC 7011 §6.1.9 / §6.1.10: NTP format, seconds since 1900 + 2^-32 s fraction.
  { id: 154, name: 'flowStartMicroseconds', type: 'dateTimeMicroseconds', slot: 'startMicroseconds' },
  { id: 155, name: 'flowEndMicroseconds', type: 'dateTimeMicroseconds', slot: 'endMicroseconds' },
  { id: 156, name: 'flowStartNanoseconds', type: 'dateTimeNanoseconds', slot: 'startNanoseconds' },
  { id: 157, name: 'flowEndNanoseconds', type: 'dateTimeNanoseconds', slot: 'endNanoseconds' },
  // Negative offsets from the IPFIX message header's export time (RFC 7012 registry).
  { id: 158, name: 'flowStartDeltaMicroseconds', type: 'unsigned32', slot: 'startDeltaMicroseconds' },
  { id: 159, name: 'flowEndDeltaMicroseconds', type: 'unsigned32', slot: 'endDeltaMicroseconds' },
  { id: 160, name: 'systemInitTimeMilliseconds', type: 'dateTimeMilliseconds', slot: 'systemInitTimeMs' },
  { id: 161, name: 'flowDurationMilliseconds', type: 'unsigned32' },
  { id: 162, name: 'flowDurationMicroseconds', type: 'unsigned32' },
  { id: 176, name: 'icmpTypeIPv4', type: 'unsigned8', slot: 'icmpType' },
  { id: 177, name: 'icmpCodeIPv4', type: 'unsigned8', slot: 'icmpCode' },
  { id: 178, name: 'icmpTypeIPv6', type: 'unsigned8', slot: 'icmpType' },
  { id: 179, name: 'icmpCodeIPv6', type: 'unsigned8', slot: 'icmpCode' },
  { id: 180, name: 'udpSourcePort', type: 'unsigned16' },
  { id: 181, name: 'udpDestinationPort', type: 'unsigned16' },
  { id: 182, name: 'tcpSourcePort', type: 'unsigned16' },
  { id: 183, name: 'tcpDestinationPort', type: 'unsigned16' },
  { id: 192, name: 'ipTTL', type: 'unsigned8' },
  { id: 195, name: 'ipDiffServCodePoint', type: 'unsigned8' },
  // RFC 7012 registry: bit 0 (0x80) reserved, bit 1 (0x40) DF, bit 2 (0x20) MF; see FRAGMENT_FLAG_*.
  { id: 197, name: 'fragmentFlags', type: 'unsigned8', slot: 'fragmentFlags' },
  { id: 210, name: 'paddingOctets', type: 'octetArray' },
  { id: 239, name: 'biflowDirection', type: 'unsigned8' },
  { id: 291, name: 'basicList', type: 'basicList' },
  { id: 292, name: 'subTemplateList', type: 'subTemplateList' },
  { id: 293, name: 'subTemplateMultiList', type: 'subTemplateMultiList' },
  { id: 295, name: 'IPSecSPI', type: 'unsigned32', slot: 'spi' },
  // RFC 5477 PSAMP selector and sampling parameters (used in options records).
  { id: 302, name: 'selectorId', type: 'unsigned64', slot: 'selectorId' },
  { id: 303, name: 'informationElementId', type: 'unsigned16' },
  { id: 304, name: 'selectorAlgorithm', type: 'unsigned16' },
  { id: 305, name: 'samplingPacketInterval', type: 'unsigned32' },
  { id: 306, name: 'samplingPacketSpace', type: 'unsigned32' },
  { id: 307, name: 'samplingTimeInterval', type: 'unsigned32' },
  { id: 308, name: 'samplingTimeSpace', type: 'unsigned32' },
  { id: 309, name: 'samplingSize', type: 'unsigned32' },
  { id: 310, name: 'samplingPopulation', type: 'unsigned32' },
  { id: 311, name: 'samplingProbability', type: 'float64' },
  // RFC 5610 §3: Information Element type records describe enterprise elements.
  { id: 339, name: 'informationElementDataType', type: 'unsigned8' },
  { id: 340, name: 'informationElementDescription', type: 'string' },
  { id: 341, name: 'informationElementName', type: 'string' },
  { id: 342, name: 'informationElementRangeBegin', type: 'unsigned64' },
  { id: 343, name: 'informationElementRangeEnd', type: 'unsigned64' },
  { id: 344, name: 'informationElementSemantics', type: 'unsigned8' },
  { id: 345, name: 'informationElementUnits', type: 'unsigned16' },
  { id: 346, name: 'privateEnterpriseNumber', type: 'unsigned32' },
];

const tunnelflow: readonly InformationElement[] = [
  { id: 1, name: 'espSequenceFirst', type: 'unsigned32', slot: 'espSeqFirst' },
  { id: 2, name: 'espSequenceLast', type: 'unsigned32', slot: 'espSeqLast' },
  { id: 3, name: 'espLostPackets', type: 'unsigned64', slot: 'espLostPackets' },
  { id: 4, name: 'espDuplicatePackets', type: 'unsigned64', slot: 'espDuplicatePackets' },
  { id: 5, name: 'espOutOfOrderPackets', type: 'unsigned64', slot: 'espOutOfOrderPackets' },
  { id: 6, name: 'ipFragmentPackets', type: 'unsigned64', slot: 'ipFragmentPackets' },
  { id: 7, name: 'nattKeepalivePackets', type: 'unsigned64', slot: 'nattKeepalivePackets' },
  { id: 8, name: 'espSequenceGeneration', type: 'unsigned32' },
  { id: 9, name: 'captureDroppedPackets', type: 'unsigned64' },
  { id: 10, name: 'espSequenceFirstExtended', type: 'unsigned64' },
  { id: 11, name: 'espSequenceLastExtended', type: 'unsigned64' },
];

/** tunnelflow's enterprise elements (PEN 32473), for encoders and RFC 5610 type records. */
export function tunnelflowElements(): readonly InformationElement[] {
  return tunnelflow;
}

/** The tunnelflow element (PEN 32473) named `name`; throws for a name that is not one. */
export function tunnelflowElementId(name: string): number {
  const e = tunnelflow.find((x) => x.name === name);
  if (e === undefined) throw new Error(`no tunnelflow element ${name}`);
  return e.id;
}

/** RFC 3954 §6.1 options template scope field types (a namespace of their own). */
export const V9_SCOPE_TYPES: ReadonlyMap<number, string> = new Map([
  [1, 'System'],
  [2, 'Interface'],
  [3, 'LineCard'],
  [4, 'Cache'],
  [5, 'Template'],
]);

/** fragmentFlags (IE 197) bits: the registry numbers bits from the most significant one. */
export const FRAGMENT_FLAG_DONT_FRAGMENT = 0x40;
export const FRAGMENT_FLAG_MORE_FRAGMENTS = 0x20;

/** RFC 7011 §7: a field length of 65535 announces a variable-length encoding. */
export const VARIABLE_LENGTH = 65535;

const ianaById = new Map<number, InformationElement>(iana.map((e) => [e.id, e]));
const tunnelflowById = new Map<number, InformationElement>(tunnelflow.map((e) => [e.id, e]));

/** The IANA element with this id, if tunnelflow knows it. */
export function ianaElement(id: number): InformationElement | undefined {
  return ianaById.get(id);
}

/**
 * What a (PEN, id) field specifier means to tunnelflow: the element, whether it is the
 * RFC 5103 reverse of an IANA element, and the record slot it fills (if any).
 */
export interface ElementMeaning {
  readonly element: InformationElement | undefined;
  readonly reverse: boolean;
  readonly slot: RecordSlot | undefined;
  readonly name: string;
}

export function elementMeaning(enterprise: number, id: number): ElementMeaning {
  if (enterprise === 0) {
    const element = ianaById.get(id);
    return { element, reverse: false, slot: element?.slot, name: element?.name ?? `ie${id}` };
  }
  if (enterprise === REVERSE_PEN) {
    const element = ianaById.get(id);
    const name = element
      ? `reverse${element.name[0]!.toUpperCase()}${element.name.slice(1)}`
      : `reverseIe${id}`;
    return { element, reverse: true, slot: element?.reverseSlot, name };
  }
  if (enterprise === TUNNELFLOW_PEN) {
    const element = tunnelflowById.get(id);
    return { element, reverse: false, slot: element?.slot, name: element?.name ?? `tunnelflow${id}` };
  }
  return { element: undefined, reverse: false, slot: undefined, name: `pen${enterprise}.ie${id}` };
}

/** Encoded lengths an abstract type allows (RFC 7011 §6.1 and §6.2 reduced-size encoding). */
export function lengthAllowed(type: AbstractDataType, length: number): boolean {
  switch (type) {
    // RFC 7011 §6.2 allows shorter unsigned encodings; RFC 3954 gives many v9 fields "N"
    // bytes and real exporters send e.g. 2-byte tcpControlBits or 4-byte samplerId, so any
    // unsigned length up to 8 is read as a big-endian integer.
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
      return length >= 1 && length <= 8;
    case 'signed32':
      return length >= 1 && length <= 4;
    case 'float64':
      return length === 4 || length === 8;
    case 'boolean':
      return length === 1;
    case 'macAddress':
      return length === 6;
    case 'dateTimeSeconds':
      return length === 4;
    case 'dateTimeMilliseconds':
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds':
      return length === 8;
    case 'ipv4Address':
      return length === 4;
    case 'ipv6Address':
      return length === 16;
    case 'octetArray':
    case 'string':
    case 'basicList':
    case 'subTemplateList':
    case 'subTemplateMultiList':
      return length >= 1;
  }
}

/** RFC 7011 §7: only these types may be encoded with a variable length. */
export function variableLengthAllowed(type: AbstractDataType): boolean {
  return (
    type === 'octetArray' ||
    type === 'string' ||
    type === 'basicList' ||
    type === 'subTemplateList' ||
    type === 'subTemplateMultiList'
  );
}

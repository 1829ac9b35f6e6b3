// The probe's IPFIX templates (RFC 7011 §3.4) and how a metered flow fills them: one per SA
// flow, 5-tuple flow and NAT-T control flow, for IPv4 and IPv6; an options template for the
// capture's own counters; and the RFC 5610 §3.9 options template of Information Element type
// records, which names and types tunnelflow's enterprise elements (PEN 32473) for any
// collector that does not know them.

import type { AbstractDataType, InformationElement } from '../collector/wire/elements.js';
import {
  TUNNELFLOW_PEN,
  VARIABLE_LENGTH,
  tunnelflowElementId,
  tunnelflowElements,
} from '../collector/wire/elements.js';
import { encodeDataRecord } from '../collector/wire/ipfix-encoder.js';
import type { EncodeField, EncodeTemplate, EncodeValue } from '../collector/wire/ipfix-encoder.js';
import type { ProbeRecord, SaFlowRecord, TupleFlowRecord } from './flow-meter.js';
import { low32 } from './flow-meter.js';

export const TEMPLATE_SA_V4 = 256;
export const TEMPLATE_SA_V6 = 257;
export const TEMPLATE_TUPLE_V4 = 258;
export const TEMPLATE_TUPLE_V6 = 259;
export const TEMPLATE_NATT_V4 = 260;
export const TEMPLATE_NATT_V6 = 261;
export const TEMPLATE_CAPTURE_STATS = 262;
export const TEMPLATE_TYPE_RECORDS = 263;

const pen = (name: string, length: number): EncodeField => ({
  id: tunnelflowElementId(name),
  length,
  enterprise: TUNNELFLOW_PEN,
});

function addressFields(v: 4 | 6): EncodeField[] {
  return v === 4
    ? [
        { id: 8, length: 4 }, // sourceIPv4Address
        { id: 12, length: 4 }, // destinationIPv4Address
      ]
    : [
        { id: 27, length: 16 }, // sourceIPv6Address
        { id: 28, length: 16 }, // destinationIPv6Address
      ];
}

const common: EncodeField[] = [
  { id: 4, length: 1 }, // protocolIdentifier
  { id: 7, length: 2 }, // sourceTransportPort
  { id: 11, length: 2 }, // destinationTransportPort
];

const counters: EncodeField[] = [
  { id: 2, length: 8 }, // packetDeltaCount
  { id: 1, length: 8 }, // octetDeltaCount
  { id: 152, length: 8 }, // flowStartMilliseconds
  { id: 153, length: 8 }, // flowEndMilliseconds
  { id: 136, length: 1 }, // flowEndReason
  { id: 60, length: 1 }, // ipVersion
];

function saFields(v: 4 | 6): EncodeField[] {
  return [
    ...addressFields(v),
    ...common,
    { id: 295, length: 4 }, // ipSecSPI
    ...counters,
    pen('espSequenceFirst', 4),
    pen('espSequenceLast', 4),
    pen('espLostPackets', 8),
    pen('espDuplicatePackets', 8),
    pen('espOutOfOrderPackets', 8),
    pen('ipFragmentPackets', 8),
    pen('espSequenceGeneration', 4),
    pen('espSequenceFirstExtended', 8),
    pen('espSequenceLastExtended', 8),
  ];
}

function tupleFields(v: 4 | 6): EncodeField[] {
  return [
    ...addressFields(v),
    ...common,
    ...counters,
    { id: 6, length: 2 }, // tcpControlBits
    { id: v === 4 ? 32 : 139, length: 2 }, // icmpTypeCodeIPv4 / IPv6
    pen('ipFragmentPackets', 8),
  ];
}

function nattFields(v: 4 | 6): EncodeField[] {
  // RFC 3948 §2.2: IKE on the NAT-T port sits behind a non-ESP marker, four zero bytes where an
  // ESP packet has its SPI; the record carries that zero as its SPI, so a collector can tell
  // this flow from the ESP flows of the same ports.
  return [
    ...addressFields(v),
    ...common,
    { id: 295, length: 4 },
    ...counters,
    pen('nattKeepalivePackets', 8),
  ];
}

const captureStatsFields: EncodeField[] = [
  { id: 149, length: 4 }, // observationDomainId (scope)
  pen('captureDroppedPackets', 8),
  { id: 41, length: 8 }, // exportedMessageTotalCount
  { id: 42, length: 8 }, // exportedFlowRecordTotalCount
];

/** RFC 5610 §3.9: scope informationElementId + privateEnterpriseNumber, then the type information. */
const typeRecordFields: EncodeField[] = [
  { id: 303, length: 2 }, // informationElementId (scope)
  { id: 346, length: 4 }, // privateEnterpriseNumber (scope)
  { id: 339, length: 1 }, // informationElementDataType
  { id: 344, length: 1 }, // informationElementSemantics
  { id: 345, length: 2 }, // informationElementUnits
  { id: 341, length: VARIABLE_LENGTH }, // informationElementName
  { id: 340, length: VARIABLE_LENGTH }, // informationElementDescription
];

export const DATA_TEMPLATES: readonly EncodeTemplate[] = [
  { templateId: TEMPLATE_SA_V4, fields: saFields(4) },
  { templateId: TEMPLATE_SA_V6, fields: saFields(6) },
  { templateId: TEMPLATE_TUPLE_V4, fields: tupleFields(4) },
  { templateId: TEMPLATE_TUPLE_V6, fields: tupleFields(6) },
  { templateId: TEMPLATE_NATT_V4, fields: nattFields(4) },
  { templateId: TEMPLATE_NATT_V6, fields: nattFields(6) },
];

export const OPTIONS_TEMPLATES: readonly EncodeTemplate[] = [
  { templateId: TEMPLATE_CAPTURE_STATS, scopeFieldCount: 1, fields: captureStatsFields },
  { templateId: TEMPLATE_TYPE_RECORDS, scopeFieldCount: 2, fields: typeRecordFields },
];

const fieldsById = new Map<number, readonly EncodeField[]>(
  [...DATA_TEMPLATES, ...OPTIONS_TEMPLATES].map((t) => [t.templateId, t.fields]),
);

export function templateFields(templateId: number): readonly EncodeField[] {
  const f = fieldsById.get(templateId);
  if (f === undefined) throw new Error(`no probe template ${templateId}`);
  return f;
}

/** The template a record goes out in. */
export function templateFor(r: ProbeRecord): number {
  if (r.type === 'sa') return r.ipVersion === 4 ? TEMPLATE_SA_V4 : TEMPLATE_SA_V6;
  if (r.nattControl) return r.ipVersion === 4 ? TEMPLATE_NATT_V4 : TEMPLATE_NATT_V6;
  return r.ipVersion === 4 ? TEMPLATE_TUPLE_V4 : TEMPLATE_TUPLE_V6;
}

function counterValues(r: ProbeRecord): EncodeValue[] {
  return [r.packets, r.octets, r.startMs, r.endMs, r.endReason, r.ipVersion];
}

function saValues(r: SaFlowRecord): EncodeValue[] {
  return [
    r.src,
    r.dst,
    r.proto,
    r.srcPort,
    r.dstPort,
    r.spi,
    ...counterValues(r),
    low32(r.firstSeq),
    low32(r.lastSeq),
    r.lost,
    r.duplicates,
    r.outOfOrder,
    r.fragments,
    r.generation,
    r.firstSeq,
    r.lastSeq,
  ];
}

function tupleValues(r: TupleFlowRecord): EncodeValue[] {
  if (r.nattControl) {
    return [r.src, r.dst, r.proto, r.srcPort, r.dstPort, 0, ...counterValues(r), r.keepalives];
  }
  return [
    r.src,
    r.dst,
    r.proto,
    r.srcPort,
    r.dstPort,
    ...counterValues(r),
    r.tcpFlags,
    r.icmpTypeCode < 0 ? 0 : r.icmpTypeCode,
    r.fragments,
  ];
}

/** One record's template and its encoded bytes. */
export function encodeProbeRecord(r: ProbeRecord): { readonly templateId: number; readonly bytes: Buffer } {
  const templateId = templateFor(r);
  const values = r.type === 'sa' ? saValues(r) : tupleValues(r);
  return { templateId, bytes: encodeDataRecord(templateFields(templateId), values) };
}

/** The capture's counters as an options data record (template TEMPLATE_CAPTURE_STATS). */
export function encodeCaptureStats(
  observationDomainId: number,
  dropped: number,
  messages: number,
  records: number,
): Buffer {
  return encodeDataRecord(captureStatsFields, [observationDomainId, dropped, messages, records]);
}

/** IANA "IPFIX Information Element Data Types" registry codes (RFC 5610 §3.1). */
const DATA_TYPE_CODES: Partial<Record<AbstractDataType, number>> = {
  octetArray: 0,
  unsigned8: 1,
  unsigned16: 2,
  unsigned32: 3,
  unsigned64: 4,
  signed32: 7,
  float64: 10,
  boolean: 11,
  macAddress: 12,
  string: 13,
  dateTimeSeconds: 14,
  dateTimeMilliseconds: 15,
  dateTimeMicroseconds: 16,
  dateTimeNanoseconds: 17,
  ipv4Address: 18,
  ipv6Address: 19,
};

/** IANA semantics (RFC 5610 §3.2): 0 default, 2 totalCounter, 3 deltaCounter, 4 identifier. */
const SEMANTICS: Record<string, { semantics: number; units: number; description: string }> = {
  espSequenceFirst: {
    semantics: 0,
    units: 0,
    description: 'First ESP sequence number of the flow (low 32 bits)',
  },
  espSequenceLast: {
    semantics: 0,
    units: 0,
    description: 'Highest ESP sequence number of the flow (low 32 bits)',
  },
  espLostPackets: {
    semantics: 3,
    units: 3,
    description: 'ESP sequence numbers that left the anti-replay style window unseen during the flow',
  },
  espDuplicatePackets: {
    semantics: 3,
    units: 3,
    description: 'ESP packets whose sequence number was already seen',
  },
  espOutOfOrderPackets: {
    semantics: 3,
    units: 3,
    description: 'ESP packets that arrived after a higher sequence number of the same SA',
  },
  ipFragmentPackets: { semantics: 3, units: 3, description: 'IP fragments the flow packets arrived in' },
  nattKeepalivePackets: { semantics: 3, units: 3, description: 'RFC 3948 NAT-keepalive packets' },
  espSequenceGeneration: {
    semantics: 4,
    units: 0,
    description: 'How often the SA sequence numbers started over before this flow',
  },
  captureDroppedPackets: {
    semantics: 2,
    units: 3,
    description: 'Packets the capture dropped before metering',
  },
  espSequenceFirstExtended: {
    semantics: 0,
    units: 0,
    description: 'First ESP sequence number of the flow, 64 bits as inferred (RFC 4304)',
  },
  espSequenceLastExtended: {
    semantics: 0,
    units: 0,
    description: 'Highest ESP sequence number of the flow, 64 bits as inferred (RFC 4304)',
  },
};

/** RFC 5610 type records for every tunnelflow element the templates use. */
export function encodeTypeRecords(): Buffer[] {
  return tunnelflowElements().map((e: InformationElement) => {
    const info = SEMANTICS[e.name] ?? { semantics: 0, units: 0, description: e.name };
    return encodeDataRecord(typeRecordFields, [
      e.id,
      TUNNELFLOW_PEN,
      DATA_TYPE_CODES[e.type] ?? 0,
      info.semantics,
      info.units,
      e.name,
      info.description,
    ]);
  });
}

// Test and benchmark shorthands over the shared IPFIX encoder (collector/wire/ipfix-encoder.ts,
// RFC 7011 §3.1 message header, §3.3 set header, §3.4.1 template record, §3.2 field specifier
// with the enterprise bit).

import {
  encodeDataRecord,
  encodeDataSet,
  encodeMessage,
  encodeTemplateSet,
} from '../../collector/wire/ipfix-encoder.js';

export interface FieldSpec {
  readonly id: number;
  readonly length: number;
  /** Private Enterprise Number: sets the enterprise bit (RFC 7011 §3.2). */
  readonly enterprise?: number;
}

export type FieldValue = number | bigint | string | Buffer;

export function templateSet(templateId: number, fields: readonly FieldSpec[]): Buffer {
  return encodeTemplateSet([{ templateId, fields }]);
}

/** Encodes one data record for `fields`; addresses as text, numbers big-endian in the field's length. */
export function dataRecord(fields: readonly FieldSpec[], values: readonly FieldValue[]): Buffer {
  return encodeDataRecord(fields, values);
}

export function dataSet(templateId: number, records: readonly Buffer[]): Buffer {
  return encodeDataSet(templateId, records);
}

export function ipfixMessage(opts: {
  exportTimeSec: number;
  sequence: number;
  domainId: number;
  sets: readonly Buffer[];
}): Buffer {
  return encodeMessage({
    exportTimeSec: opts.exportTimeSec,
    sequence: opts.sequence,
    observationDomainId: opts.domainId,
    sets: opts.sets,
  });
}

/** IANA element ids used by the tests and benchmarks (RFC 7012 / IANA IPFIX registry). */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  ipClassOfService: 5,
  tcpControlBits: 6,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  ingressInterface: 10,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  egressInterface: 14,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  fragmentIdentification: 54,
  fragmentOffset: 88,
  droppedPacketDeltaCount: 133,
  droppedPacketTotalCount: 135,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  fragmentFlags: 197,
  ipSecSPI: 295,
} as const;

/** tunnelflow's enterprise elements for ESP sequence numbers (PEN 32473, RFC 5612's documentation PEN). */
export const TUNNELFLOW_PEN = 32473;

// What a decoder returns for one datagram (or one IPFIX-over-TCP message).

import type { DataRecord, OptionsRecord } from './data-record.js';
import type { WireIssue } from './issues.js';

/** NetFlow v5 header (Cisco's published format, 24 bytes). */
export interface NetflowV5Header {
  readonly version: 5;
  readonly count: number;
  readonly sysUptimeMs: number;
  readonly unixSecs: number;
  readonly unixNsecs: number;
  /** Sequence number of the first flow of this datagram (v5 counts flows). */
  readonly flowSequence: number;
  readonly engineType: number;
  readonly engineId: number;
  /** Top two bits of the sampling field: sampling mode. */
  readonly samplingMode: number;
  /** Low 14 bits of the sampling field: 1 out of N (0 = not sampled). */
  readonly samplingInterval: number;
}

/** NetFlow v9 packet header (RFC 3954 §5.1, 20 bytes). */
export interface NetflowV9Header {
  readonly version: 9;
  /** Records of all kinds the exporter says it sent (not reliable, see issues.ts). */
  readonly count: number;
  readonly sysUptimeMs: number;
  readonly unixSecs: number;
  /** Incremented per export packet (RFC 3954 §5.1). */
  readonly sequenceNumber: number;
  readonly sourceId: number;
}

/** IPFIX message header (RFC 7011 §3.1, 16 bytes). */
export interface IpfixHeader {
  readonly version: 10;
  readonly length: number;
  readonly exportTime: number;
  /** Data records sent before this message, modulo 2^32 (RFC 7011 §3.1). */
  readonly sequenceNumber: number;
  readonly observationDomainId: number;
}

export type MessageHeader = NetflowV5Header | NetflowV9Header | IpfixHeader;

export interface DecodedMessage {
  /** Null when not even the header could be read. */
  readonly header: MessageHeader | null;
  /** v9 source id, IPFIX observation domain, v5 (engine type << 8) | engine id. */
  readonly domainId: number | null;
  /** Flow data records, in wire order (empty when they were streamed to a RecordSink). */
  readonly records: readonly DataRecord[];
  /** Flow data records decoded, whether collected in `records` or streamed. */
  readonly dataRecordCount: number;
  readonly optionsRecords: readonly OptionsRecord[];
  /** Template records of any kind seen (v9 counts them in its header count). */
  readonly templateRecords: number;
  /** Templates new or changed in the cache. */
  readonly templatesLearned: number;
  /** Templates re-announced unchanged. */
  readonly templatesRefreshed: number;
  readonly templatesWithdrawn: number;
  /** Records dropped for want of a template (an estimate, see the template-missing issue). */
  readonly missingTemplateRecords: number;
  readonly issues: readonly WireIssue[];
}

/** The decoders' working copy of a DecodedMessage. */
export interface DecodedMessageBuilder {
  header: MessageHeader | null;
  domainId: number | null;
  records: DataRecord[];
  dataRecordCount: number;
  optionsRecords: OptionsRecord[];
  templateRecords: number;
  templatesLearned: number;
  templatesRefreshed: number;
  templatesWithdrawn: number;
  missingTemplateRecords: number;
  issues: WireIssue[];
}

export function emptyMessage(): DecodedMessageBuilder {
  return {
    header: null,
    domainId: null,
    records: [],
    dataRecordCount: 0,
    optionsRecords: [],
    templateRecords: 0,
    templatesLearned: 0,
    templatesRefreshed: 0,
    templatesWithdrawn: 0,
    missingTemplateRecords: 0,
    issues: [],
  };
}

/**
 * Receives flow data records as they are decoded, instead of collecting them: the hot
 * path (collector/produce) turns each into a FlowRecord at once, so no DataRecord is
 * allocated per record. The record passed to `record()` is reused for the next record of
 * the same template: read it, never keep it.
 */
export interface RecordSink {
  /** Called once the header is read, before any record of the datagram. */
  begin(header: MessageHeader, domainId: number): void;
  record(record: DataRecord): void;
}

// The collector's one entry point: a datagram in, FlowRecords + counters + issues out.

import type { FlowRecord } from '../../model/flow.js';
import { decodeDatagram } from '../wire/decode-datagram.js';
import type { DecodedMessage } from '../wire/decoded-message.js';
import { STRUCTURAL_ISSUES } from '../wire/issues.js';
import type { WireIssue } from '../wire/issues.js';
import type { TemplateCache } from '../wire/template-cache.js';
import type { DatagramInfo } from './datagram-info.js';
import type { SequenceObservation, SequenceTracker } from './sequence-tracker.js';
import { FlowRecordBuilder, toFlowRecords } from './to-flow-records.js';
import type { ConversionCounts } from './to-flow-records.js';

export interface ProducedDatagram {
  readonly flows: FlowRecord[];
  readonly info: DatagramInfo;
  readonly issues: readonly WireIssue[];
}

/**
 * Decodes one datagram (or one IPFIX-over-TCP message) from `exporter` and builds its
 * FlowRecords. Never throws on any input. `receivedMs` is the caller's clock; the
 * tracker, when given, checks the export sequence number per exporter and domain;
 * `transport` is 'tcp' for IPFIX messages from a TCP stream (their templates do not expire).
 */
export function produceFlows(
  datagram: Uint8Array,
  exporter: string,
  receivedMs: number,
  cache: TemplateCache,
  tracker?: SequenceTracker,
  transport: 'udp' | 'tcp' = 'udp',
): ProducedDatagram {
  // Records are streamed into the builder as they are decoded: the FlowRecord is the only
  // object allocated per record.
  const flows: FlowRecord[] = [];
  const builder = new FlowRecordBuilder(exporter, receivedMs, cache, flows);
  const decoded = decodeDatagram(datagram, exporter, cache, builder, transport);
  return finish(decoded, exporter, flows, builder.counts(), tracker);
}

/** The second half of produceFlows, for callers that decoded (without a sink) themselves. */
export function produceFromDecoded(
  decoded: DecodedMessage,
  exporter: string,
  receivedMs: number,
  cache: TemplateCache,
  tracker?: SequenceTracker,
): ProducedDatagram {
  const flows: FlowRecord[] = [];
  const counts = toFlowRecords(decoded, exporter, receivedMs, cache, flows);
  return finish(decoded, exporter, flows, counts, tracker);
}

function finish(
  decoded: DecodedMessage,
  exporter: string,
  flows: FlowRecord[],
  counts: ConversionCounts,
  tracker: SequenceTracker | undefined,
): ProducedDatagram {
  let malformed = false;
  for (const issue of decoded.issues) {
    if (STRUCTURAL_ISSUES.has(issue.kind)) {
      malformed = true;
      break;
    }
  }
  const header = decoded.header;
  let sequence: SequenceObservation | null = null;
  let sequenceNumber: number | null = null;
  if (header !== null) {
    sequenceNumber = header.version === 5 ? header.flowSequence : header.sequenceNumber;
    if (tracker) {
      // The tracker learns per stream what the number counts (packets, records with or
      // without options); it is given both record counts. A datagram cut short or with
      // records dropped for want of a template says nothing reliable about how many
      // records it held: record-counting streams re-baseline on the next one.
      const exact = !malformed && decoded.missingTemplateRecords === 0;
      sequence = tracker.observe(
        exporter,
        header.version,
        decoded.domainId ?? 0,
        sequenceNumber,
        decoded.dataRecordCount,
        decoded.optionsRecords.length,
        exact,
      );
    }
  }
  return {
    flows,
    issues: decoded.issues,
    info: {
      exporter,
      version: header?.version ?? null,
      domainId: decoded.domainId,
      sequenceNumber,
      dataRecords: decoded.dataRecordCount,
      optionsRecords: decoded.optionsRecords.length,
      flows: counts.flows,
      templateRecords: decoded.templateRecords,
      templatesLearned: decoded.templatesLearned,
      templatesRefreshed: decoded.templatesRefreshed,
      templatesWithdrawn: decoded.templatesWithdrawn,
      missingTemplateRecords: decoded.missingTemplateRecords,
      recordsWithoutAddress: counts.recordsWithoutAddress,
      flowsWithoutTime: counts.flowsWithoutTime,
      malformed,
      sequence,
    },
  };
}

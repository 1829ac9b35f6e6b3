// Per-datagram facts the collector turns into per-exporter counters.

import type { ExportVersion } from '../../model/flow.js';
import type { SequenceObservation } from './sequence-tracker.js';

export interface DatagramInfo {
  readonly exporter: string;
  /** Null when the version field could not be read or is not 5, 9 or 10. */
  readonly version: ExportVersion | null;
  /** v9 source id, IPFIX observation domain, v5 (engine type << 8) | engine id. */
  readonly domainId: number | null;
  /** The header's sequence number (v5 flow sequence), null without a header. */
  readonly sequenceNumber: number | null;
  /** Flow data records decoded. */
  readonly dataRecords: number;
  /** Options data records decoded. */
  readonly optionsRecords: number;
  /** FlowRecords produced (RFC 5103 biflows give two per record). */
  readonly flows: number;
  readonly templateRecords: number;
  readonly templatesLearned: number;
  readonly templatesRefreshed: number;
  readonly templatesWithdrawn: number;
  /** Records dropped for want of a template (estimated, see the template-missing issue). */
  readonly missingTemplateRecords: number;
  /** Data records without source or destination address, dropped. */
  readonly recordsWithoutAddress: number;
  /** Flows that carried no time element and were stamped with the export time. */
  readonly flowsWithoutTime: number;
  /** A structural problem stopped decoding before the end of the datagram. */
  readonly malformed: boolean;
  /** Export sequence check, when the caller passed a SequenceTracker. */
  readonly sequence: SequenceObservation | null;
}

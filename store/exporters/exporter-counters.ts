import type { ExportVersion } from '../../model/flow.js';

/**
 * Absolute counters of one exporter and observation domain, as the collector keeps them.
 * The collector upserts the whole record; loading them back at startup lets counters
 * continue across restarts.
 */
export interface ExporterCounters {
  readonly exporter: string;
  readonly domainId: number;
  readonly version: ExportVersion | null;
  readonly datagrams: number;
  readonly records: number;
  readonly templates: number;
  readonly optionsRecords: number;
  readonly malformed: number;
  readonly missingTemplateRecords: number;
  /**
   * Units lost on the way according to the export sequence numbers: data records for
   * NetFlow v5 and IPFIX (RFC 7011 §3.1 counts records), export datagrams for NetFlow v9
   * (RFC 3954 §5.1 counts packets).
   */
  readonly sequenceGaps: number;
  /** Flow records the store could not keep up with (writer drops). */
  readonly dropped: number;
  /** Decode issues by kind (truncated, template-missing, ...). */
  readonly issues: Readonly<Record<string, number>>;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

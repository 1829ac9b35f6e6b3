/**
 * Completeness of one time bucket for one exporter and domain. The collector submits
 * deltas; the store adds them up, so several collectors (or restarts) can contribute.
 */
export interface ExporterBucket {
  readonly exporter: string;
  readonly domainId: number;
  readonly bucketStartMs: number;
  readonly records: number;
  readonly datagrams: number;
  readonly issues: number;
  readonly sequenceGaps: number;
}

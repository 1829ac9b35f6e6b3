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
  /**
   * How long the row is: absent for one bucket of the configured size, ROLLUP_BUCKET_MS
   * (model/tunnel-bucket.ts) for a row rolled up to an hour by retention.
   */
  readonly spanMs?: number;
  /** Of a rolled-up row: how many of its native buckets had a record or datagram. */
  readonly activeBuckets?: number;
}

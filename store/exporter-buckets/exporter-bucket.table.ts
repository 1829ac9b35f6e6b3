import type { Insertable, Selectable } from 'kysely';
import type { ExporterBucket } from '../../model/exporter-bucket.js';
import { ROLLUP_BUCKET_MS } from '../../model/tunnel-bucket.js';

/**
 * The `exporter_buckets` table: how complete each time bucket is per exporter and
 * domain (STYLE.md "Each time bucket carries its own completeness"). Rows are additive:
 * the collector sends deltas and the store sums them.
 */
export interface ExporterBucketTable {
  exporter: string;
  domain_id: number;
  bucket_start_ms: number;
  records: number;
  datagrams: number;
  issues: number;
  sequence_gaps: number;
  /** When tunnelflow last received a record or datagram counted in the row. */
  received_ms: number;
}

/** `exporter_buckets_hourly`: exporter bucket rows rolled up to one per hour by retention. */
export interface ExporterBucketHourlyTable extends ExporterBucketTable {
  /** Native buckets of the hour that had a record or datagram. */
  active_buckets: number;
}

export type ExporterBucketHourlyRow = Selectable<ExporterBucketHourlyTable>;

export type ExporterBucketRow = Selectable<ExporterBucketTable>;
export type NewExporterBucketRow = Insertable<ExporterBucketTable>;

export function rowToExporterBucket(row: ExporterBucketRow): ExporterBucket {
  return {
    exporter: row.exporter,
    domainId: row.domain_id,
    bucketStartMs: row.bucket_start_ms,
    records: row.records,
    datagrams: row.datagrams,
    issues: row.issues,
    sequenceGaps: row.sequence_gaps,
  };
}

export function hourlyRowToExporterBucket(row: ExporterBucketHourlyRow): ExporterBucket {
  return { ...rowToExporterBucket(row), spanMs: ROLLUP_BUCKET_MS, activeBuckets: row.active_buckets };
}

import type { Insertable, Selectable } from 'kysely';
import type { ExporterBucket } from '../../model/exporter-bucket.js';

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
}

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

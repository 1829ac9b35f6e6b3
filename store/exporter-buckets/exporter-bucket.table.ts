import type { Insertable, Selectable } from 'kysely';

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

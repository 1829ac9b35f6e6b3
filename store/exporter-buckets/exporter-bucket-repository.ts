import type { StoreDb } from '../database.js';
import { rowToExporterBucket } from './exporter-bucket.table.js';
import type { ExporterBucket } from '../../model/exporter-bucket.js';

export interface ExporterBucketQuery {
  /** Buckets starting at or after this (epoch ms). */
  readonly from: number;
  /** Buckets starting before this. */
  readonly to: number;
  readonly exporter?: string;
  readonly domainId?: number;
}

/** Bucket completeness in [from, to), by start time then exporter and domain. */
export async function listExporterBuckets(
  db: StoreDb,
  query: ExporterBucketQuery,
): Promise<ExporterBucket[]> {
  let select = db
    .selectFrom('exporter_buckets')
    .selectAll()
    .where('bucket_start_ms', '>=', query.from)
    .where('bucket_start_ms', '<', query.to);
  if (query.exporter !== undefined) select = select.where('exporter', '=', query.exporter);
  if (query.domainId !== undefined) select = select.where('domain_id', '=', query.domainId);
  const rows = await select.orderBy('bucket_start_ms').orderBy('exporter').orderBy('domain_id').execute();
  return rows.map(rowToExporterBucket);
}

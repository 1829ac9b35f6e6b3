import type { StoreDb } from '../database.js';
import { hourlyRowToExporterBucket, rowToExporterBucket } from './exporter-bucket.table.js';
import type { ExporterBucketHourlyRow } from './exporter-bucket.table.js';
import type { ExporterBucket } from '../../model/exporter-bucket.js';

export interface ExporterBucketQuery {
  /** Buckets starting at or after this (epoch ms). */
  readonly from: number;
  /** Buckets starting before this. */
  readonly to: number;
  readonly exporter?: string;
  readonly domainId?: number;
}

/**
 * Bucket completeness in [from, to), by start time then exporter and domain: rows of the
 * configured size and rows rolled up to an hour by retention (spanMs set).
 */
export async function listExporterBuckets(
  db: StoreDb,
  query: ExporterBucketQuery,
): Promise<ExporterBucket[]> {
  const read = async (table: 'exporter_buckets' | 'exporter_buckets_hourly') => {
    let select = db
      .selectFrom(table)
      .selectAll()
      .where('bucket_start_ms', '>=', query.from)
      .where('bucket_start_ms', '<', query.to);
    if (query.exporter !== undefined) select = select.where('exporter', '=', query.exporter);
    if (query.domainId !== undefined) select = select.where('domain_id', '=', query.domainId);
    return select.orderBy('bucket_start_ms').orderBy('exporter').orderBy('domain_id').execute();
  };
  const native = (await read('exporter_buckets')).map(rowToExporterBucket);
  const hourly = (await read('exporter_buckets_hourly')).map((r) =>
    hourlyRowToExporterBucket(r as ExporterBucketHourlyRow),
  );
  if (hourly.length === 0) return native;
  return [...hourly, ...native].sort(
    (x, y) =>
      x.bucketStartMs - y.bucketStartMs ||
      (x.exporter < y.exporter ? -1 : x.exporter > y.exporter ? 1 : 0) ||
      x.domainId - y.domainId,
  );
}

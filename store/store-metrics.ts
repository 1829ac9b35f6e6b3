import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { RetentionStats } from './retention.js';
import type { FlowWriterStats } from './writer/flow-writer.js';

export interface StoreMetricSources {
  readonly writer?: { stats(): FlowWriterStats };
  readonly retention?: { stats(): RetentionStats };
  /** Bytes in use by the database (Store.info()'s usedBytes; a query on PostgreSQL). */
  readonly usedBytes?: () => number | Promise<number>;
}

/**
 * Registers the store's counters on a Prometheus registry. Values are read from the
 * components' stats() at scrape time, so nothing on the write path pays for metrics.
 */
export function registerStoreMetrics(registry: Registry, sources: StoreMetricSources): void {
  const counter = (name: string, help: string, read: () => number | undefined): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read();
        this.reset();
        if (value !== undefined) this.inc(value);
      },
    });
  };
  const gauge = (
    name: string,
    help: string,
    read: () => number | undefined | Promise<number | undefined>,
  ): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = await read();
        if (value !== undefined) this.set(value);
      },
    });
  };
  const { writer, retention, usedBytes } = sources;
  if (writer !== undefined) {
    counter(
      'tunnelflow_store_rows_written_total',
      'Flow rows committed to the database.',
      () => writer.stats().written,
    );
    counter(
      'tunnelflow_store_rows_dropped_total',
      'Flow rows dropped because the writer was full (the store could not keep up).',
      () => writer.stats().dropped,
    );
    counter(
      'tunnelflow_store_rows_failed_total',
      'Flow rows lost because their transaction failed.',
      () => writer.stats().failed,
    );
    counter(
      'tunnelflow_store_items_rejected_total',
      'Flow rows and state items the database refused one by one.',
      () => writer.stats().rejected,
    );
    counter('tunnelflow_store_batches_total', 'Batches committed.', () => writer.stats().batches);
    counter(
      'tunnelflow_store_transactions_total',
      'Write transactions committed.',
      () => writer.stats().transactions,
    );
    gauge(
      'tunnelflow_store_rows_pending',
      'Flow rows accepted and not yet committed.',
      () => writer.stats().pending,
    );
    gauge(
      'tunnelflow_store_writer_failing',
      '1 while write transactions fail (a full disk, an I/O error), 0 once one commits again.',
      () => (writer.stats().failing ? 1 : 0),
    );
    gauge(
      'tunnelflow_store_last_commit_timestamp_seconds',
      'Wall-clock time of the last commit.',
      () => writer.stats().lastCommitMs / 1000,
    );
  }
  if (retention !== undefined) {
    counter(
      'tunnelflow_store_retention_deleted_by_age_total',
      'Flow rows deleted because they were older than their window.',
      () => retention.stats().deletedByAge,
    );
    counter(
      'tunnelflow_store_retention_deleted_by_size_total',
      'Flow rows deleted to keep the database under its size cap.',
      () => retention.stats().deletedBySize,
    );
    counter(
      'tunnelflow_store_retention_rolled_up_buckets_total',
      'Bucket aggregate rows summed into hour rows (received longer ago than rollupAfterMs).',
      () => retention.stats().rolledUpBuckets,
    );
    counter(
      'tunnelflow_store_retention_deleted_buckets_total',
      'Bucket aggregate rows, per bucket or hourly, deleted for age.',
      () => retention.stats().deletedBuckets,
    );
  }
  if (usedBytes !== undefined) {
    gauge(
      'tunnelflow_store_used_bytes',
      'Bytes of the database file in use (free pages excluded).',
      usedBytes,
    );
  }
}

import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { BucketRollup } from './bucket-rollup-step.js';
import { RETENTION_OTHER_CURSOR_KEY, RETENTION_TUNNEL_CURSOR_KEY } from '../meta/store-meta-keys.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';

interface RetentionClass {
  readonly cursorKey: string;
  readonly deleteOld: Statement<[number, number, number]>;
  readonly firstKept: Statement<[number, number], { id: number | null }>;
}

/**
 * Deletes raw flows past their window without an index on received_ms: rows get
 * their ids in the order they are received, so for each retention class (`other`,
 * and the tunnel kinds) a cursor walks the ids from the oldest. A step scans the next
 * `stepRows` ids of the table (a rowid range, cheap), deletes the rows of its class
 * received before the cutoff, and moves the cursor up to the first row of its class
 * that is still young; there it stops until that row ages. An index on
 * (kind, received_ms) would make this exact for out-of-order ids but costs every
 * insert ~1 µs (test/bench/store.ts); ids follow arrival closely enough.
 *
 * The cursors live in store_meta, committed with the deletes, so a restart does not
 * walk the kept rows again. The size cap deletes the lowest ids, the oldest received.
 * Bucket aggregates are rolled up and deleted by receipt age in the same step
 * (bucket-rollup-step.ts), at most `stepRows` bucket rows per step.
 */
export class RetentionStepper {
  readonly #sqlite: SqliteDatabase;
  readonly #other: RetentionClass;
  readonly #tunnel: RetentionClass;
  readonly #deleteOldest: Statement<[number]>;
  readonly #deleteOldBuckets: Statement<[number, number]>;
  readonly #deleteOldHourlyBuckets: Statement<[number, number]>;
  readonly #deleteOldReports: Statement<[number, number]>;
  readonly #bounds: Statement<[], { low: number | null; high: number | null }>;
  readonly #readCursor: Statement<[string], { value: number }>;
  readonly #writeCursor: Statement<[string, number]>;
  readonly #buckets: BucketRollup;

  constructor(sqlite: SqliteDatabase) {
    this.#sqlite = sqlite;
    const retentionClass = (predicate: string, cursorKey: string): RetentionClass => ({
      cursorKey,
      deleteOld: sqlite.prepare(
        `DELETE FROM flows WHERE id > ? AND id <= ? AND ${predicate} AND received_ms < ?`,
      ),
      firstKept: sqlite.prepare(`SELECT min(id) AS id FROM flows WHERE id > ? AND id <= ? AND ${predicate}`),
    });
    this.#other = retentionClass("kind = 'other'", RETENTION_OTHER_CURSOR_KEY);
    this.#tunnel = retentionClass("kind <> 'other'", RETENTION_TUNNEL_CURSOR_KEY);
    this.#deleteOldest = sqlite.prepare(
      'DELETE FROM flows WHERE id IN (SELECT id FROM flows ORDER BY id LIMIT ?)',
    );
    // exporterBucketsMs, by bucket start: native and hourly rows alike.
    this.#deleteOldBuckets = sqlite.prepare(
      'DELETE FROM exporter_buckets WHERE rowid IN (SELECT rowid FROM exporter_buckets WHERE bucket_start_ms < ? LIMIT ?)',
    );
    this.#deleteOldHourlyBuckets = sqlite.prepare(
      'DELETE FROM exporter_buckets_hourly WHERE rowid IN (SELECT rowid FROM exporter_buckets_hourly WHERE bucket_start_ms < ? LIMIT ?)',
    );
    this.#buckets = new BucketRollup(sqlite);
    this.#deleteOldReports = sqlite.prepare(
      'DELETE FROM reports WHERE rowid IN (SELECT rowid FROM reports WHERE generated_ms < ? LIMIT ?)',
    );
    this.#bounds = sqlite.prepare('SELECT min(id) AS low, max(id) AS high FROM flows');
    this.#readCursor = sqlite.prepare('SELECT value FROM store_meta WHERE key = ?');
    this.#writeCursor = sqlite.prepare(
      'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  /** Runs one step in one short write transaction. */
  run(step: RetentionStep): RetentionStepResult {
    return this.#sqlite.transaction(() => this.#run(step)).immediate();
  }

  #run(step: RetentionStep): RetentionStepResult {
    const limit = Math.max(1, Math.trunc(step.stepRows));
    const bucketCutoff = step.exporterBucketCutoffMs ?? null;
    let bucketsDeleted = 0;
    if (bucketCutoff !== null) {
      bucketsDeleted = this.#deleteOldBuckets.run(bucketCutoff, limit).changes;
      if (bucketsDeleted < limit)
        bucketsDeleted += this.#deleteOldHourlyBuckets.run(bucketCutoff, limit - bucketsDeleted).changes;
    }
    // Bucket rows share one budget of `limit` per step, whichever rule removes them.
    const aggregates = this.#buckets.run(
      {
        rollupCutoffMs: step.bucketRollupCutoffMs ?? null,
        deleteCutoffMs: step.bucketAggregateCutoffMs ?? null,
      },
      limit - bucketsDeleted,
    );
    const bucketWork = {
      rolledUpBuckets: aggregates.rolledUp,
      deletedBuckets: bucketsDeleted + aggregates.deleted,
    };
    const bucketsMore = bucketsDeleted >= limit || aggregates.more;
    const reportCutoff = step.reportCutoffMs ?? null;
    if (reportCutoff !== null) this.#deleteOldReports.run(reportCutoff, limit);
    const { low, high } = this.#bounds.get() ?? { low: null, high: null };
    if (low === null || high === null)
      return { deletedByAge: 0, deletedBySize: 0, ...bucketWork, more: bucketsMore };
    const other = this.#advance(this.#other, step.otherCutoffMs, limit, low, high);
    const tunnel = this.#advance(this.#tunnel, step.tunnelCutoffMs, limit, low, high);
    let deletedBySize = 0;
    if (step.maxDatabaseBytes !== null && this.#usedBytes() > step.maxDatabaseBytes) {
      deletedBySize = this.#deleteOldest.run(limit).changes;
    }
    return {
      deletedByAge: other.deleted + tunnel.deleted,
      deletedBySize,
      ...bucketWork,
      more: other.more || tunnel.more || deletedBySize >= limit || bucketsMore,
    };
  }

  #advance(
    retentionClass: RetentionClass,
    cutoffMs: number,
    limit: number,
    low: number,
    high: number,
  ): { deleted: number; more: boolean } {
    // Rows below the table's lowest id are gone whatever the cursor says (the size cap
    // may have deleted them).
    const stored = this.#readCursor.get(retentionClass.cursorKey)?.value ?? 0;
    const from = Math.max(stored, low - 1);
    const to = Math.min(from + limit, high);
    if (to <= from) return { deleted: 0, more: false };
    const deleted = retentionClass.deleteOld.run(from, to, cutoffMs).changes;
    const kept = retentionClass.firstKept.get(from, to)?.id ?? null;
    const cursor = kept === null ? to : kept - 1;
    if (cursor !== stored) this.#writeCursor.run(retentionClass.cursorKey, cursor);
    return { deleted, more: kept === null && to < high };
  }

  #usedBytes(): number {
    const pageSize = Number(this.#sqlite.pragma('page_size', { simple: true }));
    const pageCount = Number(this.#sqlite.pragma('page_count', { simple: true }));
    const free = Number(this.#sqlite.pragma('freelist_count', { simple: true }));
    return pageSize * (pageCount - free);
  }
}

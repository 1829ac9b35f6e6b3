import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { BucketRollup } from './bucket-rollup-step.js';
import { OTHER_CLASS, TUNNEL_CLASS } from './flow-block-writer.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';

interface BlockRow {
  readonly id: number;
  readonly rows: number;
}

/**
 * Deletes raw flows past their window, a block at a time (flow-block-writer.ts): a block
 * holds one retention class (`other`, or the tunnel kinds) and goes when its latest
 * flow was received before the class's cutoff, found through the index on
 * (class, max_received_ms). A block holds one batch, received within about a second, so
 * this is the per-row rule give or take that second. The size cap deletes the lowest
 * block ids, the oldest received. A step deletes blocks until it has `stepRows` flows.
 *
 * Bucket aggregates are rolled up and deleted by receipt age in the same step
 * (bucket-rollup-step.ts), at most `stepRows` bucket rows per step.
 */
export class RetentionStepper {
  readonly #sqlite: SqliteDatabase;
  readonly #oldByClass: Statement<[number, number, number], BlockRow>;
  readonly #oldest: Statement<[number], BlockRow>;
  readonly #deleteBlock: Statement<[number]>;
  readonly #deleteBlockTunnels: Statement<[number]>;
  readonly #deleteOldBuckets: Statement<[number, number]>;
  readonly #deleteOldHourlyBuckets: Statement<[number, number]>;
  readonly #deleteOldReports: Statement<[number, number]>;
  readonly #buckets: BucketRollup;

  constructor(sqlite: SqliteDatabase) {
    this.#sqlite = sqlite;
    this.#oldByClass = sqlite.prepare(
      'SELECT id, rows FROM flow_blocks WHERE class = ? AND max_received_ms < ? ORDER BY max_received_ms LIMIT ?',
    );
    this.#oldest = sqlite.prepare('SELECT id, rows FROM flow_blocks ORDER BY id LIMIT ?');
    this.#deleteBlock = sqlite.prepare('DELETE FROM flow_blocks WHERE id = ?');
    this.#deleteBlockTunnels = sqlite.prepare('DELETE FROM flow_block_tunnels WHERE block_id = ?');
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
    const other = this.#deleteBlocks(this.#oldByClass.all(OTHER_CLASS, step.otherCutoffMs, limit), limit);
    const tunnel = this.#deleteBlocks(this.#oldByClass.all(TUNNEL_CLASS, step.tunnelCutoffMs, limit), limit);
    let size = { deleted: 0, more: false };
    if (step.maxDatabaseBytes !== null && this.#usedBytes() > step.maxDatabaseBytes) {
      size = this.#deleteBlocks(this.#oldest.all(limit), limit);
      // A step at the cap goes on until the pages in use are under it.
      size = { deleted: size.deleted, more: size.deleted > 0 };
    }
    return {
      deletedByAge: other.deleted + tunnel.deleted,
      deletedBySize: size.deleted,
      ...bucketWork,
      more: other.more || tunnel.more || size.more || bucketsMore,
    };
  }

  /** Deletes blocks in the order given until `limit` flows are gone; more: some were left. */
  #deleteBlocks(blocks: readonly BlockRow[], limit: number): { deleted: number; more: boolean } {
    let deleted = 0;
    let taken = 0;
    for (const block of blocks) {
      if (deleted >= limit) break;
      this.#deleteBlockTunnels.run(block.id);
      this.#deleteBlock.run(block.id);
      deleted += block.rows;
      taken += 1;
    }
    return { deleted, more: taken < blocks.length || (blocks.length === limit && taken === blocks.length) };
  }

  #usedBytes(): number {
    const pageSize = Number(this.#sqlite.pragma('page_size', { simple: true }));
    const pageCount = Number(this.#sqlite.pragma('page_count', { simple: true }));
    const free = Number(this.#sqlite.pragma('freelist_count', { simple: true }));
    return pageSize * (pageCount - free);
  }
}

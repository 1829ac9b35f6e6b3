/** One bounded unit of retention work, computed by the retention timer. */
export interface RetentionStep {
  /** Flows of kind `other` received before this are deleted. */
  readonly otherCutoffMs: number;
  /** Flows of every other kind received before this are deleted. */
  readonly tunnelCutoffMs: number;
  /** Exporter buckets starting before this are deleted; null keeps them. */
  readonly exporterBucketCutoffMs?: number | null;
  /**
   * Bucket aggregates (tunnel and exporter rows) received before this are rolled up to one
   * row per hour; absent or null: no rollup.
   */
  readonly bucketRollupCutoffMs?: number | null;
  /** Bucket aggregates, native or hourly, received before this are deleted; absent keeps them. */
  readonly bucketAggregateCutoffMs?: number | null;
  /** Stored reports generated before this are deleted; absent keeps them. */
  readonly reportCutoffMs?: number | null;
  /** When the pages in use exceed this, the oldest rows go first; null: no cap. */
  readonly maxDatabaseBytes: number | null;
  /** Rows examined (and so deleted) at most per class by this step. */
  readonly stepRows: number;
}

export interface RetentionStepResult {
  readonly deletedByAge: number;
  readonly deletedBySize: number;
  /** Bucket rows rolled up into hour rows by this step. */
  readonly rolledUpBuckets?: number;
  /** Bucket aggregate rows deleted for age by this step (exporterBucketsMs included). */
  readonly deletedBuckets?: number;
  /** True when the step stopped at its row limit: there is more to do right away. */
  readonly more: boolean;
}

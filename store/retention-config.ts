import { z } from 'zod';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long raw flows are kept, and how retention paces itself. */
export const retentionConfigSchema = z.strictObject({
  /** Flows of any kind but `other` (they belong to a tunnel's story), by received time. */
  tunnelFlowsMs: z
    .number()
    .int()
    .positive()
    .default(30 * DAY_MS),
  /** Flows of kind `other`. */
  otherFlowsMs: z.number().int().positive().default(DAY_MS),
  /**
   * Bucket aggregates (tunnel buckets and exporter completeness rows), by received time
   * (DESIGN.md "Time buckets"): rows received longer ago than this are rolled up to one
   * row per hour (exact sums), so an old capture ingested today stays per bucket for the
   * whole window. Needs a bucket size that divides an hour (bucketSeconds); null: never.
   */
  rollupAfterMs: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(30 * DAY_MS),
  /** Bucket aggregates, per bucket or rolled up, received longer ago than this are deleted; null: kept. */
  bucketAggregatesMs: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(400 * DAY_MS),
  /**
   * Exporter bucket completeness rows by bucket start (flow time), native and hourly;
   * null (the default): only bucketAggregatesMs applies. Counted from flow time, a
   * two-year-old capture ingested today loses its completeness at once: prefer
   * bucketAggregatesMs, which counts from receipt.
   */
  exporterBucketsMs: z.number().int().positive().nullable().default(null),
  /** Stored SLA reports, by the time they were generated (small: one row per run). */
  reportsMs: z
    .number()
    .int()
    .positive()
    .default(400 * DAY_MS),
  /**
   * Cap on the space the database uses (pages in use, not the file size: freed pages are
   * reused by SQLite without shrinking the file). Oldest rows go first. null: no cap.
   */
  maxDatabaseBytes: z.number().int().positive().nullable().default(null),
  /** Pause between two runs. */
  intervalMs: z.number().int().min(10).default(10_000),
  /** Rows deleted per step; each step is its own short transaction between inserts. */
  stepRows: z.number().int().min(1).max(100_000).default(2_000),
  /** Steps per run at most, so a long backlog is worked off over several runs. */
  maxStepsPerRun: z.number().int().min(1).default(50),
});

export type RetentionConfig = z.infer<typeof retentionConfigSchema>;

/** Whether buckets of `bucketMs` can be rolled up to whole hours (they tile an hour). */
export function canRollUp(bucketMs: number): boolean {
  return bucketMs > 0 && bucketMs < HOUR_MS && HOUR_MS % bucketMs === 0;
}

const HOUR_MS = 60 * 60 * 1000;

export const defaultRetentionConfig: RetentionConfig = retentionConfigSchema.parse({});

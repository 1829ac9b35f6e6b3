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
   * Exporter bucket completeness rows (small: one per exporter and minute), by bucket
   * start; null (the default) keeps them. Retention counts age from receipt (DESIGN.md
   * "Time buckets"), and these rows carry flow time only: a two-year-old capture ingested
   * today would lose its completeness at once while its flows are kept 30 days. So this
   * is opt-in until aggregates record when they were received.
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

export const defaultRetentionConfig: RetentionConfig = retentionConfigSchema.parse({});

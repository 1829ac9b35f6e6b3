import type { Logger } from 'pino';
import type { RetentionConfig } from './retention-config.js';
import type { RetentionStep, RetentionStepResult } from './retention-step.js';

/** Whatever runs a step on the write connection: the flow writer does, between batches. */
export interface RetentionStepRunner {
  retentionStep(step: RetentionStep): Promise<RetentionStepResult>;
}

export interface RetentionDeps {
  readonly runner: RetentionStepRunner;
  /** Wall clock, injectable for tests. */
  readonly clock?: () => number;
  readonly logger?: Logger;
}

export interface RetentionStats {
  readonly runs: number;
  readonly deletedByAge: number;
  readonly deletedBySize: number;
  readonly lastRunMs: number;
  readonly lastError: string | null;
}

export interface RetentionRunResult {
  readonly deletedByAge: number;
  readonly deletedBySize: number;
  readonly steps: number;
}

export interface Retention {
  /** Runs now, then every `intervalMs`, until stop(). */
  start(): void;
  /** Waits for a run in progress, then stops the timer. */
  stop(): Promise<void>;
  /** One run: steps until nothing is left or `maxStepsPerRun` is reached. */
  runOnce(): Promise<RetentionRunResult>;
  stats(): RetentionStats;
}

/**
 * Deletes raw flows past their window (by received time: `other` after otherFlowsMs,
 * every other kind after tunnelFlowsMs) and beyond the size cap, and exporter bucket
 * rows after exporterBucketsMs. Each step is a short
 * transaction of at most `stepRows` rows queued behind the writer's batches, so ingest
 * never waits long behind retention; a backlog is worked off over several runs.
 */
export function createRetention(config: RetentionConfig, deps: RetentionDeps): Retention {
  const clock = deps.clock ?? Date.now;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<RetentionRunResult> | null = null;
  let started = false;
  let stopped = false;
  let runs = 0;
  let deletedByAge = 0;
  let deletedBySize = 0;
  let lastRunMs = 0;
  let lastError: string | null = null;

  const runOnce = (): Promise<RetentionRunResult> => {
    if (running !== null) return running;
    running = (async () => {
      const now = clock();
      const step: RetentionStep = {
        otherCutoffMs: now - config.otherFlowsMs,
        tunnelCutoffMs: now - config.tunnelFlowsMs,
        exporterBucketCutoffMs: config.exporterBucketsMs === null ? null : now - config.exporterBucketsMs,
        reportCutoffMs: now - config.reportsMs,
        maxDatabaseBytes: config.maxDatabaseBytes,
        stepRows: config.stepRows,
      };
      const total = { deletedByAge: 0, deletedBySize: 0, steps: 0 };
      try {
        for (let i = 0; i < config.maxStepsPerRun && !stopped; i += 1) {
          const result = await deps.runner.retentionStep(step);
          total.steps += 1;
          total.deletedByAge += result.deletedByAge;
          total.deletedBySize += result.deletedBySize;
          if (!result.more) break;
        }
        lastError = null;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        deps.logger?.warn({ err: lastError }, 'retention step failed');
      }
      runs += 1;
      lastRunMs = clock();
      deletedByAge += total.deletedByAge;
      deletedBySize += total.deletedBySize;
      if (total.deletedByAge + total.deletedBySize > 0) deps.logger?.debug(total, 'retention deleted flows');
      return total;
    })().finally(() => {
      running = null;
    });
    return running;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce().then(schedule);
    }, config.intervalMs);
    timer.unref();
  };

  return {
    start: () => {
      if (started || stopped) return;
      started = true;
      void runOnce().then(schedule);
    },
    stop: async () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
    },
    runOnce,
    stats: () => ({ runs, deletedByAge, deletedBySize, lastRunMs, lastError }),
  };
}

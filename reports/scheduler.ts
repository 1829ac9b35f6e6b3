import { Cron } from 'croner';
import { periodFor } from './period.js';
import type { ReportPolicy } from './policy.js';
import type { ReportMetrics } from './report-metrics.js';

/** Time and timers, injected so tests run a month of schedule in milliseconds. */
export interface ReportClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

/** Where the scheduled time of each policy's last run is kept across restarts. */
export interface LastRunStore {
  get(policy: string): Promise<number | null>;
  set(policy: string, scheduledAtMs: number): Promise<void>;
}

/** One run to do: the policy, the time it was scheduled for, and the period it covers. */
export interface ScheduledRun {
  readonly policy: ReportPolicy;
  readonly scheduledAtMs: number;
  readonly fromMs: number;
  readonly toMs: number;
  /** The run was missed (the process was down, or a run before it took too long). */
  readonly catchUp: boolean;
}

export interface ReportSchedulerLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

export interface ReportSchedulerDeps {
  readonly policies: readonly ReportPolicy[];
  /** Default: Date.now and unref'd Node timers. */
  readonly clock?: ReportClock;
  readonly lastRuns: LastRunStore;
  /** Computes, stores and delivers one report; a rejection is logged and counted, never retried. */
  readonly run: (r: ScheduledRun) => Promise<void>;
  readonly log?: ReportSchedulerLog;
  /** At most this many missed runs of one policy are caught up at once, the most recent. Default 100. */
  readonly maxCatchUp?: number;
  /**
   * When given, the scheduler counts its runs (trigger `scheduled` or `catch-up`), failures
   * and last success time; `run` then counts only its deliveries.
   */
  readonly metrics?: ReportMetrics;
}

export interface ReportSchedulerStats {
  /** Runs begun. */
  readonly runs: number;
  /** Runs whose `run` rejected. */
  readonly failures: number;
  /** Missed runs not caught up because there were more than maxCatchUp. */
  readonly skipped: number;
}

export interface ReportScheduler {
  /** Catches up the runs missed since each policy's last run, then arms the timers. */
  start(): Promise<void>;
  /** Clears the timers and waits for the run in flight; queued runs do not start. */
  stop(): Promise<void>;
  /** The next run of each scheduled policy, soonest first. */
  nextRuns(): Array<{ policy: string; atMs: number }>;
  stats(): ReportSchedulerStats;
}

/** Node's timers take at most a signed 32-bit delay (about 24.8 days); longer waits are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Beyond this many skipped runs, the count in the log says "at least". */
const SKIP_COUNT_LIMIT = 10_000;

const nodeClock: ReportClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    // Timers alone must not keep a process alive (the CLI's `report`, tests).
    h.unref();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const silent: ReportSchedulerLog = { info: () => {}, warn: () => {} };

interface Slot {
  readonly policy: ReportPolicy;
  readonly cron: Cron;
  /** Scheduled times after this one are still to run: the last run's, or the start time. */
  since: number;
  nextAtMs: number | null;
  timer: unknown;
}

/**
 * The report scheduler (STYLE.md "One component shape"): inert until start(). Each policy
 * with a `schedule` runs at the times of its cron pattern, read in the policy's time zone
 * by croner, and each run covers `periodFor(policy, scheduledAt)` — the scheduled time, not
 * the moment the run began, so a late or caught-up run covers the same period as an on-time
 * one. After every run, failed or not, the scheduled time is persisted: a failing report is
 * logged and counted once, not retried until it works, and never run twice across restarts.
 *
 * Runs are done one at a time across all policies. A month of 1,000 tunnels is computed in
 * bounded memory, and two such reports at 00:15 should not double it; it also means the runs
 * of one policy never overlap. Times that came due while a run was going are run after it,
 * oldest first, once each.
 */
export function createReportScheduler(deps: ReportSchedulerDeps): ReportScheduler {
  const clock = deps.clock ?? nodeClock;
  const log = deps.log ?? silent;
  const maxCatchUp = Math.max(1, deps.maxCatchUp ?? 100);
  const { lastRuns, metrics } = deps;
  const slots: Slot[] = deps.policies
    .filter((p) => p.schedule !== undefined)
    .map((policy) => ({
      policy,
      cron: new Cron(policy.schedule as string, { paused: true, timezone: policy.timezone }),
      since: 0,
      nextAtMs: null,
      timer: null,
    }));
  let state: 'created' | 'started' | 'stopped' = 'created';
  /** The chain all runs go through, one at a time; its links never reject. */
  let queue: Promise<void> = Promise.resolve();
  const counts = { runs: 0, failures: 0, skipped: 0 };

  const iso = (ms: number): string => new Date(ms).toISOString();

  function enqueue(task: () => Promise<void>): Promise<void> {
    queue = queue.then(task).catch((err: unknown) => {
      // Runs catch their own errors; this is for a bug in the scheduler itself.
      log.warn({ err: errorText(err) }, 'report scheduler task failed');
    });
    return queue;
  }

  /** The scheduled times in (since, now], oldest first, at most maxCatchUp (the latest). */
  function dueTimes(slot: Slot, now: number): number[] {
    const times: number[] = [];
    let at = slot.cron.nextRun(new Date(slot.since));
    while (at !== null && at.getTime() <= now && times.length <= maxCatchUp) {
      times.push(at.getTime());
      at = slot.cron.nextRun(at);
    }
    if (times.length <= maxCatchUp) return times;
    // More are due than we catch up: keep the latest (the data of older periods is the first
    // to go by retention, and the latest is what someone is waiting for).
    const kept = slot.cron
      .previousRuns(maxCatchUp, new Date(now + 1))
      .map((d) => d.getTime())
      .filter((t) => t > slot.since)
      .sort((a, b) => a - b);
    const firstKept = kept[0] ?? now;
    let skipped = 0;
    for (
      let t = slot.cron.nextRun(new Date(slot.since));
      t !== null && t.getTime() < firstKept && skipped < SKIP_COUNT_LIMIT;
      t = slot.cron.nextRun(t)
    ) {
      skipped++;
    }
    counts.skipped += skipped;
    log.warn(
      {
        policy: slot.policy.name,
        skipped: skipped < SKIP_COUNT_LIMIT ? skipped : `${SKIP_COUNT_LIMIT}+`,
        skippedAfter: iso(slot.since),
        skippedBefore: iso(firstKept),
        maxCatchUp,
      },
      'report runs missed beyond the catch-up limit are skipped',
    );
    return kept;
  }

  async function runOne(slot: Slot, scheduledAtMs: number, catchUp: boolean): Promise<void> {
    const { policy } = slot;
    const { fromMs, toMs } = periodFor(policy, scheduledAtMs);
    const run: ScheduledRun = Object.freeze({ policy, scheduledAtMs, fromMs, toMs, catchUp });
    const fields = {
      policy: policy.name,
      scheduledAt: iso(scheduledAtMs),
      from: iso(fromMs),
      to: iso(toMs),
      catchUp,
    };
    counts.runs++;
    metrics?.run(policy.name, catchUp ? 'catch-up' : 'scheduled');
    const began = clock.now();
    try {
      await deps.run(run);
      const done = clock.now();
      metrics?.success(policy.name, done);
      log.info({ ...fields, ms: done - began }, 'report run done');
    } catch (err) {
      counts.failures++;
      metrics?.failure(policy.name);
      log.warn({ ...fields, err: errorText(err) }, 'report run failed (not retried)');
    }
    // Done with this time whatever happened, even if it cannot be saved: in this process it
    // is not run again, and at worst a restart runs it once more.
    slot.since = scheduledAtMs;
    try {
      await lastRuns.set(policy.name, scheduledAtMs);
    } catch (err) {
      log.warn({ ...fields, err: errorText(err) }, 'report last run not saved');
    }
  }

  /** Runs every due time of a slot, oldest first, until none is due; then arms its timer. */
  async function drain(slot: Slot, atStart: boolean): Promise<void> {
    for (;;) {
      if (state !== 'started') return;
      const times = dueTimes(slot, clock.now());
      if (times.length === 0) break;
      if (atStart) {
        log.info(
          { policy: slot.policy.name, runs: times.length, from: iso(times[0] as number) },
          'report catch-up',
        );
      }
      for (const [i, t] of times.entries()) {
        if (state !== 'started') return;
        // Only the latest due time of a timer's batch is on time; earlier ones were missed.
        await runOne(slot, t, atStart || i < times.length - 1);
      }
    }
    arm(slot);
  }

  function arm(slot: Slot): void {
    if (state !== 'started') return;
    // From the last time run, never from now: a time that came due since is run at once.
    const next = slot.cron.nextRun(new Date(slot.since));
    slot.nextAtMs = next === null ? null : next.getTime();
    if (slot.nextAtMs === null) return;
    const delay = Math.min(Math.max(slot.nextAtMs - clock.now(), 0), MAX_TIMER_MS);
    slot.timer = clock.setTimeout(() => fire(slot), delay);
  }

  function fire(slot: Slot): void {
    slot.timer = null;
    if (state !== 'started' || slot.nextAtMs === null) return;
    // Early: the wait was chained (longer than a timer takes), or the clock was set back.
    if (clock.now() < slot.nextAtMs) {
      arm(slot);
      return;
    }
    void enqueue(() => drain(slot, false));
  }

  function nextRuns(): Array<{ policy: string; atMs: number }> {
    return slots
      .filter((s) => s.nextAtMs !== null)
      .map((s) => ({ policy: s.policy.name, atMs: s.nextAtMs as number }))
      .sort((a, b) => a.atMs - b.atMs);
  }

  return {
    async start() {
      if (state !== 'created') throw new Error(`the report scheduler cannot start: it is ${state}`);
      state = 'started';
      const now = clock.now();
      for (const slot of slots) {
        let last: number | null = null;
        try {
          last = await lastRuns.get(slot.policy.name);
        } catch (err) {
          log.warn(
            { policy: slot.policy.name, err: errorText(err) },
            'report last run not read; starting from now (no catch-up)',
          );
        }
        // Never run before: nothing to catch up, the schedule starts now.
        slot.since = last ?? now;
      }
      // Sequential: one catch-up at a time, like every run.
      for (const slot of slots) await enqueue(() => drain(slot, true));
      if (state !== 'started') return;
      log.info(
        { policies: slots.length, next: nextRuns().map((r) => ({ policy: r.policy, at: iso(r.atMs) })) },
        'report scheduler started',
      );
    },

    async stop() {
      if (state === 'created') {
        state = 'stopped';
        return;
      }
      state = 'stopped';
      for (const slot of slots) {
        if (slot.timer !== null) clock.clearTimeout(slot.timer);
        slot.timer = null;
        slot.nextAtMs = null;
      }
      await queue;
    },

    nextRuns,

    stats: () => ({ ...counts }),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

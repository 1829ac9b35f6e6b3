import type { LastRunStore, ReportClock } from '../../reports/scheduler.js';

/** Lets every pending promise continuation run (the scheduler's work is all promise chains). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock whose time moves only when a test says so. advanceTo() fires the due timers in
 * time order, each with the clock set to its due time, and lets the work they start settle
 * before the next one, as a real event loop would.
 */
export class FakeReportClock implements ReportClock {
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  /** Every delay a timer was set with. */
  readonly delays: number[] = [];

  constructor(private nowMs: number) {}

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.delays.push(ms);
    this.timers.set(id, { at: this.nowMs + ms, fn });
    return id;
  }

  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }

  /** Timers set and neither fired nor cleared. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time without firing anything (a process that was down, or stuck in a long run). */
  set(ms: number): void {
    this.nowMs = ms;
  }

  async advanceTo(targetMs: number): Promise<void> {
    await settle();
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= targetMs && (first === undefined || entry[1].at < first[1].at)) first = entry;
      }
      if (first === undefined) break;
      this.timers.delete(first[0]);
      this.nowMs = Math.max(this.nowMs, first[1].at);
      first[1].fn();
      await settle();
    }
    this.nowMs = Math.max(this.nowMs, targetMs);
    await settle();
  }
}

/** The last-run store in memory, with what was written to it. */
export class MemoryLastRuns implements LastRunStore {
  readonly writes: Array<{ policy: string; scheduledAtMs: number }> = [];
  readonly values = new Map<string, number>();

  constructor(initial: Record<string, number> = {}) {
    for (const [k, v] of Object.entries(initial)) this.values.set(k, v);
  }

  get(policy: string): Promise<number | null> {
    return Promise.resolve(this.values.get(policy) ?? null);
  }

  set(policy: string, scheduledAtMs: number): Promise<void> {
    this.writes.push({ policy, scheduledAtMs });
    this.values.set(policy, scheduledAtMs);
    return Promise.resolve();
  }
}

import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { reportPolicySchema } from '../../reports/policy.js';
import type { ReportPolicy } from '../../reports/policy.js';
import { createReportMetrics } from '../../reports/report-metrics.js';
import { createReportScheduler, MAX_TIMER_MS } from '../../reports/scheduler.js';
import type { ReportSchedulerDeps, ScheduledRun } from '../../reports/scheduler.js';
import { FakeReportClock, MemoryLastRuns, settle } from './fake-report-clock.js';

const HOUR = 3_600_000;
const t = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

function policy(fields: Record<string, unknown>): ReportPolicy {
  return reportPolicySchema.parse(fields);
}

/** "2026-03-30 00:15" in the zone. */
function local(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(ms);
}

interface Seen {
  readonly policy: string;
  readonly at: string;
  readonly from: string;
  readonly to: string;
  readonly hours: number;
  readonly catchUp: boolean;
  /** The clock when the run began. */
  readonly began: string;
}

function harness(
  policies: ReportPolicy[],
  startIso: string,
  initial: Record<string, number> = {},
  extra: Partial<ReportSchedulerDeps> = {},
) {
  const clock = new FakeReportClock(t(startIso));
  const lastRuns = new MemoryLastRuns(initial);
  const seen: Seen[] = [];
  const logs: Array<{ level: 'info' | 'warn'; o: object; m: string }> = [];
  const deps: ReportSchedulerDeps = {
    policies,
    clock,
    lastRuns,
    log: {
      info: (o, m) => logs.push({ level: 'info', o, m }),
      warn: (o, m) => logs.push({ level: 'warn', o, m }),
    },
    run: (r: ScheduledRun) => {
      seen.push({
        policy: r.policy.name,
        at: iso(r.scheduledAtMs),
        from: iso(r.fromMs),
        to: iso(r.toMs),
        hours: (r.toMs - r.fromMs) / HOUR,
        catchUp: r.catchUp,
        began: iso(clock.now()),
      });
      return Promise.resolve();
    },
    ...extra,
  };
  const scheduler = createReportScheduler(deps);
  return { clock, lastRuns, seen, logs, scheduler, deps };
}

describe('report scheduler: on time', () => {
  test('a daily policy runs at its time, covers the day before, and re-arms', async () => {
    const daily = policy({ name: 'daily', schedule: '15 0 * * *', period: 'previousDay' });
    const h = harness([daily], '2026-05-01T10:00:00Z');
    await h.scheduler.start();
    expect(h.seen).toEqual([]);
    expect(h.scheduler.nextRuns()).toEqual([{ policy: 'daily', atMs: t('2026-05-02T00:15:00Z') }]);

    await h.clock.advanceTo(t('2026-05-02T00:14:59.999Z'));
    expect(h.seen).toEqual([]);
    await h.clock.advanceTo(t('2026-05-02T00:15:00Z'));
    expect(h.seen).toEqual([
      {
        policy: 'daily',
        at: '2026-05-02T00:15:00.000Z',
        from: '2026-05-01T00:00:00.000Z',
        to: '2026-05-02T00:00:00.000Z',
        hours: 24,
        catchUp: false,
        began: '2026-05-02T00:15:00.000Z',
      },
    ]);
    expect(await h.lastRuns.get('daily')).toBe(t('2026-05-02T00:15:00Z'));
    expect(h.scheduler.nextRuns()).toEqual([{ policy: 'daily', atMs: t('2026-05-03T00:15:00Z') }]);

    await h.clock.advanceTo(t('2026-05-05T12:00:00Z'));
    expect(h.seen.map((s) => s.at)).toEqual([
      '2026-05-02T00:15:00.000Z',
      '2026-05-03T00:15:00.000Z',
      '2026-05-04T00:15:00.000Z',
      '2026-05-05T00:15:00.000Z',
    ]);
    expect(h.seen.every((s) => !s.catchUp && s.began === s.at)).toBe(true);
    expect(h.scheduler.stats()).toEqual({ runs: 4, failures: 0, skipped: 0 });
    await h.scheduler.stop();
    expect(h.clock.pending()).toBe(0);
  });

  test('policies without a schedule are on demand only; several policies each keep their time', async () => {
    const h = harness(
      [
        policy({ name: 'adhoc' }),
        policy({ name: 'hourly', schedule: '0 * * * *', period: { last: '1h' } }),
        policy({ name: 'weekly', schedule: '0 6 * * 1', period: 'previousWeek' }),
      ],
      // A Saturday.
      '2026-05-02T22:30:00Z',
    );
    await h.scheduler.start();
    expect(h.scheduler.nextRuns()).toEqual([
      { policy: 'hourly', atMs: t('2026-05-02T23:00:00Z') },
      { policy: 'weekly', atMs: t('2026-05-04T06:00:00Z') },
    ]);
    await h.clock.advanceTo(t('2026-05-04T06:30:00Z'));
    expect(h.seen.filter((s) => s.policy === 'adhoc')).toEqual([]);
    expect(h.seen.filter((s) => s.policy === 'hourly')).toHaveLength(32);
    expect(h.seen.filter((s) => s.policy === 'hourly')[0]).toMatchObject({
      at: '2026-05-02T23:00:00.000Z',
      from: '2026-05-02T22:00:00.000Z',
      to: '2026-05-02T23:00:00.000Z',
    });
    expect(h.seen.filter((s) => s.policy === 'weekly')).toEqual([
      {
        policy: 'weekly',
        at: '2026-05-04T06:00:00.000Z',
        from: '2026-04-27T00:00:00.000Z',
        to: '2026-05-04T00:00:00.000Z',
        hours: 168,
        catchUp: false,
        began: '2026-05-04T06:00:00.000Z',
      },
    ]);
    await h.scheduler.stop();
  });

  test('a wait longer than a Node timer can take is chained, and the run is still on time', async () => {
    const monthly = policy({ name: 'monthly', schedule: '0 0 1 * *', period: 'previousMonth' });
    const h = harness([monthly], '2026-01-01T00:00:01Z');
    await h.scheduler.start();
    // 31 days minus a second: more than 2^31-1 ms (24.8 days).
    expect(t('2026-02-01T00:00:00Z') - h.clock.now()).toBeGreaterThan(MAX_TIMER_MS);
    await h.clock.advanceTo(t('2026-03-01T00:00:00Z'));
    expect(Math.max(...h.clock.delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(h.clock.delays.length).toBeGreaterThanOrEqual(3);
    expect(h.seen).toEqual([
      {
        policy: 'monthly',
        at: '2026-02-01T00:00:00.000Z',
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-02-01T00:00:00.000Z',
        hours: 31 * 24,
        catchUp: false,
        began: '2026-02-01T00:00:00.000Z',
      },
      {
        policy: 'monthly',
        at: '2026-03-01T00:00:00.000Z',
        from: '2026-02-01T00:00:00.000Z',
        to: '2026-03-01T00:00:00.000Z',
        hours: 28 * 24,
        catchUp: false,
        began: '2026-03-01T00:00:00.000Z',
      },
    ]);
    await h.scheduler.stop();
  });
});

describe('report scheduler: a time zone with DST changes', () => {
  const zurich = policy({
    name: 'zurich',
    schedule: '15 0 * * *',
    period: 'previousDay',
    timezone: 'Europe/Zurich',
  });

  test('spring forward: 00:15 local every day, the 29th of March is 23 hours', async () => {
    const h = harness([zurich], '2026-03-27T12:00:00+01:00', { zurich: t('2026-03-27T00:15:00+01:00') });
    await h.scheduler.start();
    await h.clock.advanceTo(t('2026-04-01T12:00:00+02:00'));
    expect(h.seen.map((s) => [local(t(s.began), 'Europe/Zurich'), s.hours, s.catchUp])).toEqual([
      ['2026-03-28 00:15', 24, false],
      ['2026-03-29 00:15', 24, false],
      ['2026-03-30 00:15', 23, false],
      ['2026-03-31 00:15', 24, false],
      ['2026-04-01 00:15', 24, false],
    ]);
    expect(h.seen[2]).toMatchObject({
      at: '2026-03-29T22:15:00.000Z',
      from: '2026-03-28T23:00:00.000Z',
      to: '2026-03-29T22:00:00.000Z',
    });
    // Consecutive periods tile: no minute reported twice or left out.
    for (let i = 1; i < h.seen.length; i++) expect(h.seen[i]?.from).toBe(h.seen[i - 1]?.to);
    await h.scheduler.stop();
  });

  test('fall back: 00:15 local every day, the 25th of October is 25 hours', async () => {
    const h = harness([zurich], '2026-10-23T12:00:00+02:00', { zurich: t('2026-10-23T00:15:00+02:00') });
    await h.scheduler.start();
    await h.clock.advanceTo(t('2026-10-28T12:00:00+01:00'));
    expect(h.seen.map((s) => [local(t(s.began), 'Europe/Zurich'), s.hours])).toEqual([
      ['2026-10-24 00:15', 24],
      ['2026-10-25 00:15', 24],
      ['2026-10-26 00:15', 25],
      ['2026-10-27 00:15', 24],
      ['2026-10-28 00:15', 24],
    ]);
    expect(h.seen[2]).toMatchObject({
      at: '2026-10-25T23:15:00.000Z',
      from: '2026-10-24T22:00:00.000Z',
      to: '2026-10-25T23:00:00.000Z',
    });
    for (let i = 1; i < h.seen.length; i++) expect(h.seen[i]?.from).toBe(h.seen[i - 1]?.to);
    await h.scheduler.stop();
  });
});

describe('report scheduler: a time inside the DST change', () => {
  test('02:30 local: after the gap on the day it does not exist, once on the day it happens twice', async () => {
    const night = policy({
      name: 'night',
      schedule: '30 2 * * *',
      period: 'previousDay',
      timezone: 'Europe/Zurich',
    });
    const h = harness([night], '2026-03-27T12:00:00+01:00', { night: t('2026-03-27T02:30:00+01:00') });
    await h.scheduler.start();
    await h.clock.advanceTo(t('2026-03-31T12:00:00+02:00'));
    expect(h.seen.map((s) => [local(t(s.began), 'Europe/Zurich'), s.hours])).toEqual([
      ['2026-03-28 02:30', 24],
      // 02:30 does not exist on the 29th (02:00 → 03:00): croner runs a fixed-time job at the
      // first minute after the gap.
      ['2026-03-29 03:00', 24],
      ['2026-03-30 02:30', 23],
      ['2026-03-31 02:30', 24],
    ]);
    await h.scheduler.stop();

    const fall = harness([night], '2026-10-24T12:00:00+02:00', { night: t('2026-10-24T02:30:00+02:00') });
    await fall.scheduler.start();
    await fall.clock.advanceTo(t('2026-10-27T12:00:00+01:00'));
    // 02:30 happens twice on the 25th (03:00 → 02:00): one run, at the first.
    expect(fall.seen.map((s) => [s.at, s.hours])).toEqual([
      ['2026-10-25T00:30:00.000Z', 24],
      ['2026-10-26T01:30:00.000Z', 25],
      ['2026-10-27T01:30:00.000Z', 24],
    ]);
    for (let i = 1; i < fall.seen.length; i++) expect(fall.seen[i]?.from).toBe(fall.seen[i - 1]?.to);
    await fall.scheduler.stop();
  });
});

describe('report scheduler: catch-up at start', () => {
  const daily = policy({ name: 'daily', schedule: '15 0 * * *', period: 'previousDay' });

  test('a downtime of three periods: three runs, oldest first, none twice, then the schedule', async () => {
    // Last run on May 1st at 00:15; the process was down from then until May 4th noon.
    const h = harness([daily], '2026-05-04T12:00:00Z', { daily: t('2026-05-01T00:15:00Z') });
    await h.scheduler.start();
    expect(h.seen).toEqual([
      {
        policy: 'daily',
        at: '2026-05-02T00:15:00.000Z',
        from: '2026-05-01T00:00:00.000Z',
        to: '2026-05-02T00:00:00.000Z',
        hours: 24,
        catchUp: true,
        began: '2026-05-04T12:00:00.000Z',
      },
      {
        policy: 'daily',
        at: '2026-05-03T00:15:00.000Z',
        from: '2026-05-02T00:00:00.000Z',
        to: '2026-05-03T00:00:00.000Z',
        hours: 24,
        catchUp: true,
        began: '2026-05-04T12:00:00.000Z',
      },
      {
        policy: 'daily',
        at: '2026-05-04T00:15:00.000Z',
        from: '2026-05-03T00:00:00.000Z',
        to: '2026-05-04T00:00:00.000Z',
        hours: 24,
        catchUp: true,
        began: '2026-05-04T12:00:00.000Z',
      },
    ]);
    expect(h.lastRuns.writes.map((w) => iso(w.scheduledAtMs))).toEqual([
      '2026-05-02T00:15:00.000Z',
      '2026-05-03T00:15:00.000Z',
      '2026-05-04T00:15:00.000Z',
    ]);
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'info', m: 'report catch-up' }));

    await h.clock.advanceTo(t('2026-05-06T12:00:00Z'));
    expect(h.seen.slice(3).map((s) => [s.at, s.catchUp])).toEqual([
      ['2026-05-05T00:15:00.000Z', false],
      ['2026-05-06T00:15:00.000Z', false],
    ]);
    await h.scheduler.stop();

    // A restart with the same store runs nothing twice.
    const again = harness([daily], '2026-05-06T13:00:00Z', Object.fromEntries(h.lastRuns.values));
    await again.scheduler.start();
    expect(again.seen).toEqual([]);
    await again.clock.advanceTo(t('2026-05-07T00:15:00Z'));
    expect(again.seen.map((s) => s.at)).toEqual(['2026-05-07T00:15:00.000Z']);
    await again.scheduler.stop();

    const all = [...h.seen, ...again.seen].map((s) => s.at);
    expect(new Set(all).size).toBe(all.length);
  });

  test('a policy never run before starts from now: nothing is caught up', async () => {
    const h = harness([daily], '2026-05-04T12:00:00Z');
    await h.scheduler.start();
    expect(h.seen).toEqual([]);
    expect(h.lastRuns.writes).toEqual([]);
    expect(h.scheduler.nextRuns()).toEqual([{ policy: 'daily', atMs: t('2026-05-05T00:15:00Z') }]);
    await h.scheduler.stop();
  });

  test('more missed runs than maxCatchUp: the latest are run, the rest skipped and logged', async () => {
    const hourly = policy({ name: 'hourly', schedule: '0 * * * *', period: { last: '1h' } });
    const registry = new Registry();
    const h = harness(
      [hourly],
      '2026-05-01T10:30:00Z',
      { hourly: t('2026-05-01T00:00:00Z') },
      {
        maxCatchUp: 3,
        metrics: createReportMetrics(registry, ['hourly']),
      },
    );
    await h.scheduler.start();
    // Due: 01:00 .. 10:00 (ten runs); kept: 08:00, 09:00, 10:00.
    expect(h.seen.map((s) => [s.at, s.catchUp])).toEqual([
      ['2026-05-01T08:00:00.000Z', true],
      ['2026-05-01T09:00:00.000Z', true],
      ['2026-05-01T10:00:00.000Z', true],
    ]);
    expect(h.scheduler.stats()).toEqual({ runs: 3, failures: 0, skipped: 7 });
    expect(h.logs).toContainEqual({
      level: 'warn',
      o: {
        policy: 'hourly',
        skipped: 7,
        skippedAfter: '2026-05-01T00:00:00.000Z',
        skippedBefore: '2026-05-01T08:00:00.000Z',
        maxCatchUp: 3,
      },
      m: 'report runs missed beyond the catch-up limit are skipped',
    });
    const text = await registry.metrics();
    expect(text).toContain('tunnelflow_report_runs_total{policy="hourly",trigger="catch-up"} 3');
    expect(text).toContain('tunnelflow_report_runs_total{policy="hourly",trigger="scheduled"} 0');
    await h.clock.advanceTo(t('2026-05-01T11:00:00Z'));
    expect(h.seen.at(-1)).toMatchObject({ at: '2026-05-01T11:00:00.000Z', catchUp: false });
    expect(await registry.metrics()).toContain(
      'tunnelflow_report_runs_total{policy="hourly",trigger="scheduled"} 1',
    );
    await h.scheduler.stop();
  });

  test('exactly maxCatchUp missed runs: all run, none skipped', async () => {
    const hourly = policy({ name: 'hourly', schedule: '0 * * * *', period: { last: '1h' } });
    const h = harness(
      [hourly],
      '2026-05-01T03:00:00Z',
      { hourly: t('2026-05-01T00:00:00Z') },
      { maxCatchUp: 3 },
    );
    await h.scheduler.start();
    expect(h.seen.map((s) => s.at)).toEqual([
      '2026-05-01T01:00:00.000Z',
      '2026-05-01T02:00:00.000Z',
      '2026-05-01T03:00:00.000Z',
    ]);
    expect(h.scheduler.stats().skipped).toBe(0);
    await h.scheduler.stop();
  });

  test('a last run that cannot be read is logged, and the policy starts from now', async () => {
    const h = harness([daily], '2026-05-04T12:00:00Z', {}, {});
    h.lastRuns.get = () => Promise.reject(new Error('database is locked'));
    await h.scheduler.start();
    expect(h.seen).toEqual([]);
    expect(h.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', o: { policy: 'daily', err: 'database is locked' } }),
    );
    await h.clock.advanceTo(t('2026-05-05T00:15:00Z'));
    expect(h.seen.map((s) => s.at)).toEqual(['2026-05-05T00:15:00.000Z']);
    await h.scheduler.stop();
  });
});

describe('report scheduler: failures', () => {
  const daily = policy({ name: 'daily', schedule: '15 0 * * *', period: 'previousDay' });

  test('a failing run is logged and counted once, its time persisted, and the next period runs', async () => {
    const registry = new Registry();
    const h = harness([daily], '2026-05-01T12:00:00Z', {}, { metrics: createReportMetrics(registry) });
    let calls = 0;
    const scheduler = createReportScheduler({
      ...h.deps,
      run: (r) => {
        calls++;
        if (r.scheduledAtMs === t('2026-05-02T00:15:00Z')) return Promise.reject(new Error('disk full'));
        if (r.scheduledAtMs === t('2026-05-03T00:15:00Z')) throw new Error('thrown, not rejected');
        return Promise.resolve();
      },
    });
    await scheduler.start();
    await h.clock.advanceTo(t('2026-05-04T12:00:00Z'));
    expect(calls).toBe(3);
    expect(scheduler.stats()).toEqual({ runs: 3, failures: 2, skipped: 0 });
    expect(h.lastRuns.writes.map((w) => iso(w.scheduledAtMs))).toEqual([
      '2026-05-02T00:15:00.000Z',
      '2026-05-03T00:15:00.000Z',
      '2026-05-04T00:15:00.000Z',
    ]);
    const failed = h.logs.filter((l) => l.m === 'report run failed (not retried)');
    expect(failed.map((l) => l.o)).toEqual([
      expect.objectContaining({ policy: 'daily', scheduledAt: '2026-05-02T00:15:00.000Z', err: 'disk full' }),
      expect.objectContaining({ scheduledAt: '2026-05-03T00:15:00.000Z', err: 'thrown, not rejected' }),
    ]);
    const text = await registry.metrics();
    expect(text).toContain('tunnelflow_report_failures_total{policy="daily"} 2');
    expect(text).toContain(
      `tunnelflow_report_last_success_seconds{policy="daily"} ${t('2026-05-04T00:15:00Z') / 1000}`,
    );
    await scheduler.stop();
  });

  test('a last run that cannot be saved is logged, and the time is not run again', async () => {
    const h = harness([daily], '2026-05-01T12:00:00Z');
    h.lastRuns.set = () => Promise.reject(new Error('read-only database'));
    await h.scheduler.start();
    await h.clock.advanceTo(t('2026-05-03T12:00:00Z'));
    expect(h.seen.map((s) => s.at)).toEqual(['2026-05-02T00:15:00.000Z', '2026-05-03T00:15:00.000Z']);
    expect(h.logs.filter((l) => l.m === 'report last run not saved')).toHaveLength(2);
    await h.scheduler.stop();
  });
});

describe('report scheduler: runs never overlap; stop', () => {
  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { opened, open };
  }

  test('times that come due during a long run are run after it, once each, one at a time', async () => {
    const minutely = policy({ name: 'minutely', schedule: '* * * * *', period: { last: '1m' } });
    const other = policy({ name: 'other', schedule: '* * * * *', period: { last: '1m' } });
    const clock = new FakeReportClock(t('2026-05-01T00:00:30Z'));
    const lastRuns = new MemoryLastRuns();
    let active = 0;
    let maxActive = 0;
    const runs: Array<[string, string, boolean]> = [];
    const slow = gate();
    const scheduler = createReportScheduler({
      policies: [minutely, other],
      clock,
      lastRuns,
      run: async (r) => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push([r.policy.name, iso(r.scheduledAtMs), r.catchUp]);
        if (runs.length === 1) await slow.opened;
        active--;
      },
    });
    await scheduler.start();
    await clock.advanceTo(t('2026-05-01T00:01:00Z'));
    // The first run (minutely at 00:01) hangs; other's 00:01 waits behind it.
    expect(runs).toEqual([['minutely', '2026-05-01T00:01:00.000Z', false]]);
    // Three minutes pass with the run stuck.
    clock.set(t('2026-05-01T00:04:10Z'));
    slow.open();
    await settle();
    await clock.advanceTo(t('2026-05-01T00:04:10Z'));
    expect(maxActive).toBe(1);
    expect(runs).toEqual([
      ['minutely', '2026-05-01T00:01:00.000Z', false],
      ['minutely', '2026-05-01T00:02:00.000Z', true],
      ['minutely', '2026-05-01T00:03:00.000Z', true],
      ['minutely', '2026-05-01T00:04:00.000Z', false],
      ['other', '2026-05-01T00:01:00.000Z', true],
      ['other', '2026-05-01T00:02:00.000Z', true],
      ['other', '2026-05-01T00:03:00.000Z', true],
      ['other', '2026-05-01T00:04:00.000Z', false],
    ]);
    await clock.advanceTo(t('2026-05-01T00:05:00Z'));
    expect(runs.slice(8).map((r) => r[1])).toEqual(['2026-05-01T00:05:00.000Z', '2026-05-01T00:05:00.000Z']);
    await scheduler.stop();
  });

  test('stop during a run waits for it, clears the timers, and nothing runs after', async () => {
    const daily = policy({ name: 'daily', schedule: '15 0 * * *', period: 'previousDay' });
    const hourly = policy({ name: 'hourly', schedule: '0 * * * *', period: { last: '1h' } });
    const clock = new FakeReportClock(t('2026-05-01T23:30:00Z'));
    const lastRuns = new MemoryLastRuns();
    const slow = gate();
    const runs: string[] = [];
    let finished = 0;
    const scheduler = createReportScheduler({
      policies: [daily, hourly],
      clock,
      lastRuns,
      run: async (r) => {
        runs.push(`${r.policy.name} ${iso(r.scheduledAtMs)}`);
        await slow.opened;
        finished++;
      },
    });
    await scheduler.start();
    expect(clock.pending()).toBe(2);
    await clock.advanceTo(t('2026-05-02T00:00:00Z'));
    expect(runs).toEqual(['hourly 2026-05-02T00:00:00.000Z']);

    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    expect(clock.pending()).toBe(0);
    expect(scheduler.nextRuns()).toEqual([]);

    slow.open();
    await stopping;
    expect(stopped).toBe(true);
    expect(finished).toBe(1);
    // The run in flight completed and was recorded; nothing else starts.
    expect(await lastRuns.get('hourly')).toBe(t('2026-05-02T00:00:00Z'));
    await clock.advanceTo(t('2026-05-03T00:00:00Z'));
    expect(runs).toEqual(['hourly 2026-05-02T00:00:00.000Z']);
    await expect(scheduler.start()).rejects.toThrow(/stopped/);
  });

  test('stop during the catch-up at start: the run in flight ends, the rest waits for the next start', async () => {
    const daily = policy({ name: 'daily', schedule: '15 0 * * *', period: 'previousDay' });
    const clock = new FakeReportClock(t('2026-05-04T12:00:00Z'));
    const lastRuns = new MemoryLastRuns({ daily: t('2026-05-01T00:15:00Z') });
    const slow = gate();
    const runs: string[] = [];
    const scheduler = createReportScheduler({
      policies: [daily],
      clock,
      lastRuns,
      run: async (r) => {
        runs.push(iso(r.scheduledAtMs));
        await slow.opened;
      },
    });
    const starting = scheduler.start();
    await settle();
    expect(runs).toEqual(['2026-05-02T00:15:00.000Z']);
    const stopping = scheduler.stop();
    slow.open();
    await Promise.all([starting, stopping]);
    expect(runs).toEqual(['2026-05-02T00:15:00.000Z']);
    expect(clock.pending()).toBe(0);
    expect(await lastRuns.get('daily')).toBe(t('2026-05-02T00:15:00Z'));

    // The next start catches up the two left.
    const next = createReportScheduler({
      policies: [daily],
      clock,
      lastRuns,
      run: (r) => {
        runs.push(iso(r.scheduledAtMs));
        return Promise.resolve();
      },
    });
    await next.start();
    expect(runs).toEqual([
      '2026-05-02T00:15:00.000Z',
      '2026-05-03T00:15:00.000Z',
      '2026-05-04T00:15:00.000Z',
    ]);
    await next.stop();
  });

  test('stop before start is fine; start twice is refused', async () => {
    const daily = policy({ name: 'daily', schedule: '15 0 * * *' });
    const clock = new FakeReportClock(t('2026-05-01T00:00:00Z'));
    const a = createReportScheduler({
      policies: [daily],
      clock,
      lastRuns: new MemoryLastRuns(),
      run: () => Promise.resolve(),
    });
    await a.stop();
    expect(clock.pending()).toBe(0);
    const b = createReportScheduler({
      policies: [daily],
      clock,
      lastRuns: new MemoryLastRuns(),
      run: () => Promise.resolve(),
    });
    await b.start();
    await expect(b.start()).rejects.toThrow(/started/);
    await b.stop();
  });

  test('with the real clock: a run every second happens, and stop lets the process go', async () => {
    const everySecond = policy({ name: 'fast', schedule: '* * * * * *', period: { last: '1m' } });
    const runs: ScheduledRun[] = [];
    const scheduler = createReportScheduler({
      policies: [everySecond],
      lastRuns: new MemoryLastRuns(),
      run: (r) => {
        runs.push(r);
        return Promise.resolve();
      },
    });
    const before = Date.now();
    await scheduler.start();
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    await scheduler.stop();
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const r of runs) {
      expect(r.scheduledAtMs % 1000).toBe(0);
      expect(r.scheduledAtMs).toBeGreaterThan(before);
      expect(r.toMs % 60_000).toBe(0);
    }
    expect(new Set(runs.map((r) => r.scheduledAtMs)).size).toBe(runs.length);
  });
});

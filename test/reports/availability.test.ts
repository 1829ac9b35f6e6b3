import { describe, expect, test } from 'vitest';
import { computeAvailability } from '../../reports/availability.js';
import type { ReportMinute } from '../../reports/availability.js';
import { maintenanceSpans, reportPolicySchema } from '../../reports/policy.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');

/**
 * A minute series as text, one character per minute: `.` good (ESP both ways, no loss),
 * `x` high loss (2 % each way), `o` one-way, `i` idle (a row, nothing carried), `_` no data.
 */
function series(text: string): ReportMinute[] {
  const out: ReportMinute[] = [];
  [...text].forEach((c, i) => {
    const start = T0 + i * MIN;
    if (c === '_') return;
    if (c === 'i') out.push({ start, state: 'idle', aToBLossRatio: null, bToALossRatio: null });
    else if (c === 'o') out.push({ start, state: 'one-way', aToBLossRatio: 0, bToALossRatio: null });
    else out.push({ start, state: 'up', aToBLossRatio: c === 'x' ? 0.02 : 0, bToALossRatio: 0 });
  });
  return out;
}

function run(
  text: string,
  policy: Record<string, unknown> = {},
  maintenance: Array<{ from: number; to: number }> = [],
) {
  return computeAvailability(
    series(text),
    T0,
    T0 + text.length * MIN,
    MIN,
    reportPolicySchema.parse({ consecutiveMinutes: 5, ...policy }),
    maintenance,
  );
}

describe('the sliding-window availability rule (MEF 10.3 / Y.1540, n = 5)', () => {
  test.each([
    // text, unavailable minutes, HLI, CHLI, intervals as [first minute, end minute)
    ['..........', 0, 0, 0, []],
    ['...xxxx...', 0, 4, 1, []], // n−1 bad minutes: still available, all four are HLI, one run
    ['...xxxxx..', 7, 0, 0, [[3, 10]]], // n bad: unavailable from the first of them, until n good
    ['...xxxxx.....', 5, 0, 0, [[3, 8]]],
    ['xxxxx.x...', 10, 0, 0, [[0, 10]]], // one good minute does not end it
    ['xxxxx.....', 5, 0, 0, [[0, 5]]], // n good minutes end it at the first of them
    ['xxxxx....x....', 14, 0, 0, [[0, 14]]], // a bad minute resets the recovery count
    ['.x.x.x.x.x', 0, 5, 0, []], // scattered: HLI, no consecutive run
    ['xx.xx.xxx.', 0, 7, 3, []],
    ['ooooo.....', 5, 0, 0, [[0, 5]]], // one-way minutes are high-loss
    [
      'xxxxx.....xxxxx',
      10,
      0,
      0,
      [
        [0, 5],
        [10, 15],
      ],
    ],
  ] as const)('%s', (text, unavailable, hli, chli, intervals) => {
    const r = run(text);
    expect(r.minutes.unavailable).toBe(unavailable);
    expect(r.minutes.available).toBe(text.length - unavailable);
    expect(r.availability).toBe((text.length - unavailable) / text.length);
    expect(r.hli).toBe(hli);
    expect(r.chli).toBe(chli);
    expect(r.unavailableIntervals).toEqual(
      intervals.map(([a, b]) => ({ startMs: T0 + a * MIN, endMs: T0 + b * MIN })),
    );
  });

  test('n = 1 makes every high-loss minute unavailable and every good minute available', () => {
    const r = run('.x.xx.', { consecutiveMinutes: 1 });
    expect(r.minutes.unavailable).toBe(3);
    expect(r.hli).toBe(0);
  });

  test('no-data minutes are out of scope and neither count nor break a run', () => {
    const r = run('xx__xxx.....');
    expect(r.minutes.noData).toBe(2);
    expect(r.minutes.inScope).toBe(10);
    expect(r.minutes.unavailable).toBe(5);
    expect(r.availability).toBe(5 / 10);
    expect(r.unavailableIntervals).toEqual([
      { startMs: T0, endMs: T0 + 2 * MIN },
      { startMs: T0 + 4 * MIN, endMs: T0 + 7 * MIN },
    ]);
  });

  test('idle minutes are out of scope, unless traffic is expected: then they are high-loss', () => {
    const idle = run('..iiiii.....');
    expect(idle.minutes.idle).toBe(5);
    expect(idle.minutes.inScope).toBe(7);
    expect(idle.availability).toBe(1);
    const expected = run('..iiiii.....', { expectTraffic: true });
    expect(expected.minutes.inScope).toBe(12);
    expect(expected.minutes.unavailable).toBe(5);
    expect(expected.availability).toBe(7 / 12);
  });

  test('maintenance minutes are out of scope, however bad', () => {
    const r = run('..xxxxxx..', {}, [{ from: T0 + 2 * MIN, to: T0 + 8 * MIN }]);
    expect(r.minutes.maintenance).toBe(6);
    expect(r.minutes.inScope).toBe(4);
    expect(r.availability).toBe(1);
    expect(r.hli).toBe(0);
  });

  test('a minute only partly in a maintenance window is out of scope too', () => {
    const r = run('xxxxxx', {}, [{ from: T0 + 30_000, to: T0 + 60_001 }]);
    expect(r.minutes.maintenance).toBe(2);
    expect(r.minutes.unavailable).toBe(0);
    expect(r.hli).toBe(4);
  });

  test('nothing in scope: availability is null, not 1', () => {
    expect(run('____').availability).toBeNull();
    expect(run('iiii').availability).toBeNull();
  });

  test('the loss ratio threshold is "exceeds": a ratio equal to C is not high-loss', () => {
    const minutes: ReportMinute[] = [0, 1, 2, 3, 4].map((i) => ({
      start: T0 + i * MIN,
      state: 'up',
      aToBLossRatio: 0.01,
      bToALossRatio: 0,
    }));
    const r = computeAvailability(minutes, T0, T0 + 5 * MIN, MIN, reportPolicySchema.parse({}));
    expect(r.minutes.highLoss).toBe(0);
  });
});

describe('maintenance windows', () => {
  test('a recurring window (cron + duration) expands in the policy time zone', () => {
    const policy = reportPolicySchema.parse({
      timezone: 'Europe/Zurich',
      maintenance: [{ cron: '0 2 * * 0', duration: '2h' }],
    });
    // Two Sundays in the period, 02:00 Zurich = 01:00 UTC in December.
    const spans = maintenanceSpans(
      policy,
      Date.parse('2026-12-06T00:00:00Z'),
      Date.parse('2026-12-14T00:00:00Z'),
    );
    expect(spans).toEqual([
      { from: Date.parse('2026-12-06T01:00:00Z'), to: Date.parse('2026-12-06T03:00:00Z') },
      { from: Date.parse('2026-12-13T01:00:00Z'), to: Date.parse('2026-12-13T03:00:00Z') },
    ]);
  });

  test('a window that began before the period and is still open is included', () => {
    const policy = reportPolicySchema.parse({ maintenance: [{ cron: '0 23 * * *', duration: '3h' }] });
    const spans = maintenanceSpans(
      policy,
      Date.parse('2026-12-02T00:00:00Z'),
      Date.parse('2026-12-02T12:00:00Z'),
    );
    expect(spans).toEqual([
      { from: Date.parse('2026-12-01T23:00:00Z'), to: Date.parse('2026-12-02T02:00:00Z') },
    ]);
  });

  test('fixed windows take ISO times with their offset or epoch ms, and are checked', () => {
    const policy = reportPolicySchema.parse({
      maintenance: [{ from: '2026-12-01T01:00:00+01:00', to: Date.parse('2026-12-01T01:00:00Z') }],
    });
    expect(maintenanceSpans(policy, 0, Date.parse('2027-01-01T00:00:00Z'))).toEqual([
      { from: Date.parse('2026-12-01T00:00:00Z'), to: Date.parse('2026-12-01T01:00:00Z') },
    ]);
    expect(() => reportPolicySchema.parse({ maintenance: [{ from: '2026-12-01T01:00', to: 0 }] })).toThrow(
      /offset/,
    );
    expect(() => reportPolicySchema.parse({ maintenance: [{ from: 5, to: 4 }] })).toThrow(/before/);
    expect(() => reportPolicySchema.parse({ maintenance: [{ cron: 'every day', duration: '1h' }] })).toThrow(
      /cron/,
    );
    expect(() => reportPolicySchema.parse({ timezone: 'Mars/Olympus' })).toThrow(/time zone/);
  });
});

describe('the policy as --dump-config prints it', () => {
  test('validates again: durations and times come back as milliseconds', () => {
    const policy = reportPolicySchema.parse({
      period: { last: '24h' },
      maintenance: [
        { cron: '0 2 * * 0', duration: '2h' },
        { from: '2026-12-24T18:00:00Z', to: '2026-12-26T06:00:00Z' },
      ],
    });
    expect(policy.period).toEqual({ last: 86_400_000 });
    expect(reportPolicySchema.parse(JSON.parse(JSON.stringify(policy)))).toEqual(policy);
  });
});

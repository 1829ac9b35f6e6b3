import { describe, expect, test } from 'vitest';
import { localDate, periodFor, startOfLocalDay, utcOffsetMs } from '../../reports/period.js';
import type { PeriodSpec } from '../../reports/policy.js';

const HOUR = 3_600_000;
const t = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

function period(
  spec: PeriodSpec,
  timezone: string,
  runAt: string,
): { from: string; to: string; hours: number } {
  const p = periodFor({ period: spec, timezone }, t(runAt));
  return { from: iso(p.fromMs), to: iso(p.toMs), hours: (p.toMs - p.fromMs) / HOUR };
}

describe('periodFor: previousDay', () => {
  // Expected values written from the zones' rules: Europe/Zurich is UTC+1, UTC+2 from the
  // last Sunday of March 02:00 to the last Sunday of October 03:00; America/New_York is
  // UTC-5, UTC-4 from the second Sunday of March to the first Sunday of November.
  test.each([
    [
      'Zurich, an ordinary winter day',
      'Europe/Zurich',
      '2026-01-15T00:15:00+01:00',
      '2026-01-13T23:00:00.000Z',
      '2026-01-14T23:00:00.000Z',
      24,
    ],
    [
      'Zurich, 2026-03-29 springs forward (23 h)',
      'Europe/Zurich',
      '2026-03-30T00:15:00+02:00',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
      23,
    ],
    [
      'Zurich, 2026-10-25 falls back (25 h)',
      'Europe/Zurich',
      '2026-10-26T00:15:00+01:00',
      '2026-10-24T22:00:00.000Z',
      '2026-10-25T23:00:00.000Z',
      25,
    ],
    [
      'Zurich, a run late in the day still covers the day before',
      'Europe/Zurich',
      '2026-03-29T23:59:59+02:00',
      '2026-03-27T23:00:00.000Z',
      '2026-03-28T23:00:00.000Z',
      24,
    ],
    [
      'New York, 2026-03-08 springs forward (23 h)',
      'America/New_York',
      '2026-03-09T06:00:00-04:00',
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
      23,
    ],
    [
      'New York, 2026-11-01 falls back (25 h)',
      'America/New_York',
      '2026-11-02T00:15:00-05:00',
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
      25,
    ],
    [
      'New York, the local day differs from the UTC day',
      'America/New_York',
      // 02:00 UTC on the 16th is still the evening of the 15th in New York.
      '2026-01-16T02:00:00Z',
      '2026-01-14T05:00:00.000Z',
      '2026-01-15T05:00:00.000Z',
      24,
    ],
    [
      'UTC, across a month end',
      'UTC',
      '2026-03-01T00:15:00Z',
      '2026-02-28T00:00:00.000Z',
      '2026-03-01T00:00:00.000Z',
      24,
    ],
    [
      'UTC, the leap day 2028-02-29',
      'UTC',
      '2028-03-01T00:15:00Z',
      '2028-02-29T00:00:00.000Z',
      '2028-03-01T00:00:00.000Z',
      24,
    ],
    [
      'UTC, across a year end',
      'UTC',
      '2027-01-01T00:15:00Z',
      '2026-12-31T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      24,
    ],
    [
      'Kolkata, a half-hour offset (UTC+5:30)',
      'Asia/Kolkata',
      '2026-03-01T00:15:00+05:30',
      '2026-02-27T18:30:00.000Z',
      '2026-02-28T18:30:00.000Z',
      24,
    ],
  ])('%s', (_name, tz, runAt, from, to, hours) => {
    expect(period('previousDay', tz, runAt)).toEqual({ from, to, hours });
  });

  test('a run exactly at local midnight covers the day that just ended', () => {
    expect(period('previousDay', 'Europe/Zurich', '2026-03-30T00:00:00+02:00')).toEqual({
      from: '2026-03-28T23:00:00.000Z',
      to: '2026-03-29T22:00:00.000Z',
      hours: 23,
    });
  });
});

describe('periodFor: previousWeek (ISO weeks, Monday 00:00 local)', () => {
  test.each([
    // 2026-03-30 is a Monday; the week before holds the spring-forward Sunday.
    [
      'Monday 00:15 after the DST week',
      'Europe/Zurich',
      '2026-03-30T00:15:00+02:00',
      '2026-03-22T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
      167,
    ],
    [
      'Sunday evening is still in the current week',
      'Europe/Zurich',
      '2026-03-29T23:00:00+02:00',
      '2026-03-15T23:00:00.000Z',
      '2026-03-22T23:00:00.000Z',
      168,
    ],
    ['Wednesday', 'UTC', '2026-12-09T12:00:00Z', '2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z', 168],
    // 2026-11-01 (fall back) is a Sunday: the week 10-26 .. 11-02 is 169 h in New York.
    [
      'the week holding the fall-back Sunday',
      'America/New_York',
      '2026-11-02T09:00:00-05:00',
      '2026-10-26T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
      169,
    ],
    // 2027-01-01 is a Friday: its ISO week began on Monday 2026-12-28.
    [
      'a week across the year end',
      'UTC',
      '2027-01-04T00:15:00Z',
      '2026-12-28T00:00:00.000Z',
      '2027-01-04T00:00:00.000Z',
      168,
    ],
  ])('%s', (_name, tz, runAt, from, to, hours) => {
    expect(period('previousWeek', tz, runAt)).toEqual({ from, to, hours });
  });
});

describe('periodFor: previousMonth', () => {
  test.each([
    [
      'February after January 31 (run on 2026-03-01)',
      'UTC',
      '2026-03-01T00:15:00Z',
      '2026-02-01T00:00:00.000Z',
      '2026-03-01T00:00:00.000Z',
      28 * 24,
    ],
    [
      'January (run on February 1)',
      'UTC',
      '2026-02-01T00:15:00Z',
      '2026-01-01T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
      31 * 24,
    ],
    [
      'a run late in the month covers the month before',
      'UTC',
      '2026-01-31T23:59:00Z',
      '2025-12-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
      31 * 24,
    ],
    [
      'leap February 2028',
      'UTC',
      '2028-03-01T00:15:00Z',
      '2028-02-01T00:00:00.000Z',
      '2028-03-01T00:00:00.000Z',
      29 * 24,
    ],
    [
      'December, across the year end',
      'UTC',
      '2027-01-01T00:15:00Z',
      '2026-12-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      31 * 24,
    ],
    [
      'Zurich March 2026 (spring forward): 743 h',
      'Europe/Zurich',
      '2026-04-01T00:15:00+02:00',
      '2026-02-28T23:00:00.000Z',
      '2026-03-31T22:00:00.000Z',
      31 * 24 - 1,
    ],
    [
      'Zurich October 2026 (fall back): 745 h',
      'Europe/Zurich',
      '2026-11-01T00:15:00+01:00',
      '2026-09-30T22:00:00.000Z',
      '2026-10-31T23:00:00.000Z',
      31 * 24 + 1,
    ],
    [
      'New York, the local month differs from the UTC month',
      'America/New_York',
      '2026-03-01T03:00:00Z',
      '2026-01-01T05:00:00.000Z',
      '2026-02-01T05:00:00.000Z',
      31 * 24,
    ],
  ])('%s', (_name, tz, runAt, from, to, hours) => {
    expect(period('previousMonth', tz, runAt)).toEqual({ from, to, hours });
  });
});

describe('periodFor: last', () => {
  test('the span before the run, aligned down to the minute', () => {
    expect(period({ last: 24 * HOUR }, 'Europe/Zurich', '2028-03-01T00:15:42.123Z')).toEqual({
      from: '2028-02-29T00:15:00.000Z',
      to: '2028-03-01T00:15:00.000Z',
      hours: 24,
    });
  });

  test('a span is in real time, whatever the zone: 24 h across a DST change stays 24 h', () => {
    expect(period({ last: 24 * HOUR }, 'Europe/Zurich', '2026-03-29T12:00:00Z')).toEqual({
      from: '2026-03-28T12:00:00.000Z',
      to: '2026-03-29T12:00:00.000Z',
      hours: 24,
    });
  });

  test('a run on a whole minute keeps it', () => {
    const p = periodFor({ period: { last: 90 * 60_000 }, timezone: 'UTC' }, t('2026-05-01T10:00:00Z'));
    expect(p).toEqual({ fromMs: t('2026-05-01T08:30:00Z'), toMs: t('2026-05-01T10:00:00Z') });
  });
});

describe('local days from Intl', () => {
  test('offsets are read, not assumed', () => {
    expect(utcOffsetMs(t('2026-01-15T12:00:00Z'), 'Europe/Zurich')).toBe(HOUR);
    expect(utcOffsetMs(t('2026-07-15T12:00:00Z'), 'Europe/Zurich')).toBe(2 * HOUR);
    expect(utcOffsetMs(t('2026-07-15T12:00:00Z'), 'America/New_York')).toBe(-4 * HOUR);
    expect(utcOffsetMs(t('2026-07-15T12:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * HOUR);
  });

  test('the local date of an instant', () => {
    expect(localDate(t('2026-03-28T23:30:00Z'), 'Europe/Zurich')).toEqual({ year: 2026, month: 3, day: 29 });
    expect(localDate(t('2026-03-28T23:30:00Z'), 'America/New_York')).toEqual({
      year: 2026,
      month: 3,
      day: 28,
    });
  });

  test('a day whose midnight does not exist starts when the clock jumps', () => {
    // Brazil sprang forward at 00:00 (to 01:00, UTC-3 → UTC-2) on 2018-11-04: that day began
    // at 03:00 UTC, shown as 01:00 local, and was 23 hours long.
    const start = startOfLocalDay({ year: 2018, month: 11, day: 4 }, 'America/Sao_Paulo');
    expect(iso(start)).toBe('2018-11-04T03:00:00.000Z');
    expect(period('previousDay', 'America/Sao_Paulo', '2018-11-05T12:00:00Z')).toEqual({
      from: '2018-11-04T03:00:00.000Z',
      to: '2018-11-05T02:00:00.000Z',
      hours: 23,
    });
  });

  test('a day whose clock falls back at midnight starts at its only midnight', () => {
    // Brazil fell back at 00:00 (to 23:00 the day before, UTC-2 → UTC-3) on 2019-02-17: the
    // 16th was 25 hours long and the 17th began at 03:00 UTC.
    expect(iso(startOfLocalDay({ year: 2019, month: 2, day: 17 }, 'America/Sao_Paulo'))).toBe(
      '2019-02-17T03:00:00.000Z',
    );
    expect(period('previousDay', 'America/Sao_Paulo', '2019-02-17T12:00:00Z')).toEqual({
      from: '2019-02-16T02:00:00.000Z',
      to: '2019-02-17T03:00:00.000Z',
      hours: 25,
    });
  });

  test('every day of a year tiles with the next, in several zones', () => {
    for (const tz of [
      'Europe/Zurich',
      'America/New_York',
      'Australia/Lord_Howe',
      'America/Santiago',
      'UTC',
    ]) {
      let previous = periodFor({ period: 'previousDay', timezone: tz }, t('2026-01-01T12:00:00Z'));
      for (let d = 1; d <= 366; d++) {
        const runAt = previous.toMs + 36 * HOUR;
        const p = periodFor({ period: 'previousDay', timezone: tz }, runAt);
        expect(p.fromMs, `${tz} day ${d}`).toBe(previous.toMs);
        // Lord Howe moves by half an hour; nowhere else by more than an hour.
        expect(Math.abs(p.toMs - p.fromMs - 24 * HOUR), `${tz} day ${d}`).toBeLessThanOrEqual(HOUR);
        expect(localDate(p.fromMs, tz)).toEqual(localDate(p.toMs - 1, tz));
        previous = p;
      }
    }
  });
});

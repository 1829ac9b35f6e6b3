import type { ReportPolicy } from './policy.js';

/** The span a report covers, [fromMs, toMs). */
export interface ReportPeriod {
  readonly fromMs: number;
  readonly toMs: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * The period a run at `runAtMs` covers. Calendar periods are the day, ISO week (from Monday
 * 00:00) or month before the one containing `runAtMs`, in the policy's time zone, so a day
 * with a DST change is 23 or 25 hours long; `{last}` is the span just before the run, both
 * ends aligned down to the minute (report minutes are whole buckets).
 */
export function periodFor(
  policy: Pick<ReportPolicy, 'period' | 'timezone'>,
  runAtMs: number,
): { fromMs: number; toMs: number } {
  const { period, timezone } = policy;
  if (typeof period === 'object') {
    const toMs = Math.floor(runAtMs / MINUTE_MS) * MINUTE_MS;
    return { fromMs: toMs - period.last, toMs };
  }
  const today = localDate(runAtMs, timezone);
  switch (period) {
    case 'previousDay':
      return {
        fromMs: startOfLocalDay(addDays(today, -1), timezone),
        toMs: startOfLocalDay(today, timezone),
      };
    case 'previousWeek': {
      // ISO 8601 weeks start on Monday; getUTCDay() counts from Sunday = 0.
      const weekday = new Date(utcMs(today)).getUTCDay();
      const monday = addDays(today, -((weekday + 6) % 7));
      return {
        fromMs: startOfLocalDay(addDays(monday, -7), timezone),
        toMs: startOfLocalDay(monday, timezone),
      };
    }
    case 'previousMonth': {
      const first = { year: today.year, month: today.month, day: 1 };
      const previous = fromUtcMs(utcMs({ year: today.year, month: today.month - 1, day: 1 }));
      return {
        fromMs: startOfLocalDay(previous, timezone),
        toMs: startOfLocalDay(first, timezone),
      };
    }
  }
}

/** A calendar date (month 1-12). */
export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** The wall clock at `ms` in `timezone`, written as if it were UTC (whole seconds). */
function wallClockMs(ms: number, timezone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timezone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return utcMs({ year, month, day }) + ((hour * 60 + minute) * 60 + second) * 1000;
}

/** The time zone's offset from UTC at instant `ms` (local = UTC + offset). */
export function utcOffsetMs(ms: number, timezone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallClockMs(whole, timezone) - whole;
}

/** The calendar date of instant `ms` in `timezone`. */
export function localDate(ms: number, timezone: string): LocalDate {
  return fromUtcMs(wallClockMs(ms, timezone));
}

/** Midnight UTC of a date (days and months out of range roll over, as in Date). */
function utcMs(date: LocalDate): number {
  // Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear does not.
  const d = new Date(0);
  d.setUTCFullYear(date.year, date.month - 1, date.day);
  return d.getTime();
}

function fromUtcMs(ms: number): LocalDate {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function addDays(date: LocalDate, days: number): LocalDate {
  return fromUtcMs(utcMs({ ...date, day: date.day + days }));
}

/**
 * The first instant of a calendar day in `timezone`. Usually local midnight; where a DST
 * change skips midnight (some zones spring forward at 00:00) the day starts when the clock
 * jumps, and where midnight happens twice (falling back at 00:00 or 01:00) at the first one.
 * Offsets are read from Intl around the day, never assumed.
 */
export function startOfLocalDay(date: LocalDate, timezone: string): number {
  const wallMs = utcMs(date);
  // A change of offset near midnight puts one of these on each side of it (no zone has
  // moved by more than a day, and none changes twice within a few hours).
  const offsets = new Set([
    utcOffsetMs(wallMs - 36 * HOUR_MS, timezone),
    utcOffsetMs(wallMs, timezone),
    utcOffsetMs(wallMs + 36 * HOUR_MS, timezone),
  ]);
  const candidates = [...offsets].map((o) => wallMs - o).sort((a, b) => a - b);
  for (const t of candidates) {
    if (wallClockMs(t, timezone) === wallMs) return t;
  }
  // Midnight does not exist that day: the day begins at the change, which lies between the
  // instant that shows the evening before and the one that already shows the day.
  let lo = candidates[0] ?? wallMs;
  let hi = candidates.at(-1) ?? wallMs;
  while (wallClockMs(hi, timezone) < wallMs) hi += HOUR_MS;
  while (wallClockMs(lo, timezone) >= wallMs) lo -= HOUR_MS;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (wallClockMs(mid, timezone) >= wallMs) hi = mid;
    else lo = mid;
  }
  return hi;
}

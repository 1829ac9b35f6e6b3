import { Cron } from 'croner';
import { z } from 'zod';

/** A time in the configuration: epoch milliseconds or an ISO 8601 text with its offset. */
const instantSchema = z.union([
  z.number().int().min(0),
  z
    .string()
    .refine((s) => /[zZ]|[+-]\d\d:?\d\d$/.test(s) && Number.isFinite(Date.parse(s)), {
      message: 'an ISO 8601 time with its offset, e.g. 2026-12-01T02:00:00Z',
    })
    .transform((s) => Date.parse(s)),
]);

const timezoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'an IANA time zone, e.g. UTC or Europe/Zurich' },
);

const cronSchema = z.string().refine(
  (pattern) => {
    try {
      new Cron(pattern, { paused: true });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'a cron pattern (5 or 6 fields), e.g. "15 0 * * *"' },
);

/** `24h`, `7d`, `90m`, or milliseconds (what --dump-config prints): a length of time. */
const durationSchema = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d+(m|h|d)$/, 'a length like 90m, 24h or 7d (or milliseconds)')
    .transform(
      (s) => Number(s.slice(0, -1)) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[s.at(-1) as 'm' | 'h' | 'd'],
    ),
]);

/** Which period a scheduled run covers: the calendar period before the run, or the last span. */
export const periodSchema = z.union([
  z.enum(['previousDay', 'previousWeek', 'previousMonth']),
  z.strictObject({ last: durationSchema }),
]);
export type PeriodSpec = z.infer<typeof periodSchema>;

/** A maintenance window: a fixed span, or a recurring one (cron start + duration). */
export const maintenanceSchema = z.union([
  z.strictObject({ from: instantSchema, to: instantSchema }).refine((w) => w.from < w.to, {
    message: 'from must be before to',
  }),
  z.strictObject({ cron: cronSchema, duration: durationSchema }),
]);
export type MaintenanceWindow = z.infer<typeof maintenanceSchema>;

export const reportFormats = ['json', 'csv', 'html'] as const;
export type ReportFormat = (typeof reportFormats)[number];

/**
 * What an SLA report measures against (the `reports:` policies of the configuration, and
 * the defaults of `tunnelflow report`). Names after MEF 10.3: C is `highLossRatio`, n is
 * `consecutiveMinutes`.
 */
export const reportPolicySchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-" (it names files)')
    .default('default'),
  /** `all`, or tunnel ids / names. */
  tunnels: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).default('all'),
  /** When scheduled runs happen (croner syntax, in `timezone`); none: on demand only. */
  schedule: cronSchema.optional(),
  period: periodSchema.default('previousDay'),
  timezone: timezoneSchema.default('UTC'),
  /** A minute whose measured loss ratio in either direction exceeds this is high-loss (MEF 10.3 C). */
  highLossRatio: z.number().min(0).max(1).default(0.01),
  /** n consecutive high-loss minutes start unavailable time, n good ones end it (Y.1540's 5-minute rule). */
  consecutiveMinutes: z.number().int().min(1).max(1440).default(5),
  /** The tunnel must always carry traffic: idle minutes count as high-loss instead of out of scope. */
  expectTraffic: z.boolean().default(false),
  targets: z
    .strictObject({
      availability: z.number().min(0).max(1).default(0.999),
      lossRatio: z.number().min(0).max(1).default(0.001),
    })
    .prefault({}),
  /** Maintenance windows: out of scope. */
  maintenance: z.array(maintenanceSchema).default([]),
  formats: z.array(z.enum(reportFormats)).min(1).default(['json', 'csv', 'html']),
  deliver: z
    .strictObject({
      /** Files written here (atomically) after each scheduled run. */
      directory: z.string().min(1).optional(),
      /** The JSON report POSTed here after each scheduled run (retried). */
      webhook: z.url({ protocol: /^https?$/ }).optional(),
    })
    .prefault({}),
});

export type ReportPolicy = z.infer<typeof reportPolicySchema>;

export const defaultReportPolicy: ReportPolicy = reportPolicySchema.parse({});

/** The `reports:` key: policies with distinct names. */
export const reportPoliciesSchema = z
  .array(reportPolicySchema)
  .default([])
  .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, {
    message: 'report names must be unique',
  });

/**
 * Maintenance as fixed spans over [fromMs, toMs): recurring windows expanded from their cron
 * (in the policy's time zone), fixed ones kept where they overlap.
 */
export function maintenanceSpans(
  policy: ReportPolicy,
  fromMs: number,
  toMs: number,
): Array<{ from: number; to: number }> {
  const spans: Array<{ from: number; to: number }> = [];
  for (const w of policy.maintenance) {
    if ('from' in w) {
      if (w.from < toMs && w.to > fromMs) spans.push({ from: w.from, to: w.to });
      continue;
    }
    const cron = new Cron(w.cron, { paused: true, timezone: policy.timezone });
    // Start early enough that a window begun before fromMs and still open is included.
    let at = cron.nextRun(new Date(fromMs - w.duration - 1));
    while (at !== null && at.getTime() < toMs) {
      spans.push({ from: at.getTime(), to: at.getTime() + w.duration });
      at = cron.nextRun(at);
    }
  }
  return spans;
}

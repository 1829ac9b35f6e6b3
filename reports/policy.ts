import { z } from 'zod';

/**
 * What an SLA report measures against (the `reports:` policies of the configuration, and
 * the defaults of `tunnelflow report`). Names after MEF 10.3: C is `highLossRatio`, n is
 * `consecutiveMinutes`.
 */
export const reportPolicySchema = z.strictObject({
  name: z.string().min(1).default('default'),
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
  maintenance: z.array(z.strictObject({ from: z.number().int(), to: z.number().int() })).default([]),
});

export type ReportPolicy = z.infer<typeof reportPolicySchema>;

export const defaultReportPolicy: ReportPolicy = reportPolicySchema.parse({});

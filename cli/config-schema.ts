import type { z } from 'zod';
import { apiConfigSchema } from '../api/config.js';
import { collectorConfigSchema } from '../collector/config.js';
import { normalizeConfigSchema } from '../collector/normalize/config.js';
import { reportPoliciesSchema } from '../reports/policy.js';
import { storeConfigSchema } from '../store/config.js';

/**
 * The whole configuration file. DESIGN.md's keys (`observationPoints`, `tunnels`, `loss`)
 * and the normalizer's timing sit at the top level; each component's own settings under
 * its name. Every level is strict: an unknown key is an error, not a silent default.
 */
export const tunnelflowConfigSchema = normalizeConfigSchema.extend({
  collector: collectorConfigSchema.prefault({}),
  store: storeConfigSchema.prefault({}),
  http: apiConfigSchema.prefault({}),
  /** SLA report policies (reports/policy.ts); `tunnelflow report --policy NAME` and the scheduler use them. */
  reports: reportPoliciesSchema,
});

export type TunnelflowConfig = z.infer<typeof tunnelflowConfigSchema>;

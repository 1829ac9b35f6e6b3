import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

import type { ReportTrigger } from '../store/reports/report-repository.js';

export const reportTriggers: readonly ReportTrigger[] = ['scheduled', 'catch-up', 'on-demand'];

/** Where a report was delivered. */
export type DeliveryTarget = 'directory' | 'webhook';
export const deliveryTargets: readonly DeliveryTarget[] = ['directory', 'webhook'];

export interface ReportMetrics {
  /** A run began. */
  run(policy: string, trigger: ReportTrigger): void;
  /** A run failed (it is not retried). */
  failure(policy: string): void;
  /** One delivery of a finished report, to one target. */
  delivery(policy: string, target: DeliveryTarget, ok: boolean): void;
  /** A run succeeded at `atMs` (wall clock). */
  success(policy: string, atMs: number): void;
}

/**
 * Registers the report counters on a Prometheus registry. Unlike the store's, these are
 * counted as they happen: runs are rare, and their labels (policy, trigger, target) are
 * not figures any component keeps. Series of the policies named up front start at 0, so a
 * policy that has never failed shows a 0, not a gap, and `increase()` sees its first failure.
 */
export function createReportMetrics(registry: Registry, policies: readonly string[] = []): ReportMetrics {
  const runs = new Counter({
    name: 'tunnelflow_report_runs_total',
    help: 'Report runs begun, by policy and by what started them (scheduled, catch-up at start, on-demand).',
    labelNames: ['policy', 'trigger'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'tunnelflow_report_failures_total',
    help: 'Report runs that failed (not retried: the next period runs on schedule).',
    labelNames: ['policy'] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'tunnelflow_report_deliveries_total',
    help: 'Deliveries of finished reports, by target (directory, webhook) and outcome (ok, failed).',
    labelNames: ['policy', 'target', 'outcome'] as const,
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: 'tunnelflow_report_last_success_seconds',
    help: 'Wall-clock time of the last successful run of each policy (seconds since the epoch).',
    labelNames: ['policy'] as const,
    registers: [registry],
  });
  for (const policy of policies) {
    for (const trigger of reportTriggers) runs.inc({ policy, trigger }, 0);
    failures.inc({ policy }, 0);
    for (const target of deliveryTargets) {
      deliveries.inc({ policy, target, outcome: 'ok' }, 0);
      deliveries.inc({ policy, target, outcome: 'failed' }, 0);
    }
  }
  return {
    run: (policy, trigger) => runs.inc({ policy, trigger }),
    failure: (policy) => failures.inc({ policy }),
    delivery: (policy, target, ok) => deliveries.inc({ policy, target, outcome: ok ? 'ok' : 'failed' }),
    success: (policy, atMs) => lastSuccess.set({ policy }, atMs / 1000),
  };
}

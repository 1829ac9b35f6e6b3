import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { createReportMetrics } from '../../reports/report-metrics.js';

/** The sample lines of one metric in the exposition text, without HELP/TYPE. */
async function samples(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .sort();
}

describe('report metrics', () => {
  test('runs by trigger, failures, deliveries by target and outcome, last success', async () => {
    const registry = new Registry();
    const m = createReportMetrics(registry);
    m.run('daily', 'scheduled');
    m.run('daily', 'scheduled');
    m.run('daily', 'catch-up');
    m.run('weekly', 'on-demand');
    m.failure('daily');
    m.delivery('daily', 'directory', true);
    m.delivery('daily', 'webhook', false);
    m.delivery('daily', 'webhook', true);
    m.delivery('daily', 'webhook', false);
    m.success('daily', Date.parse('2026-03-30T00:15:02Z'));

    expect(await samples(registry, 'tunnelflow_report_runs_total')).toEqual([
      'tunnelflow_report_runs_total{policy="daily",trigger="catch-up"} 1',
      'tunnelflow_report_runs_total{policy="daily",trigger="scheduled"} 2',
      'tunnelflow_report_runs_total{policy="weekly",trigger="on-demand"} 1',
    ]);
    expect(await samples(registry, 'tunnelflow_report_failures_total')).toEqual([
      'tunnelflow_report_failures_total{policy="daily"} 1',
    ]);
    expect(await samples(registry, 'tunnelflow_report_deliveries_total')).toEqual([
      'tunnelflow_report_deliveries_total{policy="daily",target="directory",outcome="ok"} 1',
      'tunnelflow_report_deliveries_total{policy="daily",target="webhook",outcome="failed"} 2',
      'tunnelflow_report_deliveries_total{policy="daily",target="webhook",outcome="ok"} 1',
    ]);
    expect(await samples(registry, 'tunnelflow_report_last_success_seconds')).toEqual([
      `tunnelflow_report_last_success_seconds{policy="daily"} ${Date.parse('2026-03-30T00:15:02Z') / 1000}`,
    ]);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE tunnelflow_report_runs_total counter');
    expect(text).toContain('# TYPE tunnelflow_report_last_success_seconds gauge');
  });

  test('policies named up front start at 0, and no success time before a success', async () => {
    const registry = new Registry();
    createReportMetrics(registry, ['daily']);
    expect(await samples(registry, 'tunnelflow_report_runs_total')).toEqual([
      'tunnelflow_report_runs_total{policy="daily",trigger="catch-up"} 0',
      'tunnelflow_report_runs_total{policy="daily",trigger="on-demand"} 0',
      'tunnelflow_report_runs_total{policy="daily",trigger="scheduled"} 0',
    ]);
    expect(await samples(registry, 'tunnelflow_report_failures_total')).toEqual([
      'tunnelflow_report_failures_total{policy="daily"} 0',
    ]);
    expect(await samples(registry, 'tunnelflow_report_deliveries_total')).toHaveLength(4);
    expect(await samples(registry, 'tunnelflow_report_last_success_seconds')).toEqual([]);
  });
});

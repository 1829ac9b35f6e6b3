import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { ReportRequestError } from '../reports/build-report.js';
import type { ReportFormat } from '../reports/policy.js';
import { renderReport } from '../reports/render.js';
import { createReportService } from '../reports/report-service.js';
import { openStore } from '../store/open-store.js';
import { UsageError } from './usage-error.js';
import { analysisOptions } from './analysis-options.js';
import { resolveConfig } from './resolve-config.js';
import type { ConfigOverrides } from './resolve-config.js';

export interface ReportOptions extends ConfigOverrides {
  readonly from: string;
  readonly to: string;
  readonly tunnel?: readonly string[];
  readonly format: ReportFormat;
  readonly policy?: string;
  readonly out?: string;
  /** Also keep the run in the database (listed by GET /api/v1/reports). */
  readonly save?: boolean;
}

/**
 * A time on the command line: ISO 8601 (an offset or Z; a date alone is UTC midnight),
 * epoch milliseconds, `now`, or relative to now (`-24h`, `-7d`, `-90m`).
 */
export function parseCliTime(name: string, value: string, nowMs = Date.now()): number {
  const v = value.trim();
  if (v === 'now') return nowMs;
  const rel = /^-(\d+)(m|h|d)$/.exec(v);
  if (rel !== null)
    return nowMs - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
  if (/^\d+$/.test(v)) return Number(v);
  const date = /^\d{4}-\d\d-\d\d$/.test(v) ? `${v}T00:00:00Z` : v;
  const ms = /[zZ]|[+-]\d\d:?\d\d$/.test(date) ? Date.parse(date) : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `--${name} '${value}': expected ISO 8601 with an offset (2026-12-01T00:00:00Z), a date (2026-12-01, UTC), epoch ms, now, or -24h / -7d`,
    );
  }
  return ms;
}

/** `tunnelflow report`: one SLA report from the store, to stdout or a file. */
export async function reportCommand(opts: ReportOptions): Promise<void> {
  const config = resolveConfig(opts);
  const now = Date.now();
  const fromMs = parseCliTime('from', opts.from, now);
  const toMs = parseCliTime('to', opts.to, now);
  if (config.store.url === undefined && !existsSync(config.store.path)) {
    throw new UsageError(
      `no database at ${config.store.path} (give --db, or run \`tunnelflow run\` or \`ingest\` first)`,
    );
  }
  const store = await openStore(config.store);
  try {
    const service = createReportService({
      db: store.db,
      reader: store.tunnelReader,
      analysis: analysisOptions(config),
      policies: config.reports,
    });
    let created;
    try {
      created = await service.create(
        { fromMs, toMs, policy: opts.policy, ...(opts.tunnel?.length ? { tunnels: opts.tunnel } : {}) },
        { store: opts.save === true },
      );
    } catch (err) {
      if (err instanceof ReportRequestError) throw new UsageError(err.message);
      throw err;
    }
    const { body } = renderReport(created.report, opts.format);
    if (opts.out === undefined || opts.out === '-') process.stdout.write(body);
    else {
      // Atomic: a reader of the file never sees half a report.
      const tmp = join(dirname(opts.out), `.${basename(opts.out)}.${process.pid}.tmp`);
      writeFileSync(tmp, body);
      renameSync(tmp, opts.out);
    }
    const s = created.report.summary;
    process.stderr.write(
      `report ${created.policy}: ${s.tunnels} tunnel(s), ${s.breaching} breaching, worst availability ${s.worstAvailability === null ? 'n/a' : (s.worstAvailability * 100).toFixed(3) + ' %'}${opts.save ? `, stored as ${created.id}` : ''}\n`,
    );
  } finally {
    await store.close();
  }
}

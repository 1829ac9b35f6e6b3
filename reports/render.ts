import { stringify } from 'csv-stringify/sync';
import type { ReportFormat } from './policy.js';
import { describeBreach } from './report.js';
import type { SlaReport } from './report.js';
import { renderHtml } from './render-html.js';

export interface RenderedReport {
  readonly body: string;
  readonly contentType: string;
  /** File name extension, without the dot. */
  readonly ext: string;
}

/** One report in one format: JSON (the reference), CSV (a row per tunnel and direction) or HTML. */
export function renderReport(report: SlaReport, format: ReportFormat): RenderedReport {
  switch (format) {
    case 'json':
      return {
        body: `${JSON.stringify(report, null, 2)}\n`,
        contentType: 'application/json; charset=utf-8',
        ext: 'json',
      };
    case 'csv':
      return { body: renderCsv(report), contentType: 'text/csv; charset=utf-8; header=present', ext: 'csv' };
    case 'html':
      return { body: renderHtml(report), contentType: 'text/html; charset=utf-8', ext: 'html' };
  }
}

/** The CSV columns, in order (README "SLA reports" describes each). */
export const csvColumns = [
  'period_from',
  'period_to',
  'tunnel_id',
  'tunnel_name',
  'peer_a',
  'peer_b',
  'direction',
  'availability',
  'minutes_total',
  'minutes_in_scope',
  'minutes_available',
  'minutes_unavailable',
  'minutes_high_loss',
  'minutes_maintenance',
  'minutes_no_data',
  'minutes_idle',
  'hli',
  'chli',
  'packets',
  'octets',
  'sent',
  'lost',
  'loss_ratio',
  'loss_source',
  'measured_minutes',
  'unmeasured_minutes',
  'loss_ratio_p50',
  'loss_ratio_p95',
  'loss_ratio_p99',
  'breaches',
] as const;

/** RFC 4180: a header line, CRLF line ends, fields quoted where they must be; empty = not measured. */
function renderCsv(report: SlaReport): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const rows: Array<Array<string | number>> = [];
  for (const t of report.tunnels) {
    for (const d of t.directions) {
      const breaches = t.breaches
        .filter((b) => b.direction === null || b.direction === d.direction)
        .map(describeBreach)
        .join('; ');
      rows.push([
        iso(report.period.from),
        iso(report.period.to),
        t.id,
        t.name ?? '',
        t.peerA,
        t.peerB,
        d.direction,
        t.availability ?? '',
        t.minutes.total,
        t.minutes.inScope,
        t.minutes.available,
        t.minutes.unavailable,
        t.minutes.highLoss,
        t.minutes.maintenance,
        t.minutes.noData,
        t.minutes.idle,
        t.hli,
        t.chli,
        d.packets,
        d.octets,
        d.sent ?? '',
        d.lost ?? '',
        d.lossRatio ?? '',
        d.lossSource ?? '',
        d.measuredMinutes,
        d.unmeasuredMinutes,
        d.lossRatioPercentiles?.p50 ?? '',
        d.lossRatioPercentiles?.p95 ?? '',
        d.lossRatioPercentiles?.p99 ?? '',
        breaches,
      ]);
    }
  }
  return stringify(rows, { header: true, columns: [...csvColumns], record_delimiter: 'windows' });
}

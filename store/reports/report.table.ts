import type { Generated } from 'kysely';

/** The `reports` table: one stored SLA report run. The body is the report's JSON, opaque to the store. */
export interface ReportTable {
  /** Increasing with every run stored: newest last. */
  id: Generated<number>;
  policy: string;
  trigger: string;
  period_from_ms: number;
  period_to_ms: number;
  generated_ms: number;
  scheduled_ms: number | null;
  tunnels: number;
  breaching: number;
  worst_availability: number | null;
  body: string;
}

/** The `report_schedule` table: the last scheduled run of each policy (catch-up starts after it). */
export interface ReportScheduleTable {
  policy: string;
  last_scheduled_ms: number;
}

/**
 * The `report_day_summaries` table: per tunnel and UTC day, a report's summary of that day
 * (reports/window-summary.ts WindowSummary as JSON, opaque to the store) and the analysis
 * options it was computed with.
 */
export interface ReportDaySummaryTable {
  tunnel_id: string;
  day_start_ms: number;
  basis: string;
  built_ms: number;
  body: string;
}

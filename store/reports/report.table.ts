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

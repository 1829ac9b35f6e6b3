import type { Insertable, Selectable } from 'kysely';

/**
 * The `exporters` table: absolute counters per exporter and observation domain,
 * upserted by the collector so that they survive restarts.
 */
export interface ExporterTable {
  exporter: string;
  domain_id: number;
  /** Export version last seen (5, 9, 10); null until the collector says. */
  version: number | null;
  datagrams: number;
  records: number;
  templates: number;
  options_records: number;
  malformed: number;
  missing_template_records: number;
  /** Units lost according to the export sequence numbers (see ExporterCounters). */
  sequence_gaps: number;
  dropped: number;
  /** JSON object: issue kind → count. */
  issues: string;
  first_seen_ms: number;
  last_seen_ms: number;
}

export type ExporterRow = Selectable<ExporterTable>;
export type NewExporterRow = Insertable<ExporterTable>;

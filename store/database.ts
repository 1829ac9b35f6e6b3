import type { Kysely, Transaction } from 'kysely';
import type {
  ExporterBucketHourlyTable,
  ExporterBucketTable,
} from './exporter-buckets/exporter-bucket.table.js';
import type { ExporterTable } from './exporters/exporter.table.js';
import type { FlowTable } from './flows/flow.table.js';
import type { StoreMetaTable } from './meta/store-meta.table.js';
import type { ReportDaySummaryTable, ReportScheduleTable, ReportTable } from './reports/report.table.js';
import type { CollectorStateTable } from './state/collector-state.table.js';
import type { TemplateTable } from './templates/template.table.js';
import type { SaTable } from './tunnels/sa.table.js';
import type { TunnelBucketTable } from './tunnels/tunnel-bucket.table.js';
import type { TunnelTable } from './tunnels/tunnel.table.js';

/** Every table the store owns, as kysely sees them (one row interface per `*.table.ts`). */
export interface Database {
  flows: FlowTable;
  exporters: ExporterTable;
  templates: TemplateTable;
  exporter_buckets: ExporterBucketTable;
  exporter_buckets_hourly: ExporterBucketHourlyTable;
  store_meta: StoreMetaTable;
  tunnels: TunnelTable;
  security_associations: SaTable;
  tunnel_buckets: TunnelBucketTable;
  /** The same columns, one row per hour: rows rolled up by retention. */
  tunnel_buckets_hourly: TunnelBucketTable;
  collector_state: CollectorStateTable;
  reports: ReportTable;
  report_schedule: ReportScheduleTable;
  report_day_summaries: ReportDaySummaryTable;
}

/** What repository functions take first: the database or a transaction on it. */
export type StoreDb = Kysely<Database> | Transaction<Database>;

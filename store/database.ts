import type { Kysely, Transaction } from 'kysely';
import type { ExporterBucketTable } from './exporter-buckets/exporter-bucket.table.js';
import type { ExporterTable } from './exporters/exporter.table.js';
import type { FlowTable } from './flows/flow.table.js';
import type { StoreMetaTable } from './meta/store-meta.table.js';
import type { TemplateTable } from './templates/template.table.js';

/** Every table the store owns, as kysely sees them. */
export interface Database {
  flows: FlowTable;
  exporters: ExporterTable;
  templates: TemplateTable;
  exporter_buckets: ExporterBucketTable;
  store_meta: StoreMetaTable;
}

/** What repository functions take first: the database or a transaction on it. */
export type StoreDb = Kysely<Database> | Transaction<Database>;

import { sql } from 'kysely';
import type { Kysely } from 'kysely';

// Typed against Kysely<any> on purpose: a migration is frozen in time and must not
// follow later changes of the table interfaces (kysely's migration guidance).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

export async function up(db: Kysely<any>): Promise<void> {
  // `id integer primary key` is an alias of SQLite's rowid: the cheapest key there is,
  // and the index on start_ms carries it for free (keyset pagination on start_ms, id).
  await db.schema
    .createTable('flows')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('exporter', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('template_id', 'integer')
    .addColumn('received_ms', 'integer', (c) => c.notNull())
    .addColumn('start_ms', 'integer', (c) => c.notNull())
    .addColumn('end_ms', 'integer', (c) => c.notNull())
    .addColumn('ip_version', 'integer', (c) => c.notNull())
    .addColumn('src', 'text', (c) => c.notNull())
    .addColumn('dst', 'text', (c) => c.notNull())
    .addColumn('proto', 'integer', (c) => c.notNull())
    .addColumn('src_port', 'integer')
    .addColumn('dst_port', 'integer')
    .addColumn('spi', 'integer')
    .addColumn('packets', 'integer', (c) => c.notNull())
    .addColumn('octets', 'integer', (c) => c.notNull())
    .addColumn('raw_packets', 'integer', (c) => c.notNull())
    .addColumn('raw_octets', 'integer', (c) => c.notNull())
    .addColumn('sampling_rate', 'integer', (c) => c.notNull())
    .addColumn('tcp_flags', 'integer')
    .addColumn('tos', 'integer')
    .addColumn('icmp_type', 'integer')
    .addColumn('icmp_code', 'integer')
    .addColumn('fragment_id', 'integer')
    .addColumn('fragment_offset', 'integer')
    .addColumn('fragment_flags', 'integer')
    .addColumn('in_if', 'integer')
    .addColumn('out_if', 'integer')
    .addColumn('flow_direction', 'integer')
    .addColumn('reported_loss', 'integer')
    .addColumn('esp_seq_first', 'integer')
    .addColumn('esp_seq_last', 'integer')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('tunnel_id', 'text')
    .addColumn('sa_id', 'text')
    .addColumn('tunnel_direction', 'text')
    .addColumn('validated_loss', 'integer')
    .addColumn('loss_cleared_reason', 'text')
    .addColumn('src_key', 'blob')
    .addColumn('dst_key', 'blob')
    .execute();

  // Time-window queries ask for flows overlapping [from, to). Exporters send a flow when
  // it ends, so end_ms arrives nearly in order and this index grows at its right edge
  // (an index on start_ms measured ~6x the insert cost: start times are spread over the
  // active timeout). With the longest flow duration kept in store_meta, "overlaps" is a
  // range on end_ms alone; rowid is the index's tail, so ORDER BY end_ms, id needs no sort.
  await db.schema.createIndex('flows_end_ms').on('flows').column('end_ms').execute();

  // Drill-down from a tunnel's bucket to its flows. Partial: most rows belong to no
  // tunnel and cost this index nothing (it is the costly one: one insertion point per
  // active tunnel).
  await db.schema
    .createIndex('flows_tunnel_end_ms')
    .on('flows')
    .columns(['tunnel_id', 'end_ms'])
    .where(sql.ref('tunnel_id'), 'is not', null)
    .execute();

  // No index for retention: rows are deleted in id order, which is the order they were
  // received in (store/retention-step.ts), so received_ms needs none.

  await db.schema
    .createTable('exporters')
    .addColumn('exporter', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer')
    .addColumn('datagrams', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('records', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('templates', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('options_records', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('malformed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('missing_template_records', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sequence_gaps', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('dropped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('issues', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('first_seen_ms', 'integer', (c) => c.notNull())
    .addColumn('last_seen_ms', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('exporters_pk', ['exporter', 'domain_id'])
    .execute();

  await db.schema
    .createTable('templates')
    .addColumn('exporter', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'integer', (c) => c.notNull())
    .addColumn('template_id', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('updated_ms', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('templates_pk', ['exporter', 'domain_id', 'template_id'])
    .execute();

  await db.schema
    .createTable('exporter_buckets')
    .addColumn('exporter', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'integer', (c) => c.notNull())
    .addColumn('bucket_start_ms', 'integer', (c) => c.notNull())
    .addColumn('records', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('datagrams', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('issues', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sequence_gaps', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('exporter_buckets_pk', ['exporter', 'domain_id', 'bucket_start_ms'])
    .execute();
  // Bucket completeness is read by time across all exporters (the loss view).
  await db.schema
    .createIndex('exporter_buckets_start_ms')
    .on('exporter_buckets')
    .column('bucket_start_ms')
    .execute();

  await db.schema
    .createTable('store_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('store_meta').ifExists().execute();
  await db.schema.dropTable('exporter_buckets').ifExists().execute();
  await db.schema.dropTable('templates').ifExists().execute();
  await db.schema.dropTable('exporters').ifExists().execute();
  await db.schema.dropTable('flows').ifExists().execute();
}

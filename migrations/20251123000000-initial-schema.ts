import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { address, int, isPostgres } from './dialect.js';

// Typed against Kysely<any> on purpose: a migration is frozen in time and must not
// follow later changes of the table interfaces (kysely's migration guidance).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

export async function up(db: Kysely<any>): Promise<void> {
  const i = int(db);
  const pg = isPostgres(db);
  // PostgreSQL: ids from one plain sequence shared by every collector writing the database
  // (no identity column: PostgreSQL 15 partitioned tables do not support them well), and no
  // primary key on the partitioned parent (it would have to contain the partition keys).
  if (pg) await sql`CREATE SEQUENCE flows_id_seq AS bigint`.execute(db);
  // `id integer primary key` is an alias of SQLite's rowid: the cheapest key there is,
  // and the index on start_ms carries it for free (keyset pagination on start_ms, id).
  await db.schema
    .createTable('flows')
    .addColumn('id', i, (c) => (pg ? c.notNull().defaultTo(sql`nextval('flows_id_seq')`) : c.primaryKey()))
    .addColumn('exporter', 'text', (c) => c.notNull())
    .addColumn('domain_id', i, (c) => c.notNull())
    .addColumn('version', i, (c) => c.notNull())
    .addColumn('template_id', i)
    .addColumn('received_ms', i, (c) => c.notNull())
    .addColumn('start_ms', i, (c) => c.notNull())
    .addColumn('end_ms', i, (c) => c.notNull())
    .addColumn('ip_version', i, (c) => c.notNull())
    .addColumn('src', address(db), (c) => c.notNull())
    .addColumn('dst', address(db), (c) => c.notNull())
    .addColumn('proto', i, (c) => c.notNull())
    .addColumn('src_port', i)
    .addColumn('dst_port', i)
    .addColumn('spi', i)
    .addColumn('packets', i, (c) => c.notNull())
    .addColumn('octets', i, (c) => c.notNull())
    .addColumn('raw_packets', i, (c) => c.notNull())
    .addColumn('raw_octets', i, (c) => c.notNull())
    .addColumn('sampling_rate', i, (c) => c.notNull())
    .addColumn('tcp_flags', i)
    .addColumn('tos', i)
    .addColumn('icmp_type', i)
    .addColumn('icmp_code', i)
    .addColumn('fragment_id', i)
    .addColumn('fragment_offset', i)
    .addColumn('fragment_flags', i)
    .addColumn('in_if', i)
    .addColumn('out_if', i)
    .addColumn('flow_direction', i)
    .addColumn('reported_loss', i)
    .addColumn('esp_seq_first', i)
    .addColumn('esp_seq_last', i)
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('tunnel_id', 'text')
    .addColumn('sa_id', 'text')
    .addColumn('tunnel_direction', 'text')
    .addColumn('validated_loss', i)
    .addColumn('loss_cleared_reason', 'text')
    // SQLite only: the sortable address keys of its IPv6 `net` filter; PostgreSQL compares
    // inet values natively.
    .$call((t) => (pg ? t : t.addColumn('src_key', 'blob').addColumn('dst_key', 'blob')))
    // PostgreSQL: by retention class, then by UTC day of receipt, so that retention drops
    // whole day partitions (store/postgres/retention-step.ts). The day partitions are made
    // by the writer before it inserts (store/postgres/flow-partitions.ts).
    .$call((t) => (pg ? t.modifyEnd(sql`PARTITION BY LIST (kind)`) : t))
    .execute();
  if (pg) {
    await sql`ALTER SEQUENCE flows_id_seq OWNED BY flows.id`.execute(db);
    await sql`CREATE TABLE flows_other PARTITION OF flows FOR VALUES IN ('other') PARTITION BY RANGE (received_ms)`.execute(
      db,
    );
    await sql`CREATE TABLE flows_tunnel PARTITION OF flows DEFAULT PARTITION BY RANGE (received_ms)`.execute(
      db,
    );
  }

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
    .addColumn('domain_id', i, (c) => c.notNull())
    .addColumn('version', i)
    .addColumn('datagrams', i, (c) => c.notNull().defaultTo(0))
    .addColumn('records', i, (c) => c.notNull().defaultTo(0))
    .addColumn('templates', i, (c) => c.notNull().defaultTo(0))
    .addColumn('options_records', i, (c) => c.notNull().defaultTo(0))
    .addColumn('malformed', i, (c) => c.notNull().defaultTo(0))
    .addColumn('missing_template_records', i, (c) => c.notNull().defaultTo(0))
    .addColumn('sequence_gaps', i, (c) => c.notNull().defaultTo(0))
    .addColumn('dropped', i, (c) => c.notNull().defaultTo(0))
    .addColumn('issues', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('first_seen_ms', i, (c) => c.notNull())
    .addColumn('last_seen_ms', i, (c) => c.notNull())
    .addPrimaryKeyConstraint('exporters_pk', ['exporter', 'domain_id'])
    .execute();

  await db.schema
    .createTable('templates')
    .addColumn('exporter', 'text', (c) => c.notNull())
    .addColumn('domain_id', i, (c) => c.notNull())
    .addColumn('template_id', i, (c) => c.notNull())
    .addColumn('version', i, (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('updated_ms', i, (c) => c.notNull())
    .addPrimaryKeyConstraint('templates_pk', ['exporter', 'domain_id', 'template_id'])
    .execute();

  await db.schema
    .createTable('exporter_buckets')
    .addColumn('exporter', 'text', (c) => c.notNull())
    .addColumn('domain_id', i, (c) => c.notNull())
    .addColumn('bucket_start_ms', i, (c) => c.notNull())
    .addColumn('records', i, (c) => c.notNull().defaultTo(0))
    .addColumn('datagrams', i, (c) => c.notNull().defaultTo(0))
    .addColumn('issues', i, (c) => c.notNull().defaultTo(0))
    .addColumn('sequence_gaps', i, (c) => c.notNull().defaultTo(0))
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
    .addColumn('value', i, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('store_meta').ifExists().execute();
  await db.schema.dropTable('exporter_buckets').ifExists().execute();
  await db.schema.dropTable('templates').ifExists().execute();
  await db.schema.dropTable('exporters').ifExists().execute();
  await db.schema.dropTable('flows').ifExists().execute();
}

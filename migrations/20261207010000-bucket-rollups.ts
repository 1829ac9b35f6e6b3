import { sql } from 'kysely';
import type { Kysely } from 'kysely';

// Typed against Kysely<any> on purpose: a migration is frozen in time (see the initial schema).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

const TUNNEL_COUNTERS = `
      packets integer NOT NULL DEFAULT 0,
      octets integer NOT NULL DEFAULT 0,
      flows integer NOT NULL DEFAULT 0,
      esp_packets integer NOT NULL DEFAULT 0,
      fragments integer NOT NULL DEFAULT 0,
      icmp_frag_needed integer NOT NULL DEFAULT 0,
      ike_packets integer NOT NULL DEFAULT 0,
      leak_packets integer NOT NULL DEFAULT 0,
      reported_lost integer NOT NULL DEFAULT 0,
      reported_packets integer NOT NULL DEFAULT 0,
      sequence_lost integer NOT NULL DEFAULT 0,
      sequence_packets integer NOT NULL DEFAULT 0,
      cleared_negative integer NOT NULL DEFAULT 0,
      cleared_exceeds_sequence_space integer NOT NULL DEFAULT 0,
      cleared_exceeds_ceiling integer NOT NULL DEFAULT 0,
      cleared_sa_change integer NOT NULL DEFAULT 0,
      cleared_fragments integer NOT NULL DEFAULT 0,
      cleared_non_esp integer NOT NULL DEFAULT 0,
      carried_in integer NOT NULL DEFAULT 0`;

/**
 * Bucket aggregates by receipt age (DESIGN.md "Time buckets"): every bucket row records
 * when tunnelflow last received a record that went into it (`received_ms`, the largest
 * receipt time of the deltas added), so retention can roll rows up to 1 h after 30 days
 * and delete them after 400 days counting from receipt, not from flow time.
 *
 * Rolled-up rows live in their own tables (`*_hourly`, one row per hour start) with the
 * same additive columns: a minute row and its hour row never share a primary key, so a
 * late delta for an already rolled-up hour lands in a minute row and is rolled up in
 * turn, summed into the hour.
 *
 * Rows stored before this migration carry no receipt time; they get the time of the
 * migration, the safe guess (nothing is rolled up or deleted before its window: at
 * worst they are rolled up 30 days after the upgrade instead of earlier).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const now = Date.now();
  for (const table of ['tunnel_buckets', 'exporter_buckets']) {
    await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN received_ms integer NOT NULL DEFAULT 0`.execute(db);
    await sql`UPDATE ${sql.table(table)} SET received_ms = ${now}`.execute(db);
    // Retention walks each table by receipt age, oldest first, a bounded step at a time.
    await db.schema.createIndex(`${table}_received`).on(table).column('received_ms').execute();
  }

  await sql`
    CREATE TABLE tunnel_buckets_hourly (
      tunnel_id text NOT NULL,
      bucket_start_ms integer NOT NULL,
      direction text NOT NULL,
      exporter text NOT NULL,
      domain_id integer NOT NULL,${sql.raw(TUNNEL_COUNTERS)},
      received_ms integer NOT NULL DEFAULT 0,
      PRIMARY KEY (tunnel_id, bucket_start_ms, direction, exporter, domain_id)
    ) WITHOUT ROWID
  `.execute(db);
  await db.schema
    .createIndex('tunnel_buckets_hourly_start')
    .on('tunnel_buckets_hourly')
    .column('bucket_start_ms')
    .execute();
  await db.schema
    .createIndex('tunnel_buckets_hourly_received')
    .on('tunnel_buckets_hourly')
    .column('received_ms')
    .execute();

  await db.schema
    .createTable('exporter_buckets_hourly')
    .addColumn('exporter', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'integer', (c) => c.notNull())
    .addColumn('bucket_start_ms', 'integer', (c) => c.notNull())
    .addColumn('records', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('datagrams', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('issues', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sequence_gaps', 'integer', (c) => c.notNull().defaultTo(0))
    /** Minutes (native buckets) of the hour that had any record or datagram. */
    .addColumn('active_buckets', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('received_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('exporter_buckets_hourly_pk', ['exporter', 'domain_id', 'bucket_start_ms'])
    .execute();
  await db.schema
    .createIndex('exporter_buckets_hourly_start')
    .on('exporter_buckets_hourly')
    .column('bucket_start_ms')
    .execute();
  await db.schema
    .createIndex('exporter_buckets_hourly_received')
    .on('exporter_buckets_hourly')
    .column('received_ms')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('exporter_buckets_hourly').ifExists().execute();
  await db.schema.dropTable('tunnel_buckets_hourly').ifExists().execute();
  for (const table of ['tunnel_buckets', 'exporter_buckets']) {
    await db.schema.dropIndex(`${table}_received`).ifExists().execute();
    await sql`ALTER TABLE ${sql.table(table)} DROP COLUMN received_ms`.execute(db);
  }
}

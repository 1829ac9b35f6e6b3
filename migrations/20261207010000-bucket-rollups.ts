import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { int, withoutRowid } from './dialect.js';

// Typed against Kysely<any> on purpose: a migration is frozen in time (see the initial schema).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

const tunnelCounters = (i: string): string => `
      packets ${i} NOT NULL DEFAULT 0,
      octets ${i} NOT NULL DEFAULT 0,
      flows ${i} NOT NULL DEFAULT 0,
      esp_packets ${i} NOT NULL DEFAULT 0,
      fragments ${i} NOT NULL DEFAULT 0,
      icmp_frag_needed ${i} NOT NULL DEFAULT 0,
      ike_packets ${i} NOT NULL DEFAULT 0,
      leak_packets ${i} NOT NULL DEFAULT 0,
      reported_lost ${i} NOT NULL DEFAULT 0,
      reported_packets ${i} NOT NULL DEFAULT 0,
      sequence_lost ${i} NOT NULL DEFAULT 0,
      sequence_packets ${i} NOT NULL DEFAULT 0,
      cleared_negative ${i} NOT NULL DEFAULT 0,
      cleared_exceeds_sequence_space ${i} NOT NULL DEFAULT 0,
      cleared_exceeds_ceiling ${i} NOT NULL DEFAULT 0,
      cleared_sa_change ${i} NOT NULL DEFAULT 0,
      cleared_fragments ${i} NOT NULL DEFAULT 0,
      cleared_non_esp ${i} NOT NULL DEFAULT 0,
      carried_in ${i} NOT NULL DEFAULT 0`;

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
  const i = int(db);
  const now = Date.now();
  for (const table of ['tunnel_buckets', 'exporter_buckets']) {
    await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN received_ms ${sql.raw(i)} NOT NULL DEFAULT 0`.execute(
      db,
    );
    await sql`UPDATE ${sql.table(table)} SET received_ms = ${now}`.execute(db);
    // Retention walks each table by receipt age, oldest first, a bounded step at a time.
    await db.schema.createIndex(`${table}_received`).on(table).column('received_ms').execute();
  }

  await sql
    .raw(
      `
    CREATE TABLE tunnel_buckets_hourly (
      tunnel_id text NOT NULL,
      bucket_start_ms ${i} NOT NULL,
      direction text NOT NULL,
      exporter text NOT NULL,
      domain_id ${i} NOT NULL,${tunnelCounters(i)},
      received_ms ${i} NOT NULL DEFAULT 0,
      PRIMARY KEY (tunnel_id, bucket_start_ms, direction, exporter, domain_id)
    )${withoutRowid(db)}
  `,
    )
    .execute(db);
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
    .addColumn('domain_id', i, (c) => c.notNull())
    .addColumn('bucket_start_ms', i, (c) => c.notNull())
    .addColumn('records', i, (c) => c.notNull().defaultTo(0))
    .addColumn('datagrams', i, (c) => c.notNull().defaultTo(0))
    .addColumn('issues', i, (c) => c.notNull().defaultTo(0))
    .addColumn('sequence_gaps', i, (c) => c.notNull().defaultTo(0))
    /** Minutes (native buckets) of the hour that had any record or datagram. */
    .addColumn('active_buckets', i, (c) => c.notNull().defaultTo(0))
    .addColumn('received_ms', i, (c) => c.notNull().defaultTo(0))
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

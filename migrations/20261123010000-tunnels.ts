import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { int, withoutRowid } from './dialect.js';

// Tunnels, their security associations, their per-bucket counters, and the collector's
// remembered state. Typed against Kysely<any>: a migration is frozen in time.
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

export async function up(db: Kysely<any>): Promise<void> {
  const i = int(db);
  await db.schema
    .createTable('tunnels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('peer_a', 'text', (c) => c.notNull())
    .addColumn('peer_b', 'text', (c) => c.notNull())
    .addColumn('encapsulation', 'text', (c) => c.notNull())
    .addColumn('ip_version', i, (c) => c.notNull())
    .addColumn('first_seen_ms', i, (c) => c.notNull())
    .addColumn('last_seen_ms', i, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('security_associations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tunnel_id', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('src', 'text', (c) => c.notNull())
    .addColumn('dst', 'text', (c) => c.notNull())
    .addColumn('spi', i)
    .addColumn('generation', i, (c) => c.notNull())
    .addColumn('first_seen_ms', i, (c) => c.notNull())
    .addColumn('last_seen_ms', i, (c) => c.notNull())
    .addColumn('ended_ms', i)
    .addColumn('end_reason', 'text')
    .addColumn('paired_sa_id', 'text')
    .execute();
  await db.schema
    .createIndex('security_associations_tunnel')
    .on('security_associations')
    .columns(['tunnel_id', 'first_seen_ms'])
    .execute();

  // One row per tunnel, bucket, direction and observation point; every other column is
  // additive (the writer adds deltas), so the key is the primary key and the table is
  // clustered on it (WITHOUT ROWID): a tunnel's time series is one contiguous range.
  // PostgreSQL has no clustered tables; there the primary key's index serves the same reads.
  await sql
    .raw(
      `
    CREATE TABLE tunnel_buckets (
      tunnel_id text NOT NULL,
      bucket_start_ms ${i} NOT NULL,
      direction text NOT NULL,
      exporter text NOT NULL,
      domain_id ${i} NOT NULL,
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
      carried_in ${i} NOT NULL DEFAULT 0,
      PRIMARY KEY (tunnel_id, bucket_start_ms, direction, exporter, domain_id)
    )${withoutRowid(db)}
  `,
    )
    .execute(db);
  // The loss page scans every tunnel over a time range.
  await db.schema
    .createIndex('tunnel_buckets_start')
    .on('tunnel_buckets')
    .column('bucket_start_ms')
    .execute();

  // Small JSON documents the collector remembers across restarts (the normalizer's
  // tunnel and SA memory), written in the same transactions as the flows they explain.
  await db.schema
    .createTable('collector_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_ms', i, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('collector_state').execute();
  await db.schema.dropTable('tunnel_buckets').execute();
  await db.schema.dropTable('security_associations').execute();
  await db.schema.dropTable('tunnels').execute();
}

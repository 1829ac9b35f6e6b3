// TEMPORARY (issue 10): the PostgreSQL schema of /work/briefs/pg-common-schema.md, written out
// for the writer's tests until the dialect-aware migrations (branch pg-schema) are on main;
// then the tests call migrateToLatest instead and this file goes.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { tunnelBucketCounterColumns } from '../../store/tunnels/tunnel-bucket.table.js';

const COUNTERS = tunnelBucketCounterColumns.map((c) => `${c} bigint NOT NULL DEFAULT 0`).join(',\n  ');

const DDL = `
CREATE SEQUENCE flows_id_seq;
CREATE TABLE flows (
  id bigint NOT NULL DEFAULT nextval('flows_id_seq'),
  exporter text NOT NULL,
  domain_id bigint NOT NULL,
  version bigint NOT NULL,
  template_id bigint,
  received_ms bigint NOT NULL,
  start_ms bigint NOT NULL,
  end_ms bigint NOT NULL,
  ip_version bigint NOT NULL,
  src inet NOT NULL,
  dst inet NOT NULL,
  proto bigint NOT NULL,
  src_port bigint,
  dst_port bigint,
  spi bigint,
  packets bigint NOT NULL,
  octets bigint NOT NULL,
  raw_packets bigint NOT NULL,
  raw_octets bigint NOT NULL,
  sampling_rate bigint NOT NULL,
  tcp_flags bigint,
  tos bigint,
  icmp_type bigint,
  icmp_code bigint,
  fragment_id bigint,
  fragment_offset bigint,
  fragment_flags bigint,
  in_if bigint,
  out_if bigint,
  flow_direction bigint,
  reported_loss bigint,
  esp_seq_first bigint,
  esp_seq_last bigint,
  kind text NOT NULL,
  tunnel_id text,
  sa_id text,
  tunnel_direction text,
  validated_loss bigint,
  loss_cleared_reason text,
  tunnel_key bigint
) PARTITION BY LIST (kind);
CREATE TABLE flows_other PARTITION OF flows FOR VALUES IN ('other') PARTITION BY RANGE (received_ms);
CREATE TABLE flows_tunnel PARTITION OF flows DEFAULT PARTITION BY RANGE (received_ms);
CREATE INDEX flows_end_ms ON flows (end_ms);
CREATE INDEX flows_tunnel_key_end_ms ON flows (tunnel_key, end_ms) WHERE tunnel_key IS NOT NULL;

CREATE TABLE exporters (
  exporter text NOT NULL, domain_id bigint NOT NULL, version bigint,
  datagrams bigint NOT NULL DEFAULT 0, records bigint NOT NULL DEFAULT 0,
  templates bigint NOT NULL DEFAULT 0, options_records bigint NOT NULL DEFAULT 0,
  malformed bigint NOT NULL DEFAULT 0, missing_template_records bigint NOT NULL DEFAULT 0,
  sequence_gaps bigint NOT NULL DEFAULT 0, dropped bigint NOT NULL DEFAULT 0,
  issues text NOT NULL DEFAULT '{}', first_seen_ms bigint NOT NULL, last_seen_ms bigint NOT NULL,
  CONSTRAINT exporters_pk PRIMARY KEY (exporter, domain_id)
);
CREATE TABLE templates (
  exporter text NOT NULL, domain_id bigint NOT NULL, template_id bigint NOT NULL,
  version bigint NOT NULL, body text NOT NULL, updated_ms bigint NOT NULL,
  CONSTRAINT templates_pk PRIMARY KEY (exporter, domain_id, template_id)
);
CREATE TABLE exporter_buckets (
  exporter text NOT NULL, domain_id bigint NOT NULL, bucket_start_ms bigint NOT NULL,
  records bigint NOT NULL DEFAULT 0, datagrams bigint NOT NULL DEFAULT 0,
  issues bigint NOT NULL DEFAULT 0, sequence_gaps bigint NOT NULL DEFAULT 0,
  received_ms bigint NOT NULL DEFAULT 0,
  CONSTRAINT exporter_buckets_pk PRIMARY KEY (exporter, domain_id, bucket_start_ms)
);
CREATE INDEX exporter_buckets_start_ms ON exporter_buckets (bucket_start_ms);
CREATE INDEX exporter_buckets_received ON exporter_buckets (received_ms);
CREATE TABLE exporter_buckets_hourly (
  exporter text NOT NULL, domain_id bigint NOT NULL, bucket_start_ms bigint NOT NULL,
  records bigint NOT NULL DEFAULT 0, datagrams bigint NOT NULL DEFAULT 0,
  issues bigint NOT NULL DEFAULT 0, sequence_gaps bigint NOT NULL DEFAULT 0,
  active_buckets bigint NOT NULL DEFAULT 0, received_ms bigint NOT NULL DEFAULT 0,
  CONSTRAINT exporter_buckets_hourly_pk PRIMARY KEY (exporter, domain_id, bucket_start_ms)
);
CREATE TABLE store_meta (key text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE tunnels (
  id text PRIMARY KEY, name text, peer_a text NOT NULL, peer_b text NOT NULL,
  encapsulation text NOT NULL, ip_version bigint NOT NULL,
  first_seen_ms bigint NOT NULL, last_seen_ms bigint NOT NULL
);
CREATE TABLE security_associations (
  id text PRIMARY KEY, tunnel_id text NOT NULL, direction text NOT NULL, src text NOT NULL,
  dst text NOT NULL, spi bigint, generation bigint NOT NULL, first_seen_ms bigint NOT NULL,
  last_seen_ms bigint NOT NULL, ended_ms bigint, end_reason text, paired_sa_id text
);
CREATE INDEX security_associations_tunnel ON security_associations (tunnel_id, first_seen_ms);
CREATE TABLE tunnel_buckets (
  tunnel_id text NOT NULL, bucket_start_ms bigint NOT NULL, direction text NOT NULL,
  exporter text NOT NULL, domain_id bigint NOT NULL,
  ${COUNTERS},
  received_ms bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tunnel_id, bucket_start_ms, direction, exporter, domain_id)
);
CREATE INDEX tunnel_buckets_start ON tunnel_buckets (bucket_start_ms);
CREATE INDEX tunnel_buckets_received ON tunnel_buckets (received_ms);
CREATE TABLE tunnel_buckets_hourly (
  tunnel_id text NOT NULL, bucket_start_ms bigint NOT NULL, direction text NOT NULL,
  exporter text NOT NULL, domain_id bigint NOT NULL,
  ${COUNTERS},
  received_ms bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tunnel_id, bucket_start_ms, direction, exporter, domain_id)
);
CREATE TABLE collector_state (key text PRIMARY KEY, value text NOT NULL, updated_ms bigint NOT NULL);
CREATE TABLE report_day_summaries (
  tunnel_id text NOT NULL, day_start_ms bigint NOT NULL, basis text NOT NULL,
  built_ms bigint NOT NULL, body text NOT NULL,
  CONSTRAINT report_day_summaries_pk PRIMARY KEY (tunnel_id, day_start_ms)
);
CREATE INDEX report_day_summaries_day ON report_day_summaries (day_start_ms);
`;

/** Creates the schema in an empty database. TEMPORARY: see the top of the file. */
export async function createTemporarySchema(db: Kysely<unknown>): Promise<void> {
  await sql.raw(DDL).execute(db);
}

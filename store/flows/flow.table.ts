import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * The `flows` table: every field of `NormalizedFlow` in snake_case, plus two derived
 * columns. Integers are SQLite INTEGER (64-bit); see store/bigint-policy.ts for what
 * happens to counters above 2^53.
 */
export interface FlowTable {
  id: Generated<number>;
  exporter: string;
  domain_id: number;
  version: number;
  template_id: number | null;
  received_ms: number;
  start_ms: number;
  end_ms: number;
  ip_version: number;
  src: string;
  dst: string;
  proto: number;
  src_port: number | null;
  dst_port: number | null;
  spi: number | null;
  packets: number;
  octets: number;
  raw_packets: number;
  raw_octets: number;
  sampling_rate: number;
  tcp_flags: number | null;
  tos: number | null;
  icmp_type: number | null;
  icmp_code: number | null;
  fragment_id: number | null;
  fragment_offset: number | null;
  fragment_flags: number | null;
  in_if: number | null;
  out_if: number | null;
  flow_direction: number | null;
  reported_loss: number | null;
  esp_seq_first: number | null;
  esp_seq_last: number | null;
  kind: string;
  tunnel_id: string | null;
  sa_id: string | null;
  tunnel_direction: string | null;
  validated_loss: number | null;
  loss_cleared_reason: string | null;
  /** Retired (FLOW_RETIRED_COLUMNS): set only in rows written before 2026-11-23. */
  src_key: Uint8Array | null;
  dst_key: Uint8Array | null;
  /** Integer key of tunnel_id, for the drill-down index (store/flows/tunnel-key.ts). */
  tunnel_key: number | null;
}

export type FlowRow = Selectable<FlowTable>;
export type NewFlowRow = Insertable<FlowTable>;

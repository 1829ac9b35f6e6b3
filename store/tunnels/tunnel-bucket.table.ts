import type { Insertable, Selectable } from 'kysely';
import type { TunnelDirection } from '../../model/flow.js';
import type { TunnelBucket, TunnelBucketDelta } from '../../model/tunnel-bucket.js';

/**
 * The `tunnel_buckets` table: one row per (tunnel, bucket start, direction, exporter,
 * domain). Every column but the key is additive: the writer adds each delta the
 * normalizer emits into the row with the same key (INSERT … ON CONFLICT DO UPDATE SET
 * x = x + excluded.x), and a rollup to coarser buckets is a plain SUM.
 */
export interface TunnelBucketTable {
  tunnel_id: string;
  bucket_start_ms: number;
  direction: string;
  exporter: string;
  domain_id: number;
  packets: number;
  octets: number;
  flows: number;
  esp_packets: number;
  fragments: number;
  icmp_frag_needed: number;
  ike_packets: number;
  leak_packets: number;
  reported_lost: number;
  reported_packets: number;
  sequence_lost: number;
  sequence_packets: number;
  cleared_negative: number;
  cleared_exceeds_sequence_space: number;
  cleared_exceeds_ceiling: number;
  cleared_sa_change: number;
  cleared_fragments: number;
  cleared_non_esp: number;
  carried_in: number;
  /** When tunnelflow last received a record added into the row (the largest receipt time). */
  received_ms: number;
}

export type TunnelBucketRow = Selectable<TunnelBucketTable>;
export type NewTunnelBucketRow = Insertable<TunnelBucketTable>;

/** The additive columns, for the writer's ON CONFLICT clause and for rollups. */
export const tunnelBucketCounterColumns = [
  'packets',
  'octets',
  'flows',
  'esp_packets',
  'fragments',
  'icmp_frag_needed',
  'ike_packets',
  'leak_packets',
  'reported_lost',
  'reported_packets',
  'sequence_lost',
  'sequence_packets',
  'cleared_negative',
  'cleared_exceeds_sequence_space',
  'cleared_exceeds_ceiling',
  'cleared_sa_change',
  'cleared_fragments',
  'cleared_non_esp',
  'carried_in',
] as const satisfies readonly (keyof TunnelBucketTable)[];

export function bucketDeltaToRow(delta: TunnelBucketDelta, receivedMs: number): NewTunnelBucketRow {
  return {
    tunnel_id: delta.tunnelId,
    bucket_start_ms: delta.bucketStartMs,
    direction: delta.direction,
    exporter: delta.exporter,
    domain_id: delta.domainId,
    packets: delta.packets,
    octets: delta.octets,
    flows: delta.flows,
    esp_packets: delta.espPackets,
    fragments: delta.fragments,
    icmp_frag_needed: delta.icmpFragNeeded,
    ike_packets: delta.ikePackets,
    leak_packets: delta.leakPackets,
    reported_lost: delta.reportedLost,
    reported_packets: delta.reportedPackets,
    sequence_lost: delta.sequenceLost,
    sequence_packets: delta.sequencePackets,
    cleared_negative: delta.cleared.negative,
    cleared_exceeds_sequence_space: delta.cleared['exceeds-sequence-space'],
    cleared_exceeds_ceiling: delta.cleared['exceeds-ceiling'],
    cleared_sa_change: delta.cleared['sa-change'],
    cleared_fragments: delta.cleared.fragments,
    cleared_non_esp: delta.cleared['non-esp'],
    carried_in: delta.carriedIn,
    received_ms: receivedMs,
  };
}

/** The columns a bucket is read from, in the order `rawRowToBucket` takes them. */
export const tunnelBucketReadColumns = [
  'tunnel_id',
  'bucket_start_ms',
  'direction',
  'exporter',
  'domain_id',
  ...tunnelBucketCounterColumns,
] as const satisfies readonly (keyof TunnelBucketTable)[];

/**
 * A row read as an array (better-sqlite3's raw mode, `tunnelBucketReadColumns` order) in
 * domain form; `spanMs` for a rolled-up (hourly) row. Arrays rather than row objects:
 * building a 25-key object per row is most of the cost of reading a month of buckets.
 */
export function rawRowToBucket(r: readonly unknown[], spanMs?: number): TunnelBucket {
  const n = (i: number) => r[i] as number;
  const bucket: TunnelBucket = {
    tunnelId: r[0] as string,
    bucketStartMs: n(1),
    direction: r[2] as TunnelDirection,
    exporter: r[3] as string,
    domainId: n(4),
    packets: n(5),
    octets: n(6),
    flows: n(7),
    espPackets: n(8),
    fragments: n(9),
    icmpFragNeeded: n(10),
    ikePackets: n(11),
    leakPackets: n(12),
    reportedLost: n(13),
    reportedPackets: n(14),
    sequenceLost: n(15),
    sequencePackets: n(16),
    cleared: {
      negative: n(17),
      'exceeds-sequence-space': n(18),
      'exceeds-ceiling': n(19),
      'sa-change': n(20),
      fragments: n(21),
      'non-esp': n(22),
    },
    carriedIn: n(23),
  };
  return spanMs === undefined ? bucket : { ...bucket, spanMs };
}

/** A row object in domain form; `spanMs` for a rolled-up (hourly) row. */
export function rowToBucket(row: TunnelBucketRow, spanMs?: number): TunnelBucket {
  return rawRowToBucket(
    tunnelBucketReadColumns.map((c) => row[c]),
    spanMs,
  );
}

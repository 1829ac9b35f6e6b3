import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { StoreExtensionWriter } from '../writer/store-extension.js';
import { saToRow } from './sa.table.js';
import { bucketDeltaToRow, tunnelBucketCounterColumns } from './tunnel-bucket.table.js';
import type { TunnelStatePayload } from './tunnel-state-payload.js';
import { tunnelToRow } from './tunnel.table.js';

const BUCKET_KEY = ['tunnel_id', 'bucket_start_ms', 'direction', 'exporter', 'domain_id'] as const;
const BUCKET_COLUMNS = [...BUCKET_KEY, ...tunnelBucketCounterColumns];

/**
 * Runs in the writer's worker, inside the batch transaction: tunnels and SAs are upserted
 * (first seen keeps the minimum, last seen the maximum, the rest the latest value), and
 * bucket deltas are added into their rows.
 */
export function createStoreExtension(sqlite: SqliteDatabase): StoreExtensionWriter {
  const upsertTunnel = sqlite.prepare(`
    INSERT INTO tunnels (id, name, peer_a, peer_b, encapsulation, ip_version, first_seen_ms, last_seen_ms)
    VALUES (@id, @name, @peer_a, @peer_b, @encapsulation, @ip_version, @first_seen_ms, @last_seen_ms)
    ON CONFLICT (id) DO UPDATE SET
      name = coalesce(excluded.name, tunnels.name),
      first_seen_ms = min(tunnels.first_seen_ms, excluded.first_seen_ms),
      last_seen_ms = max(tunnels.last_seen_ms, excluded.last_seen_ms)`);
  const upsertSa = sqlite.prepare(`
    INSERT INTO security_associations
      (id, tunnel_id, direction, src, dst, spi, generation, first_seen_ms, last_seen_ms, ended_ms, end_reason, paired_sa_id)
    VALUES
      (@id, @tunnel_id, @direction, @src, @dst, @spi, @generation, @first_seen_ms, @last_seen_ms, @ended_ms, @end_reason, @paired_sa_id)
    ON CONFLICT (id) DO UPDATE SET
      first_seen_ms = min(security_associations.first_seen_ms, excluded.first_seen_ms),
      last_seen_ms = max(security_associations.last_seen_ms, excluded.last_seen_ms),
      ended_ms = excluded.ended_ms,
      end_reason = excluded.end_reason,
      paired_sa_id = excluded.paired_sa_id`);
  const addBucket = sqlite.prepare(`
    INSERT INTO tunnel_buckets (${BUCKET_COLUMNS.join(', ')})
    VALUES (${BUCKET_COLUMNS.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (${BUCKET_KEY.join(', ')}) DO UPDATE SET
      ${tunnelBucketCounterColumns.map((c) => `${c} = ${c} + excluded.${c}`).join(',\n      ')}`);

  return {
    apply(payload: unknown) {
      const p = payload as TunnelStatePayload;
      for (const t of p.tunnels) upsertTunnel.run(tunnelToRow(t));
      for (const sa of p.sas) upsertSa.run(saToRow(sa));
      for (const b of p.buckets) addBucket.run(bucketDeltaToRow(b));
    },
  };
}

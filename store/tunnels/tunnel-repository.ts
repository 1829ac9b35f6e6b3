import type { Kysely } from 'kysely';
import type { CollectorStateTable } from '../state/collector-state.js';
import { rowToSa } from './sa.table.js';
import type { SaTable } from './sa.table.js';
import type { TunnelBucket } from '../../model/tunnel-bucket.js';
import { rowToBucket } from './tunnel-bucket.table.js';
import type { TunnelBucketTable } from './tunnel-bucket.table.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import { rowToTunnel } from './tunnel.table.js';
import type { TunnelTable } from './tunnel.table.js';

/** The tables of migrations/20261123010000-tunnels.ts. */
export interface TunnelTables {
  tunnels: TunnelTable;
  security_associations: SaTable;
  tunnel_buckets: TunnelBucketTable;
  collector_state: CollectorStateTable;
}

export type TunnelDb = Kysely<TunnelTables>;

/** Tunnels seen at some point of [fromMs, toMs), in peer order. */
export async function listTunnels(db: TunnelDb, fromMs: number, toMs: number): Promise<Tunnel[]> {
  const rows = await db
    .selectFrom('tunnels')
    .selectAll()
    .where('first_seen_ms', '<', toMs)
    .where('last_seen_ms', '>=', fromMs)
    .orderBy('peer_a')
    .orderBy('peer_b')
    .orderBy('encapsulation')
    .execute();
  return rows.map(rowToTunnel);
}

export async function getTunnel(db: TunnelDb, id: string): Promise<Tunnel | undefined> {
  const row = await db.selectFrom('tunnels').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : rowToTunnel(row);
}

/** SAs of the given tunnels alive at some point of [fromMs, toMs). */
export async function listSas(
  db: TunnelDb,
  tunnelIds: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<SecurityAssociation[]> {
  if (tunnelIds.length === 0) return [];
  const rows = await db
    .selectFrom('security_associations')
    .selectAll()
    .where('tunnel_id', 'in', tunnelIds)
    .where('first_seen_ms', '<', toMs)
    .where('last_seen_ms', '>=', fromMs)
    .orderBy('first_seen_ms')
    .orderBy('id')
    .execute();
  return rows.map(rowToSa);
}

/**
 * Bucket rows with a start in [fromMs, toMs) — of one tunnel, or of every tunnel when
 * `tunnelId` is null (the loss page).
 */
export async function loadBuckets(
  db: TunnelDb,
  tunnelId: string | null,
  fromMs: number,
  toMs: number,
): Promise<TunnelBucket[]> {
  let q = db
    .selectFrom('tunnel_buckets')
    .selectAll()
    .where('bucket_start_ms', '>=', fromMs)
    .where('bucket_start_ms', '<', toMs);
  if (tunnelId !== null) q = q.where('tunnel_id', '=', tunnelId);
  const rows = await q.orderBy('tunnel_id').orderBy('bucket_start_ms').execute();
  return rows.map(rowToBucket);
}

/** Tunnels by id, for the loss page. */
export async function getTunnels(db: TunnelDb, ids: readonly string[]): Promise<Tunnel[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('tunnels').selectAll().where('id', 'in', ids).execute();
  return rows.map(rowToTunnel);
}

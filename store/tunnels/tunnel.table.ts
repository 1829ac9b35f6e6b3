import type { Insertable, Selectable } from 'kysely';
import type { Encapsulation, Tunnel } from '../../model/tunnel.js';

/**
 * The `tunnels` table. The normalizer re-emits a tunnel whenever it changes; the writer
 * upserts by id keeping the smallest `first_seen_ms` and the largest `last_seen_ms`
 * (a tunnel evicted from the normalizer's memory and seen again comes back with the same id).
 */
export interface TunnelTable {
  id: string;
  name: string | null;
  peer_a: string;
  peer_b: string;
  encapsulation: string;
  ip_version: number;
  first_seen_ms: number;
  last_seen_ms: number;
}

export type TunnelRow = Selectable<TunnelTable>;
export type NewTunnelRow = Insertable<TunnelTable>;

export function tunnelToRow(tunnel: Tunnel): NewTunnelRow {
  return {
    id: tunnel.id,
    name: tunnel.name,
    peer_a: tunnel.peerA,
    peer_b: tunnel.peerB,
    encapsulation: tunnel.encapsulation,
    ip_version: tunnel.ipVersion,
    first_seen_ms: tunnel.firstSeenMs,
    last_seen_ms: tunnel.lastSeenMs,
  };
}

export function rowToTunnel(row: TunnelRow): Tunnel {
  return {
    id: row.id,
    name: row.name,
    peerA: row.peer_a,
    peerB: row.peer_b,
    encapsulation: row.encapsulation as Encapsulation,
    ipVersion: row.ip_version === 6 ? 6 : 4,
    firstSeenMs: row.first_seen_ms,
    lastSeenMs: row.last_seen_ms,
  };
}

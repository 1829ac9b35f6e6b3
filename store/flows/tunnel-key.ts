/**
 * The integer that indexes a flow by its tunnel: a 32-bit FNV-1a hash of the tunnel id
 * (over its UTF-16 code units), as a signed 32-bit integer so that SQLite stores it in
 * four bytes.
 *
 * The drill-down index is (tunnel_key, end_ms), not (tunnel_id, end_ms): a tunnel id is
 * ~30 bytes of text, and with one insertion point per active tunnel the text index cost
 * ~20 % of the writer's time per row end to end (test/bench/e2e.ts, 256 tunnels); the
 * integer one about half of that. Two tunnels may share a key: every query on it
 * also compares tunnel_id, so a collision costs a few extra rows read, never a wrong one.
 *
 * Stored values and migration 20261123020000-tunnel-key depend on this exact function:
 * never change it (a new one needs a new column or a migration that recomputes).
 */
export function tunnelKey(tunnelId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < tunnelId.length; i += 1) {
    hash ^= tunnelId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** Name of the SQL function (registered on every connection) that computes tunnelKey. */
export const TUNNEL_KEY_FUNCTION = 'tunnelflow_tunnel_key';

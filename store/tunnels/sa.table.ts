import type { Insertable, Selectable } from 'kysely';
import type { TunnelDirection } from '../../model/flow.js';
import type { SaEndReason, SecurityAssociation } from '../../model/tunnel.js';

/**
 * The `security_associations` table. Upserted by id like `tunnels` (min first seen,
 * max last seen); `ended_ms`, `end_reason` and `paired_sa_id` take the latest value.
 */
export interface SaTable {
  id: string;
  tunnel_id: string;
  direction: string;
  src: string;
  dst: string;
  /** 32-bit SPI as an unsigned integer; null when the exporter sends none. */
  spi: number | null;
  generation: number;
  first_seen_ms: number;
  last_seen_ms: number;
  ended_ms: number | null;
  end_reason: string | null;
  paired_sa_id: string | null;
}

export type SaRow = Selectable<SaTable>;
export type NewSaRow = Insertable<SaTable>;

export function saToRow(sa: SecurityAssociation): NewSaRow {
  return {
    id: sa.id,
    tunnel_id: sa.tunnelId,
    direction: sa.direction,
    src: sa.src,
    dst: sa.dst,
    spi: sa.spi,
    generation: sa.generation,
    first_seen_ms: sa.firstSeenMs,
    last_seen_ms: sa.lastSeenMs,
    ended_ms: sa.endedMs,
    end_reason: sa.endReason,
    paired_sa_id: sa.pairedSaId,
  };
}

export function rowToSa(row: SaRow): SecurityAssociation {
  return {
    id: row.id,
    tunnelId: row.tunnel_id,
    direction: row.direction as TunnelDirection,
    src: row.src,
    dst: row.dst,
    spi: row.spi,
    generation: row.generation,
    firstSeenMs: row.first_seen_ms,
    lastSeenMs: row.last_seen_ms,
    endedMs: row.ended_ms,
    endReason: row.end_reason as SaEndReason | null,
    pairedSaId: row.paired_sa_id,
  };
}

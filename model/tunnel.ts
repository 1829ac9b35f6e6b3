import type { TunnelDirection } from './flow.js';

/** How a tunnel's ESP travels: IP protocol 50, or UDP-encapsulated (NAT-T, RFC 3948). */
export type Encapsulation = 'esp' | 'esp-in-udp';

/**
 * A tunnel: an unordered pair of peers plus its encapsulation (DESIGN.md "Tunnels and
 * security associations"). `peerA` is the lower address (numerically, IPv4 before IPv6),
 * so the same two peers always give the same tunnel whichever side was seen first.
 */
export interface Tunnel {
  /** Deterministic: built from the peers and the encapsulation (collector/normalize/ids.ts). */
  readonly id: string;
  /** From the configuration, when a configured tunnel has these peers. */
  readonly name: string | null;
  readonly peerA: string;
  readonly peerB: string;
  readonly encapsulation: Encapsulation;
  readonly ipVersion: 4 | 6;
  /** Record times (flow start / end), never wall-clock time. */
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/** Why an SA stopped being the current one of its direction. */
export type SaEndReason = 'rekey' | 'idle';

/**
 * One direction of ESP: (src, dst, SPI), or (src, dst) when the exporter sends no SPI.
 * The same key seen again after the idle gap is a new generation, and a new id.
 */
export interface SecurityAssociation {
  readonly id: string;
  readonly tunnelId: string;
  readonly direction: TunnelDirection;
  readonly src: string;
  readonly dst: string;
  readonly spi: number | null;
  readonly generation: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** When a successor took over (rekey) or when it went idle; null while current. */
  readonly endedMs: number | null;
  readonly endReason: SaEndReason | null;
  /** The SA of the other direction it is paired with; null for a half-open tunnel. */
  readonly pairedSaId: string | null;
}

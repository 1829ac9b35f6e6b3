import type { Encapsulation } from '../../model/tunnel.js';

/**
 * Ids are built from what the wire shows, never from counters, so two collectors (or one
 * collector after a restart) writing one database name the same tunnel the same way. `_`
 * separates the parts: it appears in no address and needs no escaping in a URL path.
 */
export function tunnelId(peerA: string, peerB: string, encapsulation: Encapsulation): string {
  return `${peerA}_${peerB}_${encapsulation}`;
}

/** SPI as 8 lowercase hex digits, the way IPsec tools print it. */
export function spiHex(spi: number): string {
  return `0x${(spi >>> 0).toString(16).padStart(8, '0')}`;
}

/** SA id: source, destination, SPI (or `nospi`) and the generation of that key. */
export function saId(src: string, dst: string, spi: number | null, generation: number): string {
  return `${src}_${dst}_${spi === null ? 'nospi' : spiHex(spi)}_g${generation}`;
}

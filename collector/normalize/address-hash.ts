/**
 * A cheap hash of an address text for the normalizer's direct-mapped caches and filters:
 * its last four characters, where a network's hosts and a hub's peers differ (the low
 * octets), mixed. No string hash of the engine is reachable from JS, and hashing the whole
 * text would cost what the lookups it spares do; keys that share a hash only cost a miss.
 */
export function addressHash(text: string): number {
  const n = text.length;
  const h =
    text.charCodeAt(n - 1) |
    (text.charCodeAt(n - 2) << 8) |
    (text.charCodeAt(n - 3) << 16) |
    (text.charCodeAt(n - 4) << 24);
  const m = Math.imul(h, 0x9e3779b1);
  return m ^ (m >>> 15);
}

/**
 * A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 (`::ffff:192.0.2.1`).
 * Exporters are keyed by address, so the same router must get the same key whichever
 * socket family received it.
 */
export function canonicalPeerAddress(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.includes('.')) return lower.slice(7);
  return lower;
}

/** What pairing needs to know about an SA. */
export interface PairingCandidate {
  readonly id: string;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/**
 * Pairs the SAs of a tunnel's two directions (DESIGN.md: the SA A→B is paired with the SA
 * B→A whose lifetime overlaps it and whose first appearance is nearest in time).
 *
 * Every overlapping (A→B, B→A) couple is a candidate; candidates are taken greedily by
 * distance between first appearances (ties by ids), each SA at most once. Taking the
 * globally nearest couple first makes the result independent of input order, and after a
 * rekey the new pair finds each other instead of the new A→B grabbing the old B→A that
 * still overlaps it by a few packets. Lifetimes are inclusive: touching counts as overlap.
 * Returns id → paired id, in both directions; unpaired SAs are absent.
 */
export function pairSecurityAssociations(
  aToB: readonly PairingCandidate[],
  bToA: readonly PairingCandidate[],
): Map<string, string> {
  const candidates: { a: PairingCandidate; b: PairingCandidate; distance: number }[] = [];
  for (const a of aToB) {
    for (const b of bToA) {
      if (a.firstSeenMs <= b.lastSeenMs && b.firstSeenMs <= a.lastSeenMs) {
        candidates.push({ a, b, distance: Math.abs(a.firstSeenMs - b.firstSeenMs) });
      }
    }
  }
  candidates.sort(
    (x, y) =>
      x.distance - y.distance ||
      (x.a.id < y.a.id ? -1 : x.a.id > y.a.id ? 1 : 0) ||
      (x.b.id < y.b.id ? -1 : x.b.id > y.b.id ? 1 : 0),
  );
  const pairs = new Map<string, string>();
  for (const { a, b } of candidates) {
    if (pairs.has(a.id) || pairs.has(b.id)) continue;
    pairs.set(a.id, b.id);
    pairs.set(b.id, a.id);
  }
  return pairs;
}

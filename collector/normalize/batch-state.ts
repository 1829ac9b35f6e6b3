import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import { emptyNormalizerCounters } from './normalizer-counters.js';
import type { NormalizerCounters } from './normalizer-counters.js';
import type { SaState, TunnelState } from './normalizer-state.js';
import { toSa } from './sa-registry.js';
import { toTunnel } from './tunnel-registry.js';

/**
 * What the normalizer's batches change, shared by the registries and the attribution
 * functions: the current batch's counters and the tunnels whose SA pairing must be redone,
 * and, until they are taken, the tunnels and SAs to hand to the store.
 *
 * The changed tunnels and SAs are kept as the registries' own state objects, by id, from
 * batch to batch: the live path takes them once per flush (collector/pipeline.ts), so a
 * tunnel seen in thousands of datagrams becomes one Tunnel object per flush instead of one
 * per datagram and a merge of each into the last. Holding the state itself also keeps what
 * the registries forget before the take (an idle tunnel evicted, an SA trimmed from the
 * history): its last change still reaches the store.
 */
export class BatchState {
  counters: NormalizerCounters = emptyNormalizerCounters();
  pairingDirty = new Set<string>();
  #tunnels = new Map<string, TunnelState>();
  #sas = new Map<string, SaState>();
  /**
   * Earlier states of an id that was forgotten and made anew (evicted, then seen again)
   * before the take: merged into the newer one's first/last seen.
   */
  #replacedTunnels: TunnelState[] = [];
  #replacedSas: SaState[] = [];

  /**
   * What the batches counted since the last take; counting goes on from zero in a new object
   * (a caller may hold the one taken). The normalizer takes them when its cumulative counters
   * are read, not after every batch: adding up every counter per datagram cost more than the
   * counting itself.
   */
  takeCounters(): NormalizerCounters {
    const taken = this.counters;
    this.counters = emptyNormalizerCounters();
    return taken;
  }

  tunnelChanged(t: TunnelState): void {
    const held = this.#tunnels.get(t.id);
    if (held === t) return;
    if (held !== undefined) this.#replacedTunnels.push(held);
    this.#tunnels.set(t.id, t);
  }

  saChanged(sa: SaState): void {
    const held = this.#sas.get(sa.id);
    if (held === sa) return;
    if (held !== undefined) this.#replacedSas.push(held);
    this.#sas.set(sa.id, sa);
  }

  /** The tunnels and SAs changed since the last take, as the store sees them; then none. */
  takeChanges(): { tunnels: Tunnel[]; sas: SecurityAssociation[] } {
    const taken = {
      tunnels: merged(this.#tunnels, this.#replacedTunnels, toTunnel),
      sas: merged(this.#sas, this.#replacedSas, toSa),
    };
    // New maps, not clear(): see BucketDeltas.take.
    this.#tunnels = new Map();
    this.#sas = new Map();
    this.#replacedTunnels = [];
    this.#replacedSas = [];
    return taken;
  }
}

/** Each id once: its latest state, with the widest first/last seen of the states replaced. */
function merged<S extends { readonly id: string }, T extends { firstSeenMs: number; lastSeenMs: number }>(
  latest: ReadonlyMap<string, S>,
  replaced: readonly S[],
  convert: (s: S) => T,
): T[] {
  const out: T[] = [];
  if (replaced.length === 0) {
    for (const s of latest.values()) out.push(convert(s));
    return out;
  }
  const widest = new Map<string, T>();
  for (const s of replaced) {
    const earlier = convert(s);
    const seen = widest.get(s.id);
    if (seen !== undefined) widen(earlier, seen);
    widest.set(s.id, earlier);
  }
  for (const s of latest.values()) {
    const t = convert(s);
    const earlier = widest.get(s.id);
    if (earlier !== undefined) widen(t, earlier);
    out.push(t);
  }
  return out;
}

function widen(
  into: { firstSeenMs: number; lastSeenMs: number },
  from: { firstSeenMs: number; lastSeenMs: number },
): void {
  into.firstSeenMs = Math.min(into.firstSeenMs, from.firstSeenMs);
  into.lastSeenMs = Math.max(into.lastSeenMs, from.lastSeenMs);
}

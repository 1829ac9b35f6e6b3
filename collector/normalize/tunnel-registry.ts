import { compareAddresses } from '../../model/address-order.js';
import { canonicalIpv4 } from '../../model/address-parse.js';
import type { TunnelDirection } from '../../model/flow.js';
import type { Encapsulation, Tunnel } from '../../model/tunnel.js';
import { addressHash } from './address-hash.js';
import type { BatchState } from './batch-state.js';
import { tunnelId } from './ids.js';
import type { TunnelState } from './normalizer-state.js';

/** The direction a record travels in its tunnel: `a-b` when peer A sent it. */
export function directionOf(t: TunnelState, src: string): TunnelDirection {
  return src === t.peerA ? 'a-b' : 'b-a';
}

/** Slots of the registry's peer filter and of its cache of found tunnels (powers of two). */
const PEER_FILTER_SLOTS = 1 << 16;
const FOUND_SLOTS = 4096;

/**
 * The tunnels the normalizer remembers, indexed by peer and by peer pair, so that a record
 * between two hosts that are no peer costs one map lookup. Tunnels are named by the
 * configuration when it lists their peers.
 */
export class TunnelRegistry {
  readonly #tunnels = new Map<string, TunnelState>();
  /**
   * x → y → the tunnels between x and y (one per encapsulation), under both orders. Keyed by
   * the address strings themselves (interned by the decoder, their hashes kept), so a lookup
   * builds no pair key; the tunnels themselves, not their ids, so `find` needs no second map.
   */
  readonly #pairIndex = new Map<string, Map<string, TunnelState[]>>();
  /** peer address → ids of its tunnels. */
  readonly #peerIndex = new Map<string, string[]>();
  /** `peerA|peerB` (A the lower) → configured name. */
  readonly #names: ReadonlyMap<string, string>;
  readonly #batch: BatchState;
  /**
   * Indexed tunnels per peerSlot of their peers: a slot at 0 means the address is no peer,
   * which most records' addresses are not, and settles them without a map lookup.
   */
  readonly #peerFilter = new Uint32Array(PEER_FILTER_SLOTS);
  /**
   * Tunnels `find` returned lately, by a hash of the two addresses (the same in either
   * order, so a tunnel can only sit in its peers' slot); indexing and eviction clear it.
   */
  readonly #found: Array<TunnelState | undefined> = new Array<TunnelState | undefined>(FOUND_SLOTS).fill(
    undefined,
  );

  constructor(names: ReadonlyMap<string, string>, batch: BatchState) {
    this.#names = names;
    this.#batch = batch;
  }

  get size(): number {
    return this.#tunnels.size;
  }

  get(id: string): TunnelState | undefined {
    return this.#tunnels.get(id);
  }

  values(): IterableIterator<TunnelState> {
    return this.#tunnels.values();
  }

  /** Takes a tunnel back from a snapshot (its SA lists copied). */
  restore(t: TunnelState): void {
    const copy: TunnelState = { ...t, saIds: { 'a-b': [...t.saIds['a-b']], 'b-a': [...t.saIds['b-a']] } };
    this.#tunnels.set(copy.id, copy);
    this.#index(copy);
  }

  create(x: string, y: string, encapsulation: Encapsulation, startMs: number, endMs: number): TunnelState {
    const [peerA, peerB] = compareAddresses(x, y) <= 0 ? [x, y] : [y, x];
    const t: TunnelState = {
      id: tunnelId(peerA, peerB, encapsulation),
      name: this.#names.get(`${peerA}|${peerB}`) ?? null,
      peerA,
      peerB,
      encapsulation,
      ipVersion: peerA.includes(':') ? 6 : 4,
      firstSeenMs: startMs,
      lastSeenMs: endMs,
      lastEspMs: null,
      saIds: { 'a-b': [], 'b-a': [] },
    };
    this.#tunnels.set(t.id, t);
    this.#index(t);
    this.#batch.counters.tunnelsCreated++;
    this.#batch.tunnelChanged(t);
    return t;
  }

  /**
   * The tunnel of this encapsulation between two addresses, in either role. `srcIpv4` /
   * `dstIpv4` are the addresses' numbers when the caller has them (FlowRecord.srcIpv4).
   */
  find(
    src: string,
    dst: string,
    encapsulation: Encapsulation,
    srcIpv4?: number,
    dstIpv4?: number,
  ): TunnelState | undefined {
    const slot = foundSlot(src, dst);
    const seen = this.#found[slot];
    if (
      seen !== undefined &&
      seen.encapsulation === encapsulation &&
      ((seen.peerA === src && seen.peerB === dst) || (seen.peerA === dst && seen.peerB === src))
    ) {
      return seen;
    }
    if (!this.#maybePeers(src, dst, srcIpv4, dstIpv4)) return undefined;
    const between = this.#pairIndex.get(src)?.get(dst);
    if (between === undefined) return undefined;
    for (const t of between) {
      if (t.encapsulation !== encapsulation) continue;
      this.#found[slot] = t;
      return t;
    }
    return undefined;
  }

  /** The most recently seen tunnel between two addresses (either encapsulation); numbers as for `find`. */
  latestBetween(x: string, y: string, xIpv4?: number, yIpv4?: number): TunnelState | undefined {
    if (!this.#maybePeers(x, y, xIpv4, yIpv4)) return undefined;
    const between = this.#pairIndex.get(x)?.get(y);
    if (between === undefined) return undefined;
    let best: TunnelState | undefined;
    for (const t of between) if (best === undefined || t.lastSeenMs > best.lastSeenMs) best = t;
    return best;
  }

  /** Ids of the tunnels a peer belongs to. */
  ofPeer(peer: string): readonly string[] | undefined {
    return this.#peerIndex.get(peer);
  }

  /** Widens a tunnel's first/last seen to a record's times; the tunnel goes to the store. */
  touch(t: TunnelState, startMs: number, endMs: number): void {
    if (startMs < t.firstSeenMs) t.firstSeenMs = startMs;
    if (endMs > t.lastSeenMs) t.lastSeenMs = endMs;
    this.#batch.tunnelChanged(t);
  }

  /** Forgets a tunnel (idle); its SAs are the SA registry's to forget. */
  evict(t: TunnelState): void {
    this.#unindex(t);
    this.#tunnels.delete(t.id);
    this.#batch.counters.tunnelsEvicted++;
  }

  /** Entries of the pair index, both levels (every peer, every pair in either order); for tests. */
  get pairIndexEntries(): number {
    let n = this.#pairIndex.size;
    for (const byY of this.#pairIndex.values()) n += byY.size;
    return n;
  }

  /** False when one of the addresses is surely no tunnel's peer (see #peerFilter). */
  #maybePeers(x: string, y: string, xIpv4: number | undefined, yIpv4: number | undefined): boolean {
    const filter = this.#peerFilter;
    return filter[peerSlot(x, xIpv4)] !== 0 && filter[peerSlot(y, yIpv4)] !== 0;
  }

  /** Takes a tunnel of t's id out of the slot `find` keeps it in (its peers' slot). */
  #forgetFound(t: TunnelState): void {
    const slot = foundSlot(t.peerA, t.peerB);
    if (this.#found[slot]?.id === t.id) this.#found[slot] = undefined;
  }

  #index(t: TunnelState): void {
    // Counted per indexing: a tunnel indexed twice (restored over itself) only leaves a
    // slot non-zero for longer, which costs a lookup, never a miss.
    this.#peerFilter[peerSlot(t.peerA, undefined)]! += 1;
    this.#peerFilter[peerSlot(t.peerB, undefined)]! += 1;
    this.#forgetFound(t);
    addToPairIndex(this.#pairIndex, t.peerA, t.peerB, t);
    addToPairIndex(this.#pairIndex, t.peerB, t.peerA, t);
    addToIndex(this.#peerIndex, t.peerA, t.id);
    addToIndex(this.#peerIndex, t.peerB, t.id);
  }

  #unindex(t: TunnelState): void {
    const a = peerSlot(t.peerA, undefined);
    const b = peerSlot(t.peerB, undefined);
    if (this.#peerFilter[a]! > 0) this.#peerFilter[a]! -= 1;
    if (this.#peerFilter[b]! > 0) this.#peerFilter[b]! -= 1;
    this.#forgetFound(t);
    removeFromPairIndex(this.#pairIndex, t.peerA, t.peerB, t.id);
    removeFromPairIndex(this.#pairIndex, t.peerB, t.peerA, t.id);
    removeFromIndex(this.#peerIndex, t.peerA, t.id);
    removeFromIndex(this.#peerIndex, t.peerB, t.id);
  }
}

/**
 * The peer filter's slot of an address: by its IPv4 number (the record's, which the producer
 * read with the text, or the text parsed), else by its text. Numbers spread better than the
 * text's last characters and cost no character reads.
 */
function peerSlot(text: string, ipv4: number | undefined): number {
  // canonicalIpv4 gives -1 for IPv6 text (and for an IPv4 text not written canonically).
  const v4 = ipv4 !== undefined && ipv4 >= 0 ? ipv4 : canonicalIpv4(text);
  const h = v4 >= 0 ? Math.imul(v4, 0x9e3779b1) : addressHash(text);
  return (h ^ (h >>> 16)) & (PEER_FILTER_SLOTS - 1);
}

/** The #found slot of an address pair, the same in either order. */
function foundSlot(x: string, y: string): number {
  const h = addressHash(x) ^ addressHash(y);
  return (h ^ (h >>> 10)) & (FOUND_SLOTS - 1);
}

/** The tunnel as the store and the API see it. */
export function toTunnel(t: TunnelState): Tunnel {
  return {
    id: t.id,
    name: t.name,
    peerA: t.peerA,
    peerB: t.peerB,
    encapsulation: t.encapsulation,
    ipVersion: t.ipVersion,
    firstSeenMs: t.firstSeenMs,
    lastSeenMs: t.lastSeenMs,
  };
}

/** Indexes a tunnel under x → y; one with the same id already there is replaced. */
function addToPairIndex(
  index: Map<string, Map<string, TunnelState[]>>,
  x: string,
  y: string,
  t: TunnelState,
): void {
  let byY = index.get(x);
  if (byY === undefined) {
    byY = new Map();
    index.set(x, byY);
  }
  const between = byY.get(y);
  if (between === undefined) {
    byY.set(y, [t]);
    return;
  }
  const at = between.findIndex((other) => other.id === t.id);
  if (at >= 0) between[at] = t;
  else between.push(t);
}

/** Unindexes a tunnel from x → y, dropping the maps it leaves empty. */
function removeFromPairIndex(
  index: Map<string, Map<string, TunnelState[]>>,
  x: string,
  y: string,
  id: string,
): void {
  const byY = index.get(x);
  const between = byY?.get(y);
  if (byY === undefined || between === undefined) return;
  const at = between.findIndex((other) => other.id === id);
  if (at >= 0) between.splice(at, 1);
  if (between.length > 0) return;
  byY.delete(y);
  if (byY.size === 0) index.delete(x);
}

function addToIndex(index: Map<string, string[]>, key: string, id: string): void {
  const ids = index.get(key);
  if (ids === undefined) index.set(key, [id]);
  else if (!ids.includes(id)) ids.push(id);
}

function removeFromIndex(index: Map<string, string[]>, key: string, id: string): void {
  const ids = index.get(key);
  if (ids === undefined) return;
  const at = ids.indexOf(id);
  if (at >= 0) ids.splice(at, 1);
  if (ids.length === 0) index.delete(key);
}

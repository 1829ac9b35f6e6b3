import type { FlowRecord, TunnelDirection } from '../../model/flow.js';
import type { SecurityAssociation } from '../../model/tunnel.js';
import { addressHash } from './address-hash.js';
import type { BatchState } from './batch-state.js';
import { saId } from './ids.js';
import type { SaState, TunnelState } from './normalizer-state.js';
import { pairSecurityAssociations } from './sa-pairing.js';

const pairingDirections: readonly TunnelDirection[] = ['a-b', 'b-a'];

/** Slots of SaRegistry's cache of recent SAs (a power of two). */
const RECENT_SLOTS = 4096;

/**
 * The cache slot of a key: its SPI and both addresses (most routers export no SPI, so the
 * addresses must spread the keys too). Keys that share a slot only miss the cache.
 */
function recentSlot(src: string, dst: string, spi: number | null): number {
  let h = spi === null ? 0 : spi;
  h = Math.imul(h ^ addressHash(src), 0x85ebca6b);
  h ^= addressHash(dst);
  return (h ^ (h >>> 13)) & (RECENT_SLOTS - 1);
}

/** src → dst → SPI (null when not exported) → the latest generation's SA id. */
type KeyIndex = Map<string, Map<string, Map<number | null, string>>>;

/** The key generations are counted on, as snapshots keep it (SaState.key). */
function saKey(src: string, dst: string, spi: number | null): string {
  return `${src}|${dst}|${spi === null ? '' : spi}`;
}

/**
 * The SAs the normalizer remembers (DESIGN.md "Tunnels and security associations"): one per
 * direction and SPI (or per address pair without SPI), a new generation after an idle gap, a
 * rekey when a new SPI takes over a direction, pairing of the two directions, and a bounded
 * history per tunnel direction (older SAs stay in the store only).
 */
export class SaRegistry {
  readonly #sas = new Map<string, SaState>();
  /**
   * (src, dst, spi) → the latest generation's SA id, nested by the parts so that a record's
   * lookup builds no key string (the addresses are interned by the decoder, their hashes
   * kept; the SPI is a number key). SaState.key is built only when an SA is created.
   */
  readonly #byKey: KeyIndex = new Map();
  /**
   * The current SAs of recently seen keys (recentSlot): a hit (SPI, source and
   * destination compared) skips the three lookups of #byKey and the one of #sas for most ESP
   * records. Every change of a key's current SA goes through #setCurrent or #forget, which
   * keep it right.
   */
  readonly #recent: Array<SaState | undefined> = new Array<SaState | undefined>(RECENT_SLOTS).fill(undefined);
  readonly #history: number;
  readonly #idleMs: number;
  readonly #batch: BatchState;

  constructor(opts: { readonly saHistory: number; readonly saIdleMs: number }, batch: BatchState) {
    this.#history = opts.saHistory;
    this.#idleMs = opts.saIdleMs;
    this.#batch = batch;
  }

  get(id: string): SaState | undefined {
    return this.#sas.get(id);
  }

  values(): IterableIterator<SaState> {
    return this.#sas.values();
  }

  /** Takes an SA back from a snapshot; the latest generation of a key stays current. */
  restore(s: SaState): void {
    this.#sas.set(s.id, { ...s });
    const current = this.#currentId(s.src, s.dst, s.spi);
    const currentSa = current === undefined ? undefined : this.#sas.get(current);
    if (currentSa === undefined || currentSa.generation < s.generation) this.#setCurrent(s, s.id);
  }

  /** The SA a record belongs to: the current one of its key, a new generation, or a new SA. */
  saFor(r: FlowRecord, t: TunnelState, direction: TunnelDirection): SaState {
    let sa = this.#recent[recentSlot(r.src, r.dst, r.spi)];
    if (sa === undefined || sa.spi !== r.spi || sa.src !== r.src || sa.dst !== r.dst) {
      const currentId = this.#currentId(r.src, r.dst, r.spi);
      sa = currentId === undefined ? undefined : this.#sas.get(currentId);
      if (sa !== undefined) this.#recent[recentSlot(sa.src, sa.dst, sa.spi)] = sa;
    }
    let generation = 0;
    if (sa !== undefined && sa.tunnelId !== t.id) {
      // The key moved to another tunnel (e.g. evicted and recreated); start afresh.
      generation = sa.generation + 1;
      sa = undefined;
    }
    if (sa !== undefined && r.startMs - sa.lastSeenMs > this.#idleMs) {
      if (sa.endedMs === null) this.#end(sa, sa.lastSeenMs, 'idle');
      generation = sa.generation + 1;
      sa = undefined;
    }
    if (sa === undefined) return this.#create(r, t, direction, generation);
    if (sa.endedMs !== null && sa.endReason === 'idle') {
      // Ended by a sweep driven by another exporter's clock, yet seen within the idle gap: alive.
      sa.endedMs = null;
      sa.endReason = null;
      this.#batch.pairingDirty.add(t.id);
    }
    if (r.startMs < sa.firstSeenMs) sa.firstSeenMs = r.startMs;
    if (r.endMs > sa.lastSeenMs) sa.lastSeenMs = r.endMs;
    // An unpaired SA may pair once its lifetime grows to overlap one of the other direction;
    // with no SA there (a one-way export) nothing can pair, and the first SA created there
    // marks the tunnel itself (#create).
    if (sa.pairedSaId === null && t.saIds[direction === 'a-b' ? 'b-a' : 'a-b'].length > 0) {
      this.#batch.pairingDirty.add(t.id);
    }
    this.#batch.saChanged(sa);
    return sa;
  }

  /** The newest SA of a tunnel direction (what an SPI-less fragment flow belongs to). */
  current(t: TunnelState, direction: TunnelDirection): SaState | null {
    const history = t.saIds[direction];
    const id = history[history.length - 1];
    return id === undefined ? null : (this.#sas.get(id) ?? null);
  }

  /** True when another SA of the direction first appeared inside (startMs, endMs]. */
  changedDuring(
    t: TunnelState,
    direction: TunnelDirection,
    own: SaState | null,
    startMs: number,
    endMs: number,
  ): boolean {
    for (const id of t.saIds[direction]) {
      if (own !== null && id === own.id) continue;
      const sa = this.#sas.get(id);
      if (sa !== undefined && sa.firstSeenMs > startMs && sa.firstSeenMs <= endMs) return true;
    }
    return false;
  }

  /** Pairs the SAs of a tunnel's two directions again (sa-pairing.ts); changed SAs go to the store. */
  updatePairing(t: TunnelState): void {
    const sides: SaState[][] = [[], []];
    for (let d = 0; d < 2; d++) {
      for (const id of t.saIds[pairingDirections[d]!]) {
        const sa = this.#sas.get(id);
        if (sa !== undefined) sides[d]!.push(sa);
      }
    }
    const pairs = pairSecurityAssociations(sides[0]!, sides[1]!);
    for (const side of sides) {
      for (const sa of side) {
        const partner = pairs.get(sa.id) ?? null;
        if (partner !== sa.pairedSaId) {
          if (partner !== null && sa.direction === 'a-b') this.#batch.counters.saPairsFormed++;
          sa.pairedSaId = partner;
          this.#batch.saChanged(sa);
        }
      }
    }
  }

  /** Ends every SA silent for longer than the idle time at `clockMs` (record time). */
  endIdle(clockMs: number): void {
    for (const sa of this.#sas.values()) {
      if (sa.endedMs === null && clockMs - sa.lastSeenMs > this.#idleMs) this.#end(sa, sa.lastSeenMs, 'idle');
    }
  }

  /** Forgets the SAs of an evicted tunnel (they stay in the store). */
  forgetTunnel(t: TunnelState): void {
    for (const direction of pairingDirections) {
      for (const id of t.saIds[direction]) this.#forget(id);
    }
  }

  #end(sa: SaState, atMs: number, reason: 'rekey' | 'idle'): void {
    sa.endedMs = atMs;
    sa.endReason = reason;
    this.#batch.saChanged(sa);
    this.#batch.pairingDirty.add(sa.tunnelId);
    if (reason === 'rekey') this.#batch.counters.rekeys++;
    else this.#batch.counters.sasExpired++;
  }

  #create(r: FlowRecord, t: TunnelState, direction: TunnelDirection, generation: number): SaState {
    const sa: SaState = {
      id: saId(r.src, r.dst, r.spi, generation),
      key: saKey(r.src, r.dst, r.spi),
      tunnelId: t.id,
      direction,
      src: r.src,
      dst: r.dst,
      spi: r.spi,
      generation,
      firstSeenMs: r.startMs,
      lastSeenMs: r.endMs,
      endedMs: null,
      endReason: null,
      pairedSaId: null,
    };
    // A new SPI in a direction is a rekey: the SPI-keyed SAs still current there end when it
    // first appears. Records can arrive out of order, so an SA that first appeared after this
    // one is the successor instead and this one ends at once. SPI-less SAs are one per
    // address pair, so they never rekey each other.
    const history = t.saIds[direction];
    if (r.spi !== null) {
      for (const id of history) {
        const other = this.#sas.get(id);
        if (other === undefined || other.spi === null || other.endedMs !== null) continue;
        if (other.firstSeenMs <= sa.firstSeenMs) this.#end(other, sa.firstSeenMs, 'rekey');
        else if (sa.endedMs === null || other.firstSeenMs < sa.endedMs) {
          sa.endedMs = other.firstSeenMs;
          sa.endReason = 'rekey';
        }
      }
      if (sa.endReason === 'rekey') this.#batch.counters.rekeys++;
    }
    this.#sas.set(sa.id, sa);
    this.#setCurrent(sa, sa.id);
    history.push(sa.id);
    this.#trim(history);
    this.#batch.counters.sasCreated++;
    this.#batch.saChanged(sa);
    this.#batch.pairingDirty.add(t.id);
    return sa;
  }

  /** Drops the oldest ended SAs beyond `saHistory` (the oldest of all when none has ended). */
  #trim(history: string[]): void {
    while (history.length > this.#history) {
      let dropAt = history.findIndex((id) => {
        const sa = this.#sas.get(id);
        return sa === undefined || sa.endedMs !== null;
      });
      if (dropAt < 0) dropAt = 0;
      const [id] = history.splice(dropAt, 1);
      if (id === undefined) return;
      this.#forget(id);
    }
  }

  /** The one way an SA leaves memory: its id, and its key when it is that key's current SA. */
  #forget(id: string): void {
    const sa = this.#sas.get(id);
    this.#sas.delete(id);
    if (sa === undefined) return;
    const bySpi = this.#byKey.get(sa.src)?.get(sa.dst);
    if (bySpi === undefined || bySpi.get(sa.spi) !== id) return;
    bySpi.delete(sa.spi);
    const slot = recentSlot(sa.src, sa.dst, sa.spi);
    if (this.#recent[slot] === sa) this.#recent[slot] = undefined;
    if (bySpi.size > 0) return;
    const byDst = this.#byKey.get(sa.src)!;
    byDst.delete(sa.dst);
    if (byDst.size === 0) this.#byKey.delete(sa.src);
  }

  /** Entries of the key index, all three levels (sources, source-destination pairs, keys); for tests. */
  get keyIndexEntries(): number {
    let n = this.#byKey.size;
    for (const byDst of this.#byKey.values()) {
      n += byDst.size;
      for (const bySpi of byDst.values()) n += bySpi.size;
    }
    return n;
  }

  #currentId(src: string, dst: string, spi: number | null): string | undefined {
    return this.#byKey.get(src)?.get(dst)?.get(spi);
  }

  #setCurrent(sa: SaState, id: string): void {
    // The key's previous current SA may sit in the slot; the new one (as #sas holds it: a
    // restored SA is a copy) replaces it.
    this.#recent[recentSlot(sa.src, sa.dst, sa.spi)] = this.#sas.get(id);
    let byDst = this.#byKey.get(sa.src);
    if (byDst === undefined) {
      byDst = new Map();
      this.#byKey.set(sa.src, byDst);
    }
    let bySpi = byDst.get(sa.dst);
    if (bySpi === undefined) {
      bySpi = new Map();
      byDst.set(sa.dst, bySpi);
    }
    bySpi.set(sa.spi, id);
  }
}

/** The SA as the store and the API see it. */
export function toSa(s: SaState): SecurityAssociation {
  return {
    id: s.id,
    tunnelId: s.tunnelId,
    direction: s.direction,
    src: s.src,
    dst: s.dst,
    spi: s.spi,
    generation: s.generation,
    firstSeenMs: s.firstSeenMs,
    lastSeenMs: s.lastSeenMs,
    endedMs: s.endedMs,
    endReason: s.endReason,
    pairedSaId: s.pairedSaId,
  };
}

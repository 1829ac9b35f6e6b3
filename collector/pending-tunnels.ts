import { addBucketCounts } from '../model/tunnel-bucket.js';
import type { TunnelBucketDelta } from '../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../model/tunnel.js';

/** What the normalizer emits per datagram that the store must learn. */
export interface TunnelChanges {
  readonly tunnels: readonly Tunnel[];
  readonly sas: readonly SecurityAssociation[];
  readonly buckets: readonly TunnelBucketDelta[];
}

/**
 * Tunnel, SA and bucket changes merged until the next flush: the store then writes one
 * upsert per tunnel, SA and bucket key per second instead of one per flow (each is an
 * idempotent max/min or an addition, so merging first gives the same rows).
 */
export class PendingTunnels {
  #tunnels = new Map<string, Tunnel>();
  #sas = new Map<string, SecurityAssociation>();
  /** By tunnel id. */
  #buckets = new Map<string, TunnelBucketDelta[]>();

  add(changes: TunnelChanges): void {
    for (const t of changes.tunnels) mergeSeen(this.#tunnels, t);
    for (const sa of changes.sas) mergeSeen(this.#sas, sa);
    for (const d of changes.buckets) this.#mergeBucket(d);
  }

  /** Everything merged since the last call, for one StoreBatch. */
  take(): { tunnels: Tunnel[]; sas: SecurityAssociation[]; tunnelBuckets: TunnelBucketDelta[] } {
    const taken = {
      tunnels: [...this.#tunnels.values()],
      sas: [...this.#sas.values()],
      tunnelBuckets: [...this.#buckets.values()].flat(),
    };
    this.#tunnels = new Map();
    this.#sas = new Map();
    this.#buckets = new Map();
    return taken;
  }

  /**
   * Adds a bucket delta into the pending one with the same tunnel, bucket, direction and
   * exporter. Grouped by tunnel id (a string the normalizer keeps, so its hash is computed
   * once): between two flushes a tunnel has a handful of deltas, searched in a line,
   * where a composite string key would be built and hashed for every ESP record.
   */
  #mergeBucket(d: TunnelBucketDelta): void {
    let list = this.#buckets.get(d.tunnelId);
    if (list === undefined) {
      list = [];
      this.#buckets.set(d.tunnelId, list);
    }
    // From the end: records arrive roughly in time order, so the match is nearly always
    // among the last deltas (an ingest covers many buckets between two flushes).
    for (let i = list.length - 1; i >= 0; i -= 1) {
      const prev = list[i]!;
      if (
        prev.bucketStartMs === d.bucketStartMs &&
        prev.direction === d.direction &&
        prev.exporter === d.exporter &&
        prev.domainId === d.domainId
      ) {
        addBucketCounts(prev, d);
        return;
      }
    }
    list.push({ ...d, cleared: { ...d.cleared } });
  }
}

/** Keeps the latest version of a tunnel or SA, with the widest first/last seen so far. */
function mergeSeen<
  T extends { readonly id: string; readonly firstSeenMs: number; readonly lastSeenMs: number },
>(into: Map<string, T>, next: T): void {
  const prev = into.get(next.id);
  into.set(
    next.id,
    prev === undefined
      ? next
      : {
          ...next,
          firstSeenMs: Math.min(prev.firstSeenMs, next.firstSeenMs),
          lastSeenMs: Math.max(prev.lastSeenMs, next.lastSeenMs),
        },
  );
}

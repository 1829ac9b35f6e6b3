import type { ExporterBucket } from '../model/exporter-bucket.js';
import type { FlowRecord } from '../model/flow.js';

/** A record or datagram counts in at most this many buckets of completeness (bounded work per record). */
const MAX_COMPLETENESS_BUCKETS = 60;

type MutableBucket = { -readonly [K in keyof ExporterBucket]: ExporterBucket[K] };

/**
 * How complete each bucket's data is, per exporter and domain (STYLE.md "Each time bucket
 * carries its own completeness"), accumulated between two flushes.
 *
 * Counted by flow time, the time the loss buckets use: a record counts in every bucket it
 * overlaps (the buckets it was apportioned to), and a datagram's issues and sequence gaps in
 * every bucket its records cover (or, with no record, in the bucket of its receive time: all
 * that is known). Long flows count in their last buckets only.
 */
export class Completeness {
  readonly #bucketMs: number;
  /**
   * exporter → domain → bucket start → row: the exporter string (interned, its hash kept)
   * and two numbers, so a datagram builds no key string; the last exporter's buckets are
   * kept at hand, as datagrams mostly come from the exporter before.
   */
  #rows = new Map<string, Map<number, Map<number, MutableBucket>>>();
  #lastExporter: string | null = null;
  #lastDomainId = -1;
  #lastBuckets: Map<number, MutableBucket> | null = null;
  // Per-datagram scratch: record counts by bucket start. The records of one datagram fall
  // in a bucket or two, so the shared map (string keys) is touched once per bucket, not
  // once per record.
  readonly #recordBuckets: number[] = [];
  readonly #recordCounts: number[] = [];

  constructor(bucketMs: number) {
    this.#bucketMs = bucketMs;
  }

  /**
   * One datagram: its records (all of the datagram's domain: the decoders give each record
   * its message's), its issue count and its sequence gap.
   */
  addDatagram(
    exporter: string,
    domainId: number,
    receivedMs: number,
    flows: readonly FlowRecord[],
    issues: number,
    gap: number,
  ): void {
    const bucketMs = this.#bucketMs;
    const span = (MAX_COMPLETENESS_BUCKETS - 1) * bucketMs;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    this.#recordBuckets.length = 0;
    this.#recordCounts.length = 0;
    for (const f of flows) {
      const endBucket = this.#bucketOf(f.endMs);
      const startBucket = Math.max(this.#bucketOf(f.startMs), endBucket - span);
      for (let b = startBucket; b <= endBucket; b += bucketMs) this.#countRecord(b);
      if (startBucket < first) first = startBucket;
      if (endBucket > last) last = endBucket;
    }
    for (let i = 0; i < this.#recordBuckets.length; i += 1)
      this.#add(exporter, domainId, this.#recordBuckets[i]!, this.#recordCounts[i]!, 0, 0, 0);
    if (first > last) first = last = this.#bucketOf(receivedMs);
    first = Math.max(first, last - span);
    for (let b = first; b <= last; b += bucketMs) {
      this.#add(exporter, domainId, b, 0, b === last ? 1 : 0, issues, gap);
    }
  }

  /** Everything counted since the last call: deltas the store adds to its rows. */
  take(): ExporterBucket[] {
    const rows: ExporterBucket[] = [];
    for (const byDomain of this.#rows.values())
      for (const byBucket of byDomain.values()) for (const row of byBucket.values()) rows.push(row);
    // New maps, not clear(): see BucketDeltas.take.
    this.#rows = new Map();
    this.#lastExporter = null;
    this.#lastBuckets = null;
    return rows;
  }

  #bucketsOf(exporter: string, domainId: number): Map<number, MutableBucket> {
    if (this.#lastBuckets !== null && exporter === this.#lastExporter && domainId === this.#lastDomainId)
      return this.#lastBuckets;
    let byDomain = this.#rows.get(exporter);
    if (byDomain === undefined) {
      byDomain = new Map();
      this.#rows.set(exporter, byDomain);
    }
    let byBucket = byDomain.get(domainId);
    if (byBucket === undefined) {
      byBucket = new Map();
      byDomain.set(domainId, byBucket);
    }
    this.#lastExporter = exporter;
    this.#lastDomainId = domainId;
    this.#lastBuckets = byBucket;
    return byBucket;
  }

  #bucketOf(ms: number): number {
    return Math.floor(ms / this.#bucketMs) * this.#bucketMs;
  }

  #countRecord(bucket: number): void {
    const buckets = this.#recordBuckets;
    for (let i = buckets.length - 1; i >= 0; i -= 1) {
      if (buckets[i] === bucket) {
        this.#recordCounts[i]! += 1;
        return;
      }
    }
    buckets.push(bucket);
    this.#recordCounts.push(1);
  }

  #add(
    exporter: string,
    domainId: number,
    bucketStartMs: number,
    records: number,
    datagrams: number,
    issues: number,
    gaps: number,
  ): void {
    const buckets = this.#bucketsOf(exporter, domainId);
    let row = buckets.get(bucketStartMs);
    if (row === undefined) {
      row = { exporter, domainId, bucketStartMs, records: 0, datagrams: 0, issues: 0, sequenceGaps: 0 };
      buckets.set(bucketStartMs, row);
    }
    row.records += records;
    row.datagrams += datagrams;
    row.issues += issues;
    row.sequenceGaps += gaps;
  }
}

import type { LossClearedReason } from '../model/flow.js';

/** One display bucket of one direction, as two observation points saw it. */
export interface TwoPointBucket {
  readonly startMs: number;
  /** Packets at the point near the sender (upstream) and near the receiver (downstream). */
  readonly upPackets: number;
  readonly downPackets: number;
  /** Flows split across this bucket's start, at either point (see TunnelBucketCounts.carriedIn). */
  readonly carriedIn: number;
}

/** A run of consecutive buckets that no flow crosses out of, at either point. */
export interface TwoPointSegment {
  /** Indexes into the input buckets, inclusive. */
  readonly first: number;
  readonly last: number;
  readonly upPackets: number;
  readonly downPackets: number;
  /** up − down when believable, else null. */
  readonly lost: number | null;
  readonly lossRatio: number | null;
  readonly clearedReason: LossClearedReason | null;
  /**
   * False when a flow crosses the segment's outer edge (it began before the first bucket
   * given, or continues into `nextCarriedIn`): part of its packets are outside, so the
   * difference would be apportioning noise, and the segment gives no loss figure.
   */
  readonly complete: boolean;
}

/**
 * Two-point loss (DESIGN.md "Loss" 3): lost = upstream − downstream over the same buckets.
 *
 * The rule for where it is meaningful: the exporters' records rarely start and end on
 * bucket boundaries, so a record's packets are apportioned to buckets by time, and the two
 * points' records are cut at different moments. A per-bucket difference of apportioned
 * counts is noise (it can be negative, or show loss in the wrong minute). A difference is
 * exact only over buckets whose outer edges no record crosses at either point. So the
 * buckets are cut into segments at every boundary that neither point's records cross
 * (`carriedIn` = 0 at both), and the loss is computed per segment from the segment's sums.
 * A one-bucket segment gives that bucket's loss; a longer segment gives one figure for the
 * whole run (shown on each of its buckets as a span); a window's loss is the sum over its
 * complete segments. A figure is cleared when negative or above `ceilingRatio` of the
 * upstream packets (e.g. the downstream exporter was down).
 *
 * `nextCarriedIn` is the `carriedIn` of the bucket after the last one given (0 when
 * unknown): when positive, the last segment continues past the end and is incomplete.
 */
export function twoPointSegments(
  buckets: readonly TwoPointBucket[],
  ceilingRatio: number,
  nextCarriedIn = 0,
): TwoPointSegment[] {
  const segments: TwoPointSegment[] = [];
  let first = 0;
  while (first < buckets.length) {
    let last = first;
    while (last + 1 < buckets.length && (buckets[last + 1] as TwoPointBucket).carriedIn > 0) last++;
    let up = 0;
    let down = 0;
    for (let i = first; i <= last; i++) {
      up += (buckets[i] as TwoPointBucket).upPackets;
      down += (buckets[i] as TwoPointBucket).downPackets;
    }
    const openStart = first === 0 && (buckets[0] as TwoPointBucket).carriedIn > 0;
    const openEnd = last === buckets.length - 1 && nextCarriedIn > 0;
    const complete = !openStart && !openEnd;
    let lost: number | null = null;
    let lossRatio: number | null = null;
    let clearedReason: LossClearedReason | null = null;
    if (complete && (up > 0 || down > 0)) {
      const diff = up - down;
      if (diff < 0) clearedReason = 'negative';
      else if (diff > 0 && diff / up > ceilingRatio) clearedReason = 'exceeds-ceiling';
      else {
        lost = diff;
        lossRatio = up > 0 ? diff / up : 0;
      }
    }
    segments.push({
      first,
      last,
      upPackets: up,
      downPackets: down,
      lost,
      lossRatio,
      clearedReason,
      complete,
    });
    first = last + 1;
  }
  return segments;
}

/**
 * How a flow's time range falls into buckets. A flow is taken to cover the milliseconds
 * [startMs, endMs] inclusive, i.e. [startMs, endMs + 1): a one-packet flow (start = end)
 * still has a length, and a flow ending exactly on a bucket boundary puts that last
 * millisecond in the next bucket, where the truth would count its last packet.
 */
export interface BucketSpan {
  /** Start of the first bucket, epoch ms. */
  firstBucketMs: number;
  count: number;
  /** Total weight (ms covered). */
  duration: number;
  /**
   * cumulative[i] = ms of the flow in buckets 0..i; cumulative[count - 1] = duration. Only
   * the first `count` entries are the span's: the array is kept from record to record and
   * never shortened (setting its length for every record cost a runtime call).
   */
  cumulative: number[];
  /** True when the span was clamped to `maxBuckets` (the flow was longer). */
  clamped: boolean;
}

export function createBucketSpan(): BucketSpan {
  return { firstBucketMs: 0, count: 0, duration: 0, cumulative: [], clamped: false };
}

/**
 * Fills `span` (reused between records to avoid allocation) with the overlap of
 * [startMs, endMs] with epoch-aligned buckets of `bucketMs`. Times are floored to whole
 * ms; an end before the start is taken as the start. A flow longer than `maxBuckets`
 * buckets is clamped to the last `maxBuckets` buckets before its end.
 */
export function computeBucketSpan(
  startMs: number,
  endMs: number,
  bucketMs: number,
  maxBuckets: number,
  span: BucketSpan,
): BucketSpan {
  let start = Math.floor(startMs);
  const end = Math.max(start, Math.floor(endMs)) + 1;
  let first = Math.floor(start / bucketMs) * bucketMs;
  const last = Math.floor((end - 1) / bucketMs) * bucketMs;
  let count = (last - first) / bucketMs + 1;
  span.clamped = false;
  if (count > maxBuckets) {
    first = last - (maxBuckets - 1) * bucketMs;
    start = first;
    count = maxBuckets;
    span.clamped = true;
  }
  span.firstBucketMs = first;
  span.count = count;
  span.duration = end - start;
  const cumulative = span.cumulative;
  for (let i = 0; i < count; i++) {
    const bucketEnd = first + (i + 1) * bucketMs;
    cumulative[i] = Math.min(end, bucketEnd) - start;
  }
  return span;
}

/** floor(a / b) for non-negative safe integers, corrected for float rounding. */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/**
 * The share of `total` that falls into bucket `index` of `span`: the cumulative split
 * floor(total · cum[i] / d) − floor(total · cum[i−1] / d). Shares are integers, never
 * negative, and sum exactly to `total` over the span's buckets. Falls back to BigInt when
 * total · d would lose precision as a double.
 */
export function shareOf(total: number, span: BucketSpan, index: number): number {
  if (span.count === 1) return total;
  if (total === 0) return 0;
  const d = span.duration;
  const hi = span.cumulative[index] as number;
  const lo = index === 0 ? 0 : (span.cumulative[index - 1] as number);
  if (Math.abs(total) * d <= Number.MAX_SAFE_INTEGER) {
    if (total >= 0) return floorDiv(total * hi, d) - floorDiv(total * lo, d);
    // Negative totals (a cleared loss is never apportioned, but keep the split exact anyway).
    return -(floorDiv(-total * hi, d) - floorDiv(-total * lo, d));
  }
  const t = BigInt(Math.trunc(total));
  const bd = BigInt(d);
  return Number((t * BigInt(hi)) / bd - (t * BigInt(lo)) / bd);
}

/** Splits `total` over the span into a new array (for tests and cold paths). */
export function apportion(total: number, span: BucketSpan): number[] {
  const parts: number[] = [];
  for (let i = 0; i < span.count; i++) parts.push(shareOf(total, span, i));
  return parts;
}

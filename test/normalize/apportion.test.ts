import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { apportion, computeBucketSpan, createBucketSpan } from '../../collector/normalize/apportion.js';

const minute = 60_000;
const t0 = 1_710_234_000_000; // 2024-03-12T09:00:00Z, a minute boundary

function split(
  total: number,
  startMs: number,
  endMs: number,
  bucketMs = minute,
  maxBuckets = 1440,
): { first: number; parts: number[] } {
  const span = computeBucketSpan(startMs, endMs, bucketMs, maxBuckets, createBucketSpan());
  return { first: span.firstBucketMs, parts: apportion(total, span) };
}

describe('bucket arithmetic', () => {
  test.each([
    // name, total, start, end, first bucket, parts
    ['inside one bucket', 10, t0 + 5_000, t0 + 50_000, t0, [10]],
    ['a one-packet flow (start = end)', 1, t0 + 59_999, t0 + 59_999, t0, [1]],
    ['half and half', 10, t0 + 30_000, t0 + 89_999, t0, [5, 5]],
    [
      'ending exactly on a boundary puts its last ms in the next bucket',
      60_001,
      t0,
      t0 + 60_000,
      t0,
      [60_000, 1],
    ],
    ['starting exactly on a boundary', 7, t0 + 60_000, t0 + 119_999, t0 + 60_000, [7]],
    ['three buckets, cumulative rounding', 10, t0 + 40_000, t0 + 159_999, t0, [1, 5, 4]],
    ['zero', 0, t0 + 40_000, t0 + 159_999, t0, [0, 0, 0]],
    ['fewer packets than buckets', 2, t0, t0 + 299_999, t0, [0, 0, 1, 0, 1]],
    ['end before start is taken as the start', 3, t0 + 10_000, t0 + 5_000, t0, [3]],
    ['fractional ms are floored', 4, t0 + 59_999.9, t0 + 60_000.2, t0, [2, 2]],
    [
      'six minutes (a_healthy_v4 a→b ESP first/last packet)',
      687,
      1_710_234_007_750,
      1_710_234_336_793,
      t0,
      [109, 125, 125, 125, 126, 77],
    ],
  ] as const)('%s', (_name, total, start, end, first, parts) => {
    expect(split(total, start, end)).toEqual({ first, parts });
  });

  test('other bucket sizes are epoch-aligned', () => {
    expect(split(30, t0 + 10_000, t0 + 39_999, 10_000)).toEqual({ first: t0 + 10_000, parts: [10, 10, 10] });
    expect(split(3600, t0 - 1_800_000, t0 + 1_799_999, 3_600_000)).toEqual({
      first: t0 - 3_600_000,
      parts: [1800, 1800],
    });
  });

  test('a flow longer than maxBuckets is clamped to the last buckets before its end', () => {
    const span = computeBucketSpan(0, t0 + 59_999, minute, 3, createBucketSpan());
    expect(span.clamped).toBe(true);
    expect(span.firstBucketMs).toBe(t0 - 2 * minute);
    expect(apportion(300, span)).toEqual([100, 100, 100]);
  });

  test('totals beyond 2^53 / duration still split exactly (BigInt path)', () => {
    const total = 2 ** 52 + 12_345;
    const parts = split(total, t0 + 1, t0 + 3 * minute).parts;
    expect(parts.reduce((s, p) => s + p, 0)).toBe(total);
    expect(parts.every((p) => Number.isInteger(p) && p >= 0)).toBe(true);
  });

  test('property: parts are non-negative integers that sum exactly to the total and follow the overlap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 10 * minute }),
        fc.integer({ min: 0, max: 30 * minute }),
        fc.constantFrom(1_000, 10_000, 60_000, 300_000),
        (total, offset, length, bucketMs) => {
          const start = t0 + offset;
          const end = start + length;
          const { first, parts } = split(total, start, end, bucketMs, Number.POSITIVE_INFINITY);
          expect(parts.reduce((s, p) => s + p, 0)).toBe(total);
          expect(parts.every((p) => Number.isInteger(p) && p >= 0)).toBe(true);
          expect(first).toBe(Math.floor(start / bucketMs) * bucketMs);
          expect(parts.length).toBe(Math.floor(end / bucketMs) - Math.floor(start / bucketMs) + 1);
          // Each part is within one unit of its exact proportional share.
          const duration = end + 1 - start;
          parts.forEach((p, i) => {
            const lo = Math.max(start, first + i * bucketMs);
            const hi = Math.min(end + 1, first + (i + 1) * bucketMs);
            expect(Math.abs(p - (total * (hi - lo)) / duration)).toBeLessThanOrEqual(1);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

import { describe, expect, test } from 'vitest';
import { effectiveStep } from '../../analysis/tunnel-queries.js';
import { newBucketDelta, ROLLUP_BUCKET_MS } from '../../model/tunnel-bucket.js';
import type { TunnelBucket } from '../../model/tunnel-bucket.js';

const MINUTE = 60_000;
const HOUR = ROLLUP_BUCKET_MS;
const t0 = Date.UTC(2026, 0, 5, 10, 0, 0);

const minuteRow = (start: number): TunnelBucket => newBucketDelta('t', start, 'a-b', '192.0.2.1', 0);
const hourRow = (start: number): TunnelBucket => ({ ...minuteRow(start), spanMs: HOUR });

describe('effectiveStep: the step a window over rolled-up hours can be shown at', () => {
  test('minute rows keep the step asked for', () => {
    const rows = [minuteRow(t0), minuteRow(t0 + MINUTE)];
    expect(effectiveStep(rows, t0, t0 + 2 * MINUTE, MINUTE)).toBe(MINUTE);
    expect(effectiveStep(rows, t0, t0 + 2 * MINUTE, 5 * MINUTE)).toBe(5 * MINUTE);
  });

  test('an hour row in the window raises the step to the least multiple holding whole hours', () => {
    const rows = [hourRow(t0), minuteRow(t0 + 2 * HOUR)];
    expect(effectiveStep(rows, t0, t0 + 3 * HOUR, MINUTE)).toBe(HOUR);
    expect(effectiveStep(rows, t0, t0 + 3 * HOUR, 5 * MINUTE)).toBe(HOUR);
    expect(effectiveStep(rows, t0, t0 + 3 * HOUR, 90 * MINUTE)).toBe(3 * HOUR);
    expect(effectiveStep(rows, t0, t0 + 3 * HOUR, 2 * HOUR)).toBe(2 * HOUR);
    expect(effectiveStep(rows, t0, t0 + 3 * HOUR, 24 * HOUR)).toBe(24 * HOUR);
  });

  test('a window inside an hour row, or touching only its end, sees it only when they overlap', () => {
    const rows = [hourRow(t0)];
    expect(effectiveStep(rows, t0 + 10 * MINUTE, t0 + 20 * MINUTE, MINUTE)).toBe(HOUR);
    expect(effectiveStep(rows, t0 + HOUR, t0 + HOUR + 5 * MINUTE, MINUTE)).toBe(MINUTE);
    expect(effectiveStep(rows, t0 - 5 * MINUTE, t0, MINUTE)).toBe(MINUTE);
  });
});

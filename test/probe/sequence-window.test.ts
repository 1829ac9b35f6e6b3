// The probe's ESP sequence window (RFC 4303 §3.4.3 style): loss only when a number leaves the
// window unseen, late packets fill their gaps, duplicates counted apart, ESN across 2^32,
// restarts as new generations.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SaSequence, SeqVerdict, SequenceWindow } from '../../probe/sequence-window.js';

function run(seqs: readonly number[], size = 1024): SaSequence {
  const s = new SaSequence({ size });
  for (const n of seqs) s.observe(n);
  s.settle();
  return s;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('sequence window', () => {
  test('in order, no loss', () => {
    expect(run(range(1, 5000)).totals()).toEqual({ lost: 0, duplicates: 0, outOfOrder: 0, unique: 5000 });
  });

  test('single drops and a burst count exactly', () => {
    const drop = new Set([10, 200, 201, 3000, ...range(4000, 4011)]);
    const t = run(range(1, 5000).filter((n) => !drop.has(n))).totals();
    expect(t.lost).toBe(16);
    expect(t.duplicates).toBe(0);
  });

  test('reordering by less than the window is out of order, not lost', () => {
    const seqs = range(1, 3000);
    // every 25th packet held back by 300 positions (< 1024)
    const late: number[] = [];
    const out: number[] = [];
    for (const n of seqs) {
      if (n % 25 === 0) late.push(n);
      else out.push(n);
      if (late.length > 0 && n - late[0]! >= 300) out.push(late.shift()!);
    }
    out.push(...late);
    const t = run(out).totals();
    expect(t.lost).toBe(0);
    // 3000 is held back too but arrives last, after 2999: it is the new top, not late.
    expect(t.outOfOrder).toBe(119);
    expect(t.unique).toBe(3000);
  });

  test('reordering by more than the window: lost once it left, then too late (the receiver drops it too)', () => {
    const s = new SaSequence({ size: 64 });
    for (const n of range(1, 200)) if (n !== 90) s.observe(n);
    expect(s.totals().lost).toBe(1);
    expect(s.observe(90)).toBe(SeqVerdict.TooLate);
    s.settle();
    expect(s.totals()).toMatchObject({ lost: 1, outOfOrder: 1, duplicates: 0 });
  });

  test('a late packet still inside the window fills its gap', () => {
    const s = new SaSequence({ size: 64 });
    for (const n of range(1, 100)) if (n !== 50) s.observe(n);
    expect(s.observe(50)).toBe(SeqVerdict.Late);
    s.settle();
    expect(s.totals()).toMatchObject({ lost: 0, outOfOrder: 1 });
  });

  test('duplicates are counted and never subtract from loss', () => {
    const seqs = range(1, 1000).filter((n) => n !== 500 && n !== 501);
    const withDups = [...seqs.slice(0, 300), 300, 300, 299, ...seqs.slice(300), 998, 999];
    const t = run(withDups).totals();
    expect(t).toMatchObject({ lost: 2, duplicates: 5, unique: 998 });
  });

  test('a gap at the end of a generation is lost when it settles', () => {
    const s = new SaSequence();
    for (const n of [1, 2, 3, 5, 6]) s.observe(n);
    expect(s.totals().lost).toBe(0);
    s.settle();
    expect(s.totals().lost).toBe(1);
    // settled numbers arriving afterwards are too late, not new and not duplicates
    expect(s.observe(4)).toBe(SeqVerdict.TooLate);
  });

  test('an SA older than the capture: numbers below the first seen are not lost', () => {
    const t = run(range(84211, 84534)).totals();
    expect(t.lost).toBe(0);
  });

  test('a late first packet (2 before 1) lowers the start and is out of order', () => {
    const t = run([2, 1, 3, 5, 4]).totals();
    expect(t).toMatchObject({ lost: 0, outOfOrder: 2, unique: 5 });
  });

  test('ESN: the high bits are inferred across 2^32 (RFC 4304), no jump and no loss', () => {
    const base = 2 ** 32 - 600;
    const seqs = range(base, base + 1200).map((n) => n % 2 ** 32);
    const s = run(seqs.filter((_, i) => i !== 700));
    expect(s.totals()).toMatchObject({ lost: 1, unique: 1200, duplicates: 0 });
    expect(s.window.top).toBe(base + 1200);
    expect(s.generation).toBe(0);
  });

  test('ESN: a late packet from before the wrap is placed in the previous epoch', () => {
    const w = new SequenceWindow(64);
    for (let n = 2 ** 32 - 10; n < 2 ** 32; n++) w.observe(n);
    w.observe(2 ** 32 + 1);
    w.observe(2 ** 32 + 2);
    expect(w.extend(2 ** 32 - 5)).toBe(2 ** 32 - 5);
    expect(w.extend(3)).toBe(2 ** 32 + 3);
    expect(w.extend(2 ** 32 - 1)).toBe(2 ** 32 - 1);
  });

  test('a restart (SPI reused, numbers from 1 again) starts a new generation and invents no loss', () => {
    const s = new SaSequence();
    for (const n of range(1, 5000)) s.observe(n);
    const verdicts = range(1, 3000).map((n) => s.observe(n));
    expect(verdicts.slice(0, 3)).toEqual([SeqVerdict.Held, SeqVerdict.Held, SeqVerdict.Restart]);
    expect(s.generation).toBe(1);
    s.settle();
    expect(s.totals()).toMatchObject({ lost: 0, duplicates: 0, unique: 8000 });
  });

  test('a restart inside the window (few packets before) is a restart too, not duplicates', () => {
    const s = new SaSequence();
    for (const n of range(1, 228)) s.observe(n);
    for (const n of range(1, 180)) s.observe(n);
    s.settle();
    expect(s.generation).toBe(1);
    expect(s.totals()).toMatchObject({ lost: 0, duplicates: 0, unique: 408 });
  });

  test('a burst of network duplicates is not taken for a restart', () => {
    const s = new SaSequence();
    const seqs: number[] = [];
    for (const n of range(1, 1000)) {
      seqs.push(n);
      if (n >= 600 && n < 621) seqs.push(n);
    }
    for (const n of seqs) s.observe(n);
    s.settle();
    expect(s.generation).toBe(0);
    expect(s.totals()).toMatchObject({ lost: 0, duplicates: 21, unique: 1000 });
  });

  test('a restart after which numbers climb past the old top', () => {
    const s = new SaSequence();
    for (const n of range(1, 50)) s.observe(n);
    for (const n of range(1, 120)) s.observe(n);
    s.settle();
    expect(s.generation).toBe(1);
    expect(s.totals()).toMatchObject({ lost: 0, duplicates: 0, unique: 170 });
  });

  test('bursts of loss larger than the window', () => {
    const t = run([...range(1, 100), ...range(5101, 5200)], 1024).totals();
    expect(t.lost).toBe(5000);
  });

  test('window sizes are checked', () => {
    expect(() => new SequenceWindow(0)).toThrow(RangeError);
  });
});

describe('property: any permutation within the window of a sequence with k drops gives lost = k', () => {
  test('fast-check', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 32, max: 256 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 50, max: 1500 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 3000 }),
        fc.boolean(),
        (size, start, length, dropPicks, swaps, nearWrap) => {
          const first = nearWrap ? 2 ** 32 - Math.floor(length / 2) : start;
          const all = range(0, length - 1).map((i) => first + i);
          const drops = new Set(dropPicks.map((p) => p % length));
          const sent = all.filter((_, i) => !drops.has(i));
          // Permute: each packet may move later by less than the window (in numbers), so a
          // late packet never leaves the window before it arrives.
          const arrival = sent.slice();
          for (const sw of swaps) {
            const i = sw % arrival.length;
            const j = Math.min(arrival.length - 1, i + 1 + (sw % 7));
            const a = arrival[i]!;
            const b = arrival[j]!;
            if (Math.abs(a - b) < size / 2) {
              arrival[i] = b;
              arrival[j] = a;
            }
          }
          // Check the permutation really stays within the window.
          let maxSeen = -Infinity;
          for (const n of arrival) {
            if (n <= maxSeen - size) return;
            maxSeen = Math.max(maxSeen, n);
          }
          const s = run(
            arrival.map((n) => n % 2 ** 32),
            size,
          );
          // Drops at the very start or end are invisible to any receiver: count only the interior.
          const firstSent = Math.min(...sent);
          const lastSent = Math.max(...sent);
          let k = 0;
          for (const i of drops) if (all[i]! > firstSent && all[i]! < lastSent) k++;
          expect(s.totals().lost).toBe(k);
          expect(s.totals().duplicates).toBe(0);
          expect(s.generation).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

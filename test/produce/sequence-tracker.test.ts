// Export sequence tracking: gaps, RFC 7011 §3.1 wrap-around, late datagrams, resets,
// softflowd's post-increment IPFIX numbering, and one stream per exporter and domain.

import { describe, expect, test } from 'vitest';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import type { SequenceEvent } from '../../collector/produce/sequence-tracker.js';

type Step = readonly [sequence: number, units: number, event: SequenceEvent, gap: number];

const cases: readonly (readonly [string, 5 | 9 | 10, readonly Step[]])[] = [
  [
    'v9 counts datagrams: one missing datagram is a gap of 1',
    9,
    [
      [1, 1, 'first', 0],
      [2, 1, 'in-order', 0],
      [4, 1, 'gap', 1],
      [5, 1, 'in-order', 0],
    ],
  ],
  [
    'v5 counts flows: the next datagram starts where this one ended',
    5,
    [
      [0, 30, 'first', 0],
      [30, 30, 'in-order', 0],
      [90, 24, 'gap', 30],
    ],
  ],
  [
    'IPFIX counts data records before the message (pmacct)',
    10,
    [
      [0, 2, 'first', 0],
      [2, 2, 'in-order', 0],
      [4, 6, 'in-order', 0],
      [12, 2, 'gap', 2],
    ],
  ],
  [
    "softflowd's IPFIX number counts the message's own records too: learned, no false gaps",
    10,
    [
      [18, 18, 'first', 0],
      [42, 24, 'in-order', 0],
      [66, 24, 'in-order', 0],
      [90, 24, 'in-order', 0],
      [106, 16, 'in-order', 0],
      [150, 20, 'gap', 24],
    ],
  ],
  [
    'wrap-around at 2^32 is in order, and a gap across it is the small gap',
    10,
    [
      [2 ** 32 - 10, 10, 'first', 0],
      [0, 5, 'in-order', 0],
      [5, 5, 'in-order', 0],
      [2 ** 32 - 1, 1, 'late', 0],
      [10, 3, 'in-order', 0],
    ],
  ],
  [
    'a gap across the wrap is counted modulo 2^32',
    9,
    [
      [2 ** 32 - 2, 1, 'first', 0],
      [2, 1, 'gap', 3],
    ],
  ],
  [
    'a duplicate or reordered datagram is late: no gap, the baseline stays',
    9,
    [
      [100, 1, 'first', 0],
      [101, 1, 'in-order', 0],
      [101, 1, 'late', 0],
      [99, 1, 'late', 0],
      [102, 1, 'in-order', 0],
    ],
  ],
  [
    'an exporter restart (back to a small number) is a reset, never a 4-billion gap',
    9,
    [
      [5_000_000, 1, 'first', 0],
      [5_000_001, 1, 'in-order', 0],
      [1, 1, 'reset', 0],
      [2, 1, 'in-order', 0],
    ],
  ],
  [
    'a huge jump forward is a reset too',
    10,
    [
      [100, 10, 'first', 0],
      [2_000_000_000, 10, 'reset', 0],
      [2_000_000_010, 10, 'in-order', 0],
    ],
  ],
  [
    'two late datagrams that follow each other mean the stream really moved back',
    9,
    [
      [500, 1, 'first', 0],
      [400, 1, 'late', 0],
      [401, 1, 'reset', 0],
      [402, 1, 'in-order', 0],
    ],
  ],
];

describe.each(cases.map(([name, version, steps]) => [name, version, steps] as const))(
  '%s',
  (_name, version, steps) => {
    test('events and gaps', () => {
      const tracker = new SequenceTracker();
      const seen = steps.map(([sequence, units]) => {
        const o = tracker.observe('192.0.2.1', version, 0, sequence, units);
        return [sequence, units, o.event, o.gap];
      });
      expect(seen).toEqual(steps.map((s) => [...s]));
    });
  },
);

test('streams are per exporter, version and domain', () => {
  const tracker = new SequenceTracker();
  expect(tracker.observe('a', 9, 1, 10, 1).event).toBe('first');
  expect(tracker.observe('a', 9, 2, 500, 1).event).toBe('first');
  expect(tracker.observe('b', 9, 1, 7, 1).event).toBe('first');
  expect(tracker.observe('a', 10, 1, 0, 4).event).toBe('first');
  expect(tracker.observe('a', 9, 1, 11, 1).event).toBe('in-order');
  expect(tracker.observe('a', 9, 2, 501, 1).event).toBe('in-order');
  expect(tracker.observe('b', 9, 1, 9, 1)).toMatchObject({ event: 'gap', gap: 1 });
});

test('after a datagram whose record count was not exact, the next one only re-baselines', () => {
  const tracker = new SequenceTracker();
  tracker.observe('a', 10, 0, 0, 3);
  expect(tracker.observe('a', 10, 0, 3, 1, 0, false).event).toBe('in-order');
  expect(tracker.observe('a', 10, 0, 9, 2)).toMatchObject({ event: 'resync', gap: 0 });
  expect(tracker.observe('a', 10, 0, 11, 2).event).toBe('in-order');
});

test('the number of streams is bounded', () => {
  const tracker = new SequenceTracker({ maxStreams: 2 });
  tracker.observe('a', 9, 0, 1, 1);
  tracker.observe('b', 9, 0, 1, 1);
  tracker.observe('c', 9, 0, 1, 1);
  expect(tracker.observe('a', 9, 0, 2, 1).event).toBe('first');
});

test('IPFIX options records count (RFC 7011 §3.1): an exporter that counts them gives no gaps', () => {
  const tracker = new SequenceTracker();
  // 4 flows + 1 options record, then 3 + 0, then 2 + 2: pre-message totals 0, 5, 8.
  expect(tracker.observe('a', 10, 0, 0, 4, 1).event).toBe('first');
  expect(tracker.observe('a', 10, 0, 5, 3, 0)).toMatchObject({
    event: 'in-order',
    convention: 'records-pre',
  });
  expect(tracker.observe('a', 10, 0, 8, 2, 2)).toMatchObject({ event: 'in-order', gap: 0 });
  expect(tracker.observe('a', 10, 0, 12, 1, 0)).toMatchObject({ event: 'in-order', gap: 0 });
});

test('an exporter that leaves options records out is learned from the first datagram after them', () => {
  const tracker = new SequenceTracker();
  tracker.observe('a', 10, 0, 0, 4, 1);
  expect(tracker.observe('a', 10, 0, 4, 3, 0)).toMatchObject({ event: 'in-order', convention: 'flows-pre' });
  expect(tracker.observe('a', 10, 0, 7, 2, 2).event).toBe('in-order');
  expect(tracker.observe('a', 10, 0, 9, 1, 0).event).toBe('in-order');
});

test('v9 packet counting survives a datagram with records dropped for want of a template', () => {
  const tracker = new SequenceTracker();
  tracker.observe('a', 9, 0, 1, 3);
  tracker.observe('a', 9, 0, 2, 5);
  expect(tracker.observe('a', 9, 0, 3, 0, 0, false).event).toBe('in-order');
  expect(tracker.observe('a', 9, 0, 5, 2)).toMatchObject({ event: 'gap', gap: 1, convention: 'packets' });
});

test('a loss of just the size that fits another convention costs one misjudged datagram, no lock-in', () => {
  const tracker = new SequenceTracker();
  // RFC numbering (records before the message); the 1-record message at 2 is lost, and 3 is
  // also what "records after the message" expects next: a coincidence.
  tracker.observe('a', 10, 0, 0, 2);
  expect(tracker.observe('a', 10, 0, 3, 3)).toMatchObject({ event: 'in-order', convention: 'flows-post' });
  expect(tracker.observe('a', 10, 0, 6, 5)).toMatchObject({ event: 'in-order', convention: 'records-pre' });
  expect(tracker.observe('a', 10, 0, 11, 2)).toMatchObject({ event: 'in-order', convention: 'records-pre' });
  // The 4-record message at 13 is lost: counted as 4.
  expect(tracker.observe('a', 10, 0, 17, 1)).toMatchObject({
    event: 'gap',
    gap: 4,
    convention: 'records-pre',
  });
});

test('a restart re-learns the convention (new software may number otherwise)', () => {
  const tracker = new SequenceTracker();
  // Packets first (RFC 3954), then after a restart flow records after the packet.
  [1, 2, 3, 4].forEach((seq, i) => tracker.observe('a', 9, 0, seq, i + 2));
  expect(tracker.observe('a', 9, 0, 5, 3)).toMatchObject({ event: 'in-order', convention: 'packets' });
  expect(tracker.observe('a', 9, 0, 4, 4).event).toBe('reset');
  expect(tracker.observe('a', 9, 0, 10, 6)).toMatchObject({ event: 'in-order', convention: 'flows-post' });
  expect(tracker.observe('a', 9, 0, 13, 3)).toMatchObject({ event: 'in-order', convention: 'flows-post' });
});

// Completeness rows between two flushes: per exporter, domain and bucket of flow time, the
// records counted in every bucket they overlap, a datagram in its records' last bucket, its
// issues and sequence gap in every bucket its records cover.

import { describe, expect, test } from 'vitest';
import { Completeness } from '../../collector/completeness.js';
import type { FlowRecord } from '../../model/flow.js';
import { makeRecord } from '../normalize/make-record.js';

const MIN = 60_000;
const T0 = 1_710_234_000_000; // a minute boundary

const flow = (startMs: number, endMs: number): FlowRecord => makeRecord({ startMs, endMs });
const key = (r: { exporter: string; domainId: number; bucketStartMs: number }) =>
  `${r.exporter} ${r.domainId} ${(r.bucketStartMs - T0) / MIN}`;

describe('Completeness', () => {
  test('rows per exporter, domain and bucket, interleaved datagrams added up; a take starts afresh', () => {
    const c = new Completeness(MIN);
    // Two records in minute 0, one spanning minutes 0-1: 3 records in minute 0, 1 in minute 1.
    c.addDatagram(
      '192.0.2.1',
      7,
      T0 + 2 * MIN,
      [flow(T0, T0 + 10), flow(T0 + 5, T0 + MIN + 5), flow(T0, T0)],
      1,
      4,
    );
    c.addDatagram('192.0.2.2', 7, T0 + 2 * MIN, [flow(T0, T0 + 10)], 0, 0);
    c.addDatagram('192.0.2.1', 8, T0 + 2 * MIN, [flow(T0 + MIN, T0 + MIN)], 0, 2);
    c.addDatagram('192.0.2.1', 7, T0 + 2 * MIN, [flow(T0 + MIN, T0 + MIN + 1)], 2, 0);
    // No record: the datagram counts in the bucket of its receive time.
    c.addDatagram('192.0.2.2', 7, T0 + 5 * MIN + 1, [], 3, 1);
    const rows = Object.fromEntries(
      c.take().map((r) => [key(r), [r.records, r.datagrams, r.issues, r.sequenceGaps]]),
    );
    expect(rows).toEqual({
      '192.0.2.1 7 0': [3, 0, 1, 4],
      '192.0.2.1 7 1': [2, 2, 3, 4],
      '192.0.2.2 7 0': [1, 1, 0, 0],
      '192.0.2.1 8 1': [1, 1, 0, 2],
      '192.0.2.2 7 5': [0, 1, 3, 1],
    });
    expect(c.take()).toEqual([]);
    c.addDatagram('192.0.2.1', 7, T0, [flow(T0, T0)], 0, 0);
    expect(c.take().map((r) => [key(r), r.records, r.datagrams])).toEqual([['192.0.2.1 7 0', 1, 1]]);
  });
});

import { describe, expect, test } from 'vitest';
import { twoPointSegments } from '../../analysis/two-point-loss.js';
import type { TwoPointBucket } from '../../analysis/two-point-loss.js';
import { decodedBatchesFor } from '../normalize/decoded-flows.js';
import { exporterNames, flowsFor } from '../normalize/reference-flows.js';
import { runNormalizer } from '../normalize/run-normalizer.js';
import { truthFor } from '../normalize/truth.js';
import { minuteRecordsFromTruth } from '../normalize/truth-records.js';

/**
 * d_loss_v4: the same traffic captured near the sender (tx, every packet present, 17
 * marked `lost_downstream`) and near the receiver (rx, 17 sequence gaps). A 5-tuple
 * exporter can only measure this loss by comparing the two observation points.
 */

const peerA = '192.0.2.140';
const peerB = '198.51.100.150';
const tunnel = `${peerA}_${peerB}_esp`;
const minuteMs = 60_000;
const rxTruth = truthFor('d_loss_v4_rx');
const txTruth = truthFor('d_loss_v4_tx');
const fromMs = Math.floor(txTruth.time_range.first_ms / minuteMs) * minuteMs;
const toMs = Math.floor(txTruth.time_range.last_ms / minuteMs) * minuteMs + minuteMs;
const lostPerMinute = new Map(
  (rxTruth.tunnels[0]?.directions.a_to_b.per_spi[0]?.lost_per_minute ?? []).map((m) => [m.minute_ms, m.lost]),
);
const trueLost = rxTruth.tunnels[0]?.directions.a_to_b.totals.lost ?? -1;

test('the truth: 17 lost a→b (3, 12, 2 in minutes 1-3), nothing b→a', () => {
  expect(trueLost).toBe(17);
  expect([...lostPerMinute.values()]).toEqual([3, 12, 2]);
  expect(txTruth.tunnels[0]?.directions.a_to_b.totals.lost_downstream).toBe(17);
});

describe.each(exporterNames)('%s at both observation points', (exporter) => {
  // Exporter address = the peer it sits next to, so placement is inferred (no config).
  const tx = flowsFor('d_loss_v4_tx', exporter, { exporterAddress: peerA });
  const rx = flowsFor('d_loss_v4_rx', exporter, { exporterAddress: peerB });

  test.each([
    ['in one batch each, tx first', [tx, rx]],
    ['record by record, rx first', [...rx.map((r) => [r]), ...tx.map((r) => [r])]],
    [
      'decoded by tunnelflow, datagram by datagram',
      [
        ...decodedBatchesFor('d_loss_v4_tx', exporter, { exporterAddress: peerA }),
        ...decodedBatchesFor('d_loss_v4_rx', exporter, { exporterAddress: peerB }),
      ],
    ],
  ] as const)('%s: two-point loss over the capture is the true 17', (_how, batches) => {
    const run = runNormalizer(batches);
    expect([...run.tunnels.keys()]).toEqual([tunnel]);
    const { summary, buckets } = run.view(tunnel, fromMs, toMs);
    expect(summary.observationPoints).toEqual([
      { exporter: peerA, domainId: expect.any(Number), near: 'a', placedBy: 'inferred' },
      { exporter: peerB, domainId: expect.any(Number), near: 'b', placedBy: 'inferred' },
    ]);
    expect(summary.aToB).toMatchObject({
      lost: 17,
      lossSource: 'two-point',
      observedBy: { exporter: peerA },
    });
    // Packets shown are the upstream (sender-side) figure: what was sent.
    expect(summary.aToB.packets).toBe(txTruth.tunnels[0]?.directions.a_to_b.totals.ip_packets);
    expect(summary.aToB.lossRatio).toBeCloseTo(17 / 1736, 12);
    expect(summary.bToA).toMatchObject({
      lost: 0,
      lossRatio: 0,
      lossSource: 'two-point',
      observedBy: { exporter: peerB },
    });
    expect(summary.bToA.packets).toBe(288);
    expect(Object.values(summary.aToB.bogusCleared).every((n) => n === 0)).toBe(true);

    // Per bucket, by the rule of two-point-loss.ts: a minute gets its own figure only when no
    // record of either point crosses its edges; otherwise the figure is the span's.
    let spanned = 0;
    for (const b of buckets) {
      if (b.aToB.lossSource === 'two-point') {
        expect(b.aToB.lost).toBe(lostPerMinute.get(b.start) ?? 0);
      } else {
        expect(b.aToB.lost).toBeNull();
        const span = b.aToB.lossSpan;
        expect(span).not.toBeNull();
        if (span?.complete === true) {
          let truthInSpan = 0;
          for (let m = span.startMs; m < span.endMs; m += minuteMs) truthInSpan += lostPerMinute.get(m) ?? 0;
          expect(span.lost).toBe(truthInSpan);
          spanned++;
        }
      }
    }
    // Both exporters' records straddle minutes, so here the whole capture is one span.
    expect(spanned).toBe(buckets.length);
  });

  test('one observation point alone measures nothing (unknown, not zero)', () => {
    for (const [flows, addr] of [
      [tx, peerA],
      [rx, peerB],
    ] as const) {
      const { summary } = runNormalizer([flows]).view(tunnel, fromMs, toMs);
      expect(summary.aToB.lost).toBeNull();
      expect(summary.aToB.lossSource).toBeNull();
      expect(summary.observationPoints).toEqual([
        {
          exporter: addr,
          domainId: expect.any(Number),
          near: addr === peerA ? 'a' : 'b',
          placedBy: 'inferred',
        },
      ]);
    }
  });

  test('configured observation points work when the exporters are not the peers', () => {
    const run = runNormalizer(
      [
        flowsFor('d_loss_v4_tx', exporter, { exporterAddress: '203.0.113.250' }),
        flowsFor('d_loss_v4_rx', exporter, { exporterAddress: '203.0.113.251' }),
      ],
      {
        observationPoints: [
          { exporter: '203.0.113.250', near: peerA },
          { exporter: '203.0.113.251', near: peerB },
        ],
      },
    );
    const { summary } = run.view(tunnel, fromMs, toMs);
    expect(summary.aToB).toMatchObject({ lost: 17, lossSource: 'two-point' });
    expect(summary.observationPoints.map((p) => p.placedBy)).toEqual(['config', 'config']);
  });
});

test('minute-aligned records at both points give the loss of each minute', () => {
  const run = runNormalizer([minuteRecordsFromTruth(txTruth, peerA), minuteRecordsFromTruth(rxTruth, peerB)]);
  const { summary, buckets } = run.view(tunnel, fromMs, toMs);
  expect(buckets.map((b) => [b.start, b.aToB.lost, b.aToB.lossSource, b.aToB.lossSpan])).toEqual(
    buckets.map((b) => [b.start, lostPerMinute.get(b.start) ?? 0, 'two-point', null]),
  );
  expect(buckets.map((b) => b.bToA.lost)).toEqual(buckets.map(() => 0));
  expect(summary.aToB.lost).toBe(17);
});

test('a window that cuts a span gives no two-point figure for it (apportioning noise is not loss)', () => {
  const run = runNormalizer([
    flowsFor('d_loss_v4_tx', 'softflowd_ipfix', { exporterAddress: peerA }),
    flowsFor('d_loss_v4_rx', 'softflowd_ipfix', { exporterAddress: peerB }),
  ]);
  // softflowd: one record per direction for the whole capture; a window of minutes 1-2 cuts it.
  const { summary, buckets } = run.view(tunnel, fromMs + minuteMs, fromMs + 3 * minuteMs);
  expect(buckets).toHaveLength(2);
  expect(summary.aToB.lost).toBeNull();
  for (const b of buckets) expect(b.aToB.lossSpan).toMatchObject({ complete: false, lost: null });
});

describe('twoPointSegments', () => {
  const b = (upPackets: number, downPackets: number, carriedIn: number): TwoPointBucket => ({
    startMs: 0,
    upPackets,
    downPackets,
    carriedIn,
  });
  test.each([
    [
      'independent buckets',
      [b(10, 9, 0), b(5, 5, 0)],
      0,
      [
        [0, 0, 1, true, null],
        [1, 1, 0, true, null],
      ],
    ],
    [
      'a record across buckets joins them',
      [b(10, 6, 0), b(10, 12, 1), b(4, 4, 0)],
      0,
      [
        [0, 1, 2, true, null],
        [2, 2, 0, true, null],
      ],
    ],
    ['negative is cleared', [b(5, 7, 0)], 0, [[0, 0, null, true, 'negative']]],
    ['above the ceiling is cleared', [b(10, 4, 0)], 0, [[0, 0, null, true, 'exceeds-ceiling']]],
    ['at the ceiling is kept', [b(10, 5, 0)], 0, [[0, 0, 5, true, null]]],
    [
      'open at the start',
      [b(10, 9, 2), b(5, 5, 0)],
      0,
      [
        [0, 0, null, false, null],
        [1, 1, 0, true, null],
      ],
    ],
    [
      'open at the end',
      [b(10, 9, 0), b(5, 5, 0)],
      1,
      [
        [0, 0, 1, true, null],
        [1, 1, null, false, null],
      ],
    ],
    ['no traffic gives no figure', [b(0, 0, 0)], 0, [[0, 0, null, true, null]]],
  ] as const)('%s', (_name, buckets, next, expected) => {
    const segments = twoPointSegments(buckets, 0.5, next);
    expect(segments.map((s) => [s.first, s.last, s.lost, s.complete, s.clearedReason])).toEqual(expected);
  });
});

import { describe, expect, test } from 'vitest';
import { pairSecurityAssociations } from '../../collector/normalize/sa-pairing.js';
import type { PairingCandidate } from '../../collector/normalize/sa-pairing.js';
import { makeRecord } from './make-record.js';
import { runNormalizer } from './run-normalizer.js';
import { truthFor } from './truth.js';

const sa = (id: string, firstSeenMs: number, lastSeenMs: number): PairingCandidate => ({
  id,
  firstSeenMs,
  lastSeenMs,
});

describe('pairSecurityAssociations', () => {
  test.each([
    ['one each way, overlapping', [sa('x', 0, 100)], [sa('y', 5, 90)], [['x', 'y']]],
    ['no overlap: half-open', [sa('x', 0, 100)], [sa('y', 101, 200)], []],
    ['touching lifetimes overlap', [sa('x', 0, 100)], [sa('y', 100, 200)], [['x', 'y']]],
    ['one direction only', [sa('x', 0, 100)], [], []],
    [
      'a rekey: each new SA finds the new one, not the old one it still overlaps',
      [sa('old-ab', 0, 150), sa('new-ab', 149, 300)],
      [sa('old-ba', 1, 151), sa('new-ba', 149, 300)],
      [
        ['new-ab', 'new-ba'],
        ['old-ab', 'old-ba'],
      ],
    ],
    [
      'nearest first appearance wins among several overlapping',
      [sa('x', 100, 500)],
      [sa('far', 0, 500), sa('near', 110, 500)],
      [['x', 'near']],
    ],
    ['ties by id', [sa('x', 100, 500)], [sa('b2', 90, 500), sa('b1', 110, 500)], [['x', 'b1']]],
    [
      'an A→B SA without partner after the other side went quiet',
      [sa('x1', 0, 100), sa('x2', 400, 500)],
      [sa('y1', 0, 100)],
      [['x1', 'y1']],
    ],
  ] as const)('%s', (_name, aToB, bToA, pairs) => {
    const result = pairSecurityAssociations(aToB, bToA);
    const expected = new Map<string, string>();
    for (const [x, y] of pairs) {
      expected.set(x, y);
      expected.set(y, x);
    }
    expect(result).toEqual(expected);
  });

  test('input order does not matter', () => {
    const ab = [sa('a1', 0, 150), sa('a2', 149, 300), sa('a3', 290, 400)];
    const ba = [sa('b1', 2, 151), sa('b2', 150, 300), sa('b3', 295, 400)];
    expect(pairSecurityAssociations([...ab].reverse(), [...ba].reverse())).toEqual(
      pairSecurityAssociations(ab, ba),
    );
  });
});

describe('SAs through the normalizer', () => {
  const truth = truthFor('b_rekey_v4');
  const t = truth.tunnels[0];
  if (t === undefined) throw new Error('no tunnel');
  const tunnel = `${t.peer_b}_${t.peer_a}_esp`; // 192.0.2.77 is the lower address

  /** One record per SPI, as a probe exporting IE 295 would send them (from the truth's per-SPI counters). */
  function perSpiRecords(): ReturnType<typeof makeRecord>[] {
    const out = [];
    for (const d of ['a_to_b', 'b_to_a'] as const) {
      const dir = t?.directions[d];
      for (const spi of dir?.per_spi ?? []) {
        out.push(
          makeRecord({
            src: dir?.src,
            dst: dir?.dst,
            spi: Number(spi.spi),
            startMs: spi.first_ms,
            endMs: spi.last_ms,
            packets: spi.ip_packets,
            octets: spi.ip_bytes,
          }),
        );
      }
    }
    return out.sort((x, y) => x.startMs - y.startMs);
  }

  test.each([
    ['in one batch', (r: ReturnType<typeof perSpiRecords>) => [r]],
    ['one record per batch', (r: ReturnType<typeof perSpiRecords>) => r.map((x) => [x])],
    [
      'newest first, one per batch',
      (r: ReturnType<typeof perSpiRecords>) => [...r].reverse().map((x) => [x]),
    ],
  ])(
    'b_rekey_v4 with SPIs (%s): two generations, the old pair ended by the rekey, the new pair paired',
    (_how, batching) => {
      const run = runNormalizer(batching(perSpiRecords()));
      const sas = [...run.sas.values()].filter((x) => x.tunnelId === tunnel);
      expect(sas).toHaveLength(4);
      const bySpi = new Map(
        sas.map((x) => [x.spi === null ? '' : `0x${x.spi.toString(16).padStart(8, '0')}`, x]),
      );
      for (const generation of t.sas) {
        const ab = bySpi.get(generation.a_to_b.spi);
        const ba = bySpi.get(generation.b_to_a.spi);
        expect(ab?.pairedSaId).toBe(ba?.id);
        expect(ba?.pairedSaId).toBe(ab?.id);
        expect(ab?.generation).toBe(0); // generations count re-use of one key, not rekeys
      }
      const old = t.sas[0];
      const next = t.sas[1];
      for (const side of ['a_to_b', 'b_to_a'] as const) {
        const o = bySpi.get(old?.[side].spi ?? '');
        const n = bySpi.get(next?.[side].spi ?? '');
        expect(o?.endReason).toBe('rekey');
        expect(o?.endedMs).toBe(n?.firstSeenMs);
        expect(n?.endedMs).toBeNull();
      }
      expect(run.normalizer.counters().rekeys).toBe(2);
      expect(run.normalizer.counters().saPairsFormed).toBeGreaterThanOrEqual(2);
      // The tunnel continues across the rekey: one tunnel, its packets the truth's.
      const { summary } = run.view(tunnel, 1_710_234_000_000, 1_710_234_360_000);
      expect([...run.tunnels.keys()]).toEqual([tunnel]);
      expect(summary.aToB.packets).toBe(t.directions.b_to_a.totals.ip_packets);
      expect(summary.bToA.packets).toBe(t.directions.a_to_b.totals.ip_packets);
      expect(summary.sas.map((x) => x.spi)).toHaveLength(4);
    },
  );

  test('an idle gap starts a new generation of an SPI-less SA, with a new id', () => {
    const t0 = 1_710_234_000_000;
    const run = runNormalizer(
      [
        [makeRecord({ startMs: t0, endMs: t0 + 10_000 })],
        [makeRecord({ startMs: t0 + 10_000 + 300_000, endMs: t0 + 400_000 })],
        [makeRecord({ startMs: t0 + 400_000 + 300_001, endMs: t0 + 800_000 })],
      ],
      { saIdleSeconds: 300 },
    );
    const ids = run.flows.map((f) => f.saId);
    expect(ids).toEqual([
      '192.0.2.10_198.51.100.20_nospi_g0',
      '192.0.2.10_198.51.100.20_nospi_g0',
      '192.0.2.10_198.51.100.20_nospi_g1',
    ]);
    const g0 = run.sas.get('192.0.2.10_198.51.100.20_nospi_g0');
    expect(g0).toMatchObject({ endReason: 'idle', endedMs: t0 + 400_000 });
    expect(run.normalizer.counters().sasExpired).toBe(1);
  });

  test('the sweep ends SAs that went quiet, by record time', () => {
    const t0 = 1_710_234_000_000;
    const run = runNormalizer(
      [
        [makeRecord({ startMs: t0, endMs: t0 + 10_000 })],
        // Other traffic moves the clock on; the ESP SA saw nothing for longer than the idle time.
        [
          makeRecord({
            proto: 17,
            src: '192.0.2.99',
            dst: '192.0.2.98',
            srcPort: 5353,
            dstPort: 53,
            startMs: t0 + 700_000,
            endMs: t0 + 700_000,
          }),
        ],
      ],
      { saIdleSeconds: 600 },
    );
    expect(run.sas.get('192.0.2.10_198.51.100.20_nospi_g0')).toMatchObject({
      endReason: 'idle',
      endedMs: t0 + 10_000,
    });
  });
});

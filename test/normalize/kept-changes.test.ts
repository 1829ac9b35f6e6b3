// The live pipeline takes the normalizer's tunnel, SA and bucket changes once per flush, not
// once per datagram: kept over any number of batches, they must leave the store exactly
// what taking them batch by batch leaves (the same bucket rows, tunnels and SAs), on every
// corpus capture and exporter.

import { describe, expect, test } from 'vitest';
import { BatchState } from '../../collector/normalize/batch-state.js';
import { SaRegistry } from '../../collector/normalize/sa-registry.js';
import { TunnelRegistry } from '../../collector/normalize/tunnel-registry.js';
import { decodedBatchesFor } from './decoded-flows.js';
import { makeRecord } from './make-record.js';
import { exporterNames, scenarioCaptures } from './reference-flows.js';
import { runNormalizer } from './run-normalizer.js';
import type { NormalizerRun } from './run-normalizer.js';
import { configFromTruth, truthFor } from './truth.js';

const T0 = 1_710_234_000_000;
const MIN = 60_000;
const A = '192.0.2.10';
const B = '198.51.100.20';

/** What the store keeps, in a stable order. */
function stored(run: NormalizerRun) {
  const byKey = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const rowKey = (r: NormalizerRun['rows'][number]) =>
    `${r.tunnelId}|${r.bucketStartMs}|${r.direction}|${r.exporter}|${r.domainId}`;
  return {
    rows: [...run.rows].sort((a, b) => (rowKey(a) < rowKey(b) ? -1 : 1)),
    tunnels: byKey(run.tunnels),
    sas: byKey(run.sas),
    counters: run.normalizer.counters(),
  };
}

describe.each(scenarioCaptures)('%s', (scenario) => {
  const config = configFromTruth(truthFor(scenario));
  test.each(exporterNames)('%s: changes kept over 1, 7 and all batches store the same', (exporter) => {
    const batches = decodedBatchesFor(scenario, exporter);
    const each = stored(runNormalizer(batches, config));
    expect(each.tunnels.length).toBeGreaterThan(0);
    for (const takeEvery of [1, 7, Number.POSITIVE_INFINITY]) {
      expect(stored(runNormalizer(batches, config, { takeEvery }))).toEqual(each);
    }
  });
});

describe('changes kept until taken', () => {
  test('a tunnel and its SA changed, then forgotten before the take, still reach the store', () => {
    const batch = new BatchState();
    const tunnels = new TunnelRegistry(new Map(), batch);
    const sas = new SaRegistry({ saHistory: 8, saIdleMs: 10 * MIN }, batch);
    const t = tunnels.create(A, B, 'esp', T0, T0 + MIN);
    const sa = sas.saFor(makeRecord({ src: A, dst: B, spi: 7, startMs: T0, endMs: T0 + MIN }), t, 'a-b');
    tunnels.touch(t, T0, T0 + 2 * MIN);
    sas.forgetTunnel(t);
    tunnels.evict(t);
    const taken = batch.takeChanges();
    expect(taken.tunnels.map((x) => [x.id, x.firstSeenMs, x.lastSeenMs])).toEqual([[t.id, T0, T0 + 2 * MIN]]);
    expect(taken.sas.map((x) => x.id)).toEqual([sa.id]);
    expect(batch.takeChanges()).toEqual({ tunnels: [], sas: [] });
  });

  test('a tunnel evicted and made anew before the take: one tunnel, the widest first and last seen', () => {
    const batch = new BatchState();
    const tunnels = new TunnelRegistry(new Map(), batch);
    const old = tunnels.create(A, B, 'esp', T0, T0 + MIN);
    tunnels.evict(old);
    const again = tunnels.create(B, A, 'esp', T0 + 90 * MIN, T0 + 91 * MIN);
    expect(again).not.toBe(old);
    const [taken, ...more] = batch.takeChanges().tunnels;
    expect(more).toEqual([]);
    expect([taken?.id, taken?.firstSeenMs, taken?.lastSeenMs]).toEqual([old.id, T0, T0 + 91 * MIN]);
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import { compareAddresses } from '../../model/address-order.js';
import type { TunnelSummary, TunnelBucketView } from '../../analysis/tunnel-figures.js';
import { decodedBatchesFor } from '../normalize/decoded-flows.js';
import { exporterNames, scenarioCaptures } from '../normalize/reference-flows.js';
import type { ExporterName, ScenarioCapture } from '../normalize/reference-flows.js';
import { runNormalizer } from '../normalize/run-normalizer.js';
import { configFromTruth, healthFromTruth, truthEncapsulation, truthFor } from '../normalize/truth.js';
import type { Truth, TruthTunnel } from '../normalize/truth.js';
import { getJson, start, tempDir, testConfig } from './helpers.js';

/**
 * The acceptance path of the tunnels issue: `tunnelflow ingest` of a corpus export
 * capture, then the HTTP API. For every scenario and exporter the API must give what the
 * truth file says (tunnels, peers, encapsulation, state; packets and octets per direction
 * where the exporter can see them) and exactly what the normalizer computes from the same
 * datagrams (which test/normalize checks against the truth in depth): the store and the
 * API add and lose nothing.
 */

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');
const minuteMs = 60_000;

function windowOf(truth: Truth): [number, number] {
  return [
    Math.floor(truth.time_range.first_ms / minuteMs) * minuteMs,
    Math.floor(truth.time_range.last_ms / minuteMs) * minuteMs + minuteMs,
  ];
}

function configYaml(truth: Truth): string {
  const lines = ['tunnels:'];
  for (const t of truth.tunnels) {
    lines.push(`  - name: ${truth.scenario} ${t.id}`, `    peerA: ${t.peer_a}`, `    peerB: ${t.peer_b}`);
    lines.push(
      `    protectedSubnets: { a: [${t.protected_subnets.a.join(', ')}], b: [${t.protected_subnets.b.join(', ')}] }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Our peer A is the lower address; the truth's may be either. */
function swapped(t: TruthTunnel): boolean {
  return compareAddresses(t.peer_a, t.peer_b) > 0;
}

function idOf(t: TruthTunnel): string {
  const [a, b] = swapped(t) ? [t.peer_b, t.peer_a] : [t.peer_a, t.peer_b];
  return `${a}_${b}_${truthEncapsulation(t)}`;
}

interface Ingested {
  url: string;
  stop(): Promise<void>;
}

async function ingestAndServe(
  scenario: ScenarioCapture,
  exporter: ExporterName,
  truth: Truth,
): Promise<Ingested> {
  const dir = tempDir();
  const config = testConfig(dir, configYaml(truth));
  await ingestCommand(join(CORPUS, scenario, `${exporter}.pcap`), {
    config: join(dir, 'tunnelflow.yaml'),
    db: config.store.path,
    quiet: true,
  });
  const app = await start(config);
  return { url: app.url, stop: app.stop };
}

describe.each(scenarioCaptures)('%s', (scenario) => {
  const truth = truthFor(scenario);
  const [fromMs, toMs] = windowOf(truth);

  describe.each(exporterNames)('ingested from %s', (exporter) => {
    let served: Ingested;
    beforeAll(async () => {
      served = await ingestAndServe(scenario, exporter, truth);
    });
    afterAll(async () => served.stop());

    test('the API gives the tunnels, states and counters of the truth, exactly as the normalizer computes them', async () => {
      const res = await getJson<{ items: TunnelSummary[]; nextCursor: string | null }>(
        `${served.url}/api/v1/tunnels?from=${fromMs}&to=${toMs}`,
      );
      expect(res.status).toBe(200);
      const expected = runNormalizer(decodedBatchesFor(scenario, exporter), configFromTruth(truth));
      const expectedIds = [...expected.tunnels.keys()].sort();
      expect(res.body.items.map((t) => t.id).sort()).toEqual(expectedIds);
      for (const item of res.body.items) {
        expect(item).toEqual(expected.view(item.id, fromMs, toMs).summary);
      }
      const visible = truth.tunnels.filter((t) => !(exporter === 'softflowd_v5' && t.ip_version === 6));
      expect(expectedIds).toEqual(visible.map(idOf).sort());
      for (const t of visible) {
        const item = res.body.items.find((i) => i.id === idOf(t)) as TunnelSummary;
        const [ab, ba] = swapped(t)
          ? [t.directions.b_to_a, t.directions.a_to_b]
          : [t.directions.a_to_b, t.directions.b_to_a];
        expect([item.peerA, item.peerB]).toEqual([ab.src, ab.dst]);
        expect(item.name).toBe(`${scenario} ${t.id}`);
        if (t.natt === null || t.natt === undefined) {
          // Outside NAT-T every ESP packet is visible as such: the truth's totals exactly.
          expect(item.state).toBe(healthFromTruth[t.observed_health]);
          expect(item.aToB.packets).toBe(ab.totals.ip_packets);
          expect(item.aToB.octets).toBe(ab.totals.ip_bytes);
          expect(item.bToA.packets).toBe(ba.totals.ip_packets);
          expect(item.bToA.octets).toBe(ba.totals.ip_bytes);
        }
      }
    });

    test('buckets per minute are what the normalizer computes, with completeness', async () => {
      const expected = runNormalizer(decodedBatchesFor(scenario, exporter), configFromTruth(truth));
      for (const id of expected.tunnels.keys()) {
        const res = await getJson<{ items: (TunnelBucketView & { completeness: unknown[] })[] }>(
          `${served.url}/api/v1/tunnels/${encodeURIComponent(id)}/buckets?from=${fromMs}&to=${toMs}`,
        );
        expect(res.status).toBe(200);
        const want = expected.view(id, fromMs, toMs).buckets;
        expect(res.body.items.map(({ completeness: _c, ...b }) => b)).toEqual(want);
        for (const b of res.body.items) expect(b.completeness.length).toBeGreaterThan(0);
      }
    });
  });
});

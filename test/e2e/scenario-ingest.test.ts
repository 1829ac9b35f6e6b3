import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import { compareAddresses } from '../../model/address-order.js';
import type { TunnelBucketView, TunnelSummary } from '../../analysis/tunnel-figures.js';
import { runNormalizer } from '../normalize/run-normalizer.js';
import { configFromTruth, healthFromTruth, truthEncapsulation } from '../normalize/truth.js';
import type { Truth, TruthTunnel } from '../normalize/truth.js';
import {
  exportPcapPath,
  issue12Exporters,
  issue12Scenarios,
  scenarioBatches,
  scenarioTruth,
} from '../scenarios/scenario-fixtures.js';
import { getJson, start, tempDir, testConfig } from './helpers.js';

/**
 * Issue 12 items 1 and 2 end to end: `tunnelflow ingest` of each new scenario's export
 * capture (softflowd v9 and IPFIX, pmacct IPFIX), then the HTTP API. The API must give the
 * truth's state, flags, per-direction packets and octets (fragments included) and per-minute
 * states, and exactly what the normalizer computes from the same datagrams
 * (test/scenarios/scenario-truth.test.ts checks that against the truth in depth).
 */

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
    lines.push(`  - name: ${truth.scenario} ${t.id}`, `    peerA: '${t.peer_a}'`, `    peerB: '${t.peer_b}'`);
    lines.push(
      `    protectedSubnets: { a: ['${t.protected_subnets.a.join("', '")}'], b: ['${t.protected_subnets.b.join("', '")}'] }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function swapped(t: TruthTunnel): boolean {
  return compareAddresses(t.peer_a, t.peer_b) > 0;
}

function idOf(t: TruthTunnel): string {
  const [a, b] = swapped(t) ? [t.peer_b, t.peer_a] : [t.peer_a, t.peer_b];
  return `${a}_${b}_${truthEncapsulation(t)}`;
}

describe.each(issue12Scenarios)('%s', (scenario) => {
  const truth = scenarioTruth(scenario);
  const t = truth.tunnels[0] as TruthTunnel;
  const [fromMs, toMs] = windowOf(truth);

  describe.each(issue12Exporters)('ingested from %s', (exporter) => {
    let url = '';
    let stop: () => Promise<void> = async () => {};
    beforeAll(async () => {
      const dir = tempDir();
      const config = testConfig(dir, configYaml(truth));
      await ingestCommand(exportPcapPath(scenario, exporter), {
        config: join(dir, 'tunnelflow.yaml'),
        db: config.store.path,
        quiet: true,
      });
      const app = await start(config);
      url = app.url;
      stop = app.stop;
    });
    afterAll(async () => stop());

    test('the tunnel of the truth: state, flags, packets and octets per direction', async () => {
      const res = await getJson<{ items: TunnelSummary[] }>(
        `${url}/api/v1/tunnels?from=${fromMs}&to=${toMs}`,
      );
      expect(res.status).toBe(200);
      const expected = runNormalizer(scenarioBatches(scenario, exporter), configFromTruth(truth));
      expect(res.body.items.map((i) => i.id)).toEqual([idOf(t)]);
      const item = res.body.items[0] as TunnelSummary;
      expect(item).toEqual(expected.view(item.id, fromMs, toMs).summary);
      expect(item.state).toBe(healthFromTruth[t.observed_health]);
      const fragments = t.directions.a_to_b.totals.fragments + t.directions.b_to_a.totals.fragments;
      expect(item.flags).toEqual([
        // pmacct folds fragments into the ESP flow without a trace (see scenario-truth.test.ts).
        ...(fragments > 0 && exporter.startsWith('softflowd') ? ['fragmenting'] : []),
        ...(t.icmp_frag_needed.total > 0 ? ['mtu-blackhole-risk'] : []),
      ]);
      expect(item.leakPackets).toBe(0);
      const [ab, ba] = swapped(t)
        ? [t.directions.b_to_a, t.directions.a_to_b]
        : [t.directions.a_to_b, t.directions.b_to_a];
      const esp = (d: typeof ab): [number, number] =>
        d.totals.ip_packets === 0
          ? [0, 0]
          : [
              d.totals.ip_packets + (d.totals.ike_udp_4500_packets ?? 0),
              d.totals.ip_bytes + (d.totals.ike_udp_4500_bytes ?? 0),
            ];
      expect([item.aToB.packets, item.aToB.octets]).toEqual(esp(ab));
      expect([item.bToA.packets, item.bToA.octets]).toEqual(esp(ba));
    });

    test('states per minute follow the truth timeline', async () => {
      const res = await getJson<{ items: TunnelBucketView[] }>(
        `${url}/api/v1/tunnels/${encodeURIComponent(idOf(t))}/buckets?from=${fromMs}&to=${toMs}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.map((b) => [b.start, b.state])).toEqual(
        t.health_timeline.map((h) => [h.minute_ms, healthFromTruth[h.state]]),
      );
    });
  });
});

import { describe, expect, test } from 'vitest';
import { compareAddresses } from '../../model/address-order.js';
import type { TunnelDirection } from '../../model/flow.js';
import { runNormalizer } from '../normalize/run-normalizer.js';
import { configFromTruth, healthFromTruth, truthEncapsulation } from '../normalize/truth.js';
import type { Truth, TruthTunnel } from '../normalize/truth.js';
import { issue12Exporters, issue12Scenarios, scenarioBatches, scenarioTruth } from './scenario-fixtures.js';

/**
 * Issue 12 items 1 and 2: fragments and NAT-T without ESP, through our decoders and the
 * normalizer, against the truth of each scenario, for softflowd and pmacct alike.
 *
 * - Fragments: softflowd meters non-first fragments as flows of their own (IPv4 `proto 17,
 *   ports 0/0`, IPv6 protocol 0); they must be `esp-fragment` flows of the tunnel, so the
 *   direction's packets and octets are the truth's and nothing is a leak. pmacct folds the
 *   fragments into the ESP flow itself, so its counts are the truth's too; its records carry no
 *   trace of fragmentation, so `fragmenting` can only be raised from softflowd's records (the
 *   one difference between the exporters, asserted below).
 * - NAT-T: the UDP 4500 flow counts IKE on 4500 with the ESP it carries (a record cannot see
 *   the non-ESP marker); a 4500 flow without ESP (l_natt_ike_fail_v4) must read as IKE:
 *   `negotiating`, no SA.
 */

const minuteMs = 60_000;

function ourDirection(t: TruthTunnel, truthDir: 'a_to_b' | 'b_to_a'): TunnelDirection {
  const aIsLower = compareAddresses(t.peer_a, t.peer_b) <= 0;
  return (truthDir === 'a_to_b') === aIsLower ? 'a-b' : 'b-a';
}

function idOf(t: TruthTunnel): string {
  const [a, b] = compareAddresses(t.peer_a, t.peer_b) <= 0 ? [t.peer_a, t.peer_b] : [t.peer_b, t.peer_a];
  return `${a}_${b}_${truthEncapsulation(t)}`;
}

function windowOf(truth: Truth): [number, number] {
  return [
    Math.floor(truth.time_range.first_ms / minuteMs) * minuteMs,
    Math.floor(truth.time_range.last_ms / minuteMs) * minuteMs + minuteMs,
  ];
}

/** The truth's packets and octets of the ESP-carrying flows of a direction as a record shows them. */
function expectedEsp(t: TruthTunnel, truthDir: 'a_to_b' | 'b_to_a'): { packets: number; octets: number } {
  const totals = t.directions[truthDir].totals;
  if (totals.ip_packets === 0) return { packets: 0, octets: 0 };
  // IKE on 4500 rides in the ESP-in-UDP record (l_natt_ike_fail_v4, which has no ESP, excepted).
  return {
    packets: totals.ip_packets + (totals.ike_udp_4500_packets ?? 0),
    octets: totals.ip_bytes + (totals.ike_udp_4500_bytes ?? 0),
  };
}

describe.each(issue12Scenarios)('%s', (scenario) => {
  const truth = scenarioTruth(scenario);
  const t = truth.tunnels[0] as TruthTunnel;
  const [fromMs, toMs] = windowOf(truth);

  describe.each(issue12Exporters)('%s', (exporter) => {
    const run = runNormalizer(scenarioBatches(scenario, exporter), configFromTruth(truth));
    const id = idOf(t);
    const softflowd = exporter.startsWith('softflowd');
    const truthFragments = t.directions.a_to_b.totals.fragments + t.directions.b_to_a.totals.fragments;

    test("one tunnel, the truth's, and no cleartext leak", () => {
      expect([...run.tunnels.keys()]).toEqual([id]);
      expect(run.tunnels.get(id)?.name).toBe(`${scenario} ${t.id}`);
      expect(run.tunnels.get(id)?.ipVersion).toBe(t.ip_version);
      expect(run.flows.filter((f) => f.kind === 'cleartext-leak')).toEqual([]);
      expect(run.flows.filter((f) => f.kind === 'other')).toEqual([]);
      expect(run.flows.every((f) => f.tunnelId === id)).toBe(true);
    });

    test('kinds: fragments as esp-fragment where the exporter shows them apart, IKE on 4500 without ESP as ike', () => {
      const packetsOf = (kind: string): number =>
        run.flows.filter((f) => f.kind === kind).reduce((s, f) => s + f.packets, 0);
      const nonFirst =
        t.directions.a_to_b.totals.non_first_fragments + t.directions.b_to_a.totals.non_first_fragments;
      // softflowd: the non-first fragments are flows of their own; pmacct folds them in.
      expect(packetsOf('esp-fragment')).toBe(softflowd ? nonFirst : 0);
      if (scenario === 'l_natt_ike_fail_v4') {
        expect(packetsOf('esp') + packetsOf('esp-in-udp') + packetsOf('esp-fragment')).toBe(0);
        const ike = t.directions.a_to_b.totals.ike_packets + t.directions.b_to_a.totals.ike_packets;
        expect(packetsOf('ike')).toBe(ike);
      } else {
        expect(truthFragments).toBe(956);
        expect(nonFirst).toBe(478);
      }
    });

    test('SAs: one per direction that carried ESP, paired; none without ESP', () => {
      const sas = [...run.sas.values()].filter((sa) => sa.tunnelId === id);
      const espDirs = (['a_to_b', 'b_to_a'] as const).filter((d) => t.directions[d].totals.ip_packets > 0);
      expect(sas.map((sa) => `${sa.src}>${sa.dst}`).sort()).toEqual(
        espDirs.map((d) => `${t.directions[d].src}>${t.directions[d].dst}`).sort(),
      );
      if (espDirs.length === 2) expect(sas[0]?.pairedSaId).toBe(sas[1]?.id);
    });

    test('state and flags over the capture', () => {
      const view = run.view(id, fromMs, toMs);
      expect(view.summary.state).toBe(healthFromTruth[t.expected_health]);
      expect(view.summary.state).toBe(healthFromTruth[t.observed_health]);
      const flags = [
        ...(truthFragments > 0 && softflowd ? ['fragmenting'] : []),
        ...(t.icmp_frag_needed.total > 0 ? ['mtu-blackhole-risk'] : []),
      ];
      expect(view.summary.flags).toEqual(flags);
      expect(view.summary.icmpFragNeeded).toBe(t.icmp_frag_needed.total);
      expect(view.summary.leakPackets).toBe(0);
    });

    test('packets and octets per direction equal the truth, fragments included', () => {
      const view = run.view(id, fromMs, toMs);
      let ike500 = 0;
      for (const truthDir of ['a_to_b', 'b_to_a'] as const) {
        const d = ourDirection(t, truthDir);
        const got = d === 'a-b' ? view.summary.aToB : view.summary.bToA;
        expect({ packets: got.packets, octets: got.octets }).toEqual(expectedEsp(t, truthDir));
        const sum = view.buckets.reduce((s, b) => s + (d === 'a-b' ? b.aToB : b.bToA).packets, 0);
        expect(sum).toBe(got.packets);
        const totals = t.directions[truthDir].totals;
        ike500 += scenario === 'l_natt_ike_fail_v4' ? totals.ike_packets : (totals.ike_udp_500_packets ?? 0);
      }
      expect(view.summary.ikePackets).toBe(ike500);
      const fragmentsSeen = run.rows.filter((r) => r.tunnelId === id).reduce((s, r) => s + r.fragments, 0);
      expect(view.summary.fragments).toBe(fragmentsSeen);
    });

    test('state per minute follows the truth timeline', () => {
      const view = run.view(id, fromMs, toMs);
      expect(view.buckets.map((b) => [b.start, b.state])).toEqual(
        t.health_timeline.map((h) => [h.minute_ms, healthFromTruth[h.state]]),
      );
    });
  });
});

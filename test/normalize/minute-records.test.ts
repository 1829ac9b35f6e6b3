import { describe, expect, test } from 'vitest';
import type { TunnelDirection } from '../../model/flow.js';
import type { DirectionFigures } from '../../analysis/tunnel-figures.js';
import { scenarioCaptures } from './reference-flows.js';
import { runNormalizer } from './run-normalizer.js';
import { healthFromTruth, truthEncapsulation, truthFor } from './truth.js';
import type { Truth, TruthTunnel } from './truth.js';
import { ike500PerMinute, minuteRecordsFromTruth } from './truth-records.js';

/**
 * Per-bucket exactness, where the corpus exporters cannot show it: every one of their ESP
 * records straddles minute boundaries. An exporter whose records are cut on minutes (built
 * here from the truth's per-minute counters) must give every bucket exactly the truth.
 */

const minuteMs = 60_000;

function peers(t: TruthTunnel): [string, string] {
  const key = (a: string): string =>
    a.includes(':')
      ? `6${a}`
      : `4${a
          .split('.')
          .map((p) => p.padStart(3, '0'))
          .join('.')}`;
  return key(t.peer_a) <= key(t.peer_b) ? [t.peer_a, t.peer_b] : [t.peer_b, t.peer_a];
}

function ourDirection(t: TruthTunnel, truthDir: 'a_to_b' | 'b_to_a'): TunnelDirection {
  return t.directions[truthDir].src === peers(t)[0] ? 'a-b' : 'b-a';
}

function pick(f: { aToB: DirectionFigures; bToA: DirectionFigures }, d: TunnelDirection): DirectionFigures {
  return d === 'a-b' ? f.aToB : f.bToA;
}

function window(truth: Truth): [number, number] {
  return [
    Math.floor(truth.time_range.first_ms / minuteMs) * minuteMs,
    Math.floor(truth.time_range.last_ms / minuteMs) * minuteMs + minuteMs,
  ];
}

describe.each(scenarioCaptures)('%s, minute-aligned records', (scenario) => {
  const truth = truthFor(scenario);
  const run = runNormalizer([minuteRecordsFromTruth(truth)]);
  const [fromMs, toMs] = window(truth);

  test.each(truth.tunnels.map((t) => [t.id, t] as const))(
    '%s: every bucket equals the truth minute',
    (_id, t) => {
      const [a, b] = peers(t);
      const view = run.view(`${a}_${b}_${truthEncapsulation(t)}`, fromMs, toMs);
      let compared = 0;
      for (const truthDir of ['a_to_b', 'b_to_a'] as const) {
        const d = ourDirection(t, truthDir);
        const totals = t.directions[truthDir].totals;
        for (const m of t.directions[truthDir].per_minute) {
          const bucket = view.buckets.find((x) => x.start === m.minute_ms);
          const got = bucket === undefined ? 0 : pick(bucket, d).packets;
          if (truthEncapsulation(t) === 'esp') {
            expect(got).toBe(m.ip_packets);
            expect(bucket === undefined ? 0 : pick(bucket, d).octets).toBe(m.ip_bytes);
          }
          const ike = run.rows
            .filter(
              (r) => r.bucketStartMs === m.minute_ms && r.direction === d && r.tunnelId === view.summary.id,
            )
            .reduce((s, r) => s + r.ikePackets, 0);
          if (truthEncapsulation(t) === 'esp') expect(ike).toBe(m.ike_packets);
          else {
            const ikeOn500 = ike500PerMinute(truth, t, truthDir).get(m.minute_ms)?.packets ?? 0;
            const on4500 = m.natt_keepalives + m.ike_packets - ikeOn500;
            if (m.ip_packets > 0) {
              // ESP-in-UDP: the minute's 4500 flow also carries IKE on 4500 and keepalives.
              expect(got).toBe(m.ip_packets + on4500);
              expect(ike).toBe(ikeOn500);
            } else {
              // A minute's 4500 flow without ESP (c_natt_v4 minute 4: a packet every 15-60 s)
              // is read as IKE (classify-kind.ts, README "How tunnelflow reads IPsec …").
              expect(got).toBe(0);
              expect(ike).toBe(ikeOn500 + on4500);
            }
          }
          compared++;
        }
        const withEsp = t.directions[truthDir].per_minute.filter((m) => m.ip_packets > 0);
        expect(view.buckets.reduce((s, x) => s + pick(x, d).packets, 0)).toBe(
          truthEncapsulation(t) === 'esp'
            ? totals.ip_packets
            : withEsp.reduce(
                (s, m) =>
                  s +
                  m.ip_packets +
                  m.natt_keepalives +
                  m.ike_packets -
                  (ike500PerMinute(truth, t, truthDir).get(m.minute_ms)?.packets ?? 0),
                0,
              ),
        );
      }
      expect(compared).toBeGreaterThan(0);
    },
  );

  test.each(truth.tunnels.map((t) => [t.id, t] as const))('%s: the health timeline', (_id, t) => {
    const [a, b] = peers(t);
    const view = run.view(`${a}_${b}_${truthEncapsulation(t)}`, fromMs, toMs);
    // Records cut on minutes show c_natt_v4 minute 4 (IKE on 4500 and keepalives only) as a
    // sparse 4500 flow, read as IKE: `negotiating`, as the truth says.
    const expected = t.health_timeline.map((h) => [h.minute_ms, healthFromTruth[h.state]]);
    expect(view.buckets.map((x) => [x.start, x.state])).toEqual(expected);
    if (scenario === 'c_natt_v4') {
      const m4 = view.buckets.find((x) => x.start === t.health_timeline[4]?.minute_ms);
      expect(m4?.state).toBe('negotiating');
      expect([m4?.aToB.packets, m4?.bToA.packets]).toEqual([0, 0]);
    }
  });
});

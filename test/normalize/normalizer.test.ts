import { describe, expect, test } from 'vitest';
import { parseNormalizeConfig } from '../../collector/normalize/config.js';
import { createNormalizer } from '../../collector/normalize/normalizer.js';
import type { NormalizerSnapshot } from '../../collector/normalize/normalizer-state.js';
import type { FlowRecord, ProducedFlow } from '../../model/flow.js';
import { makeRecord } from './make-record.js';
import { exporterNames, flowsFor } from './reference-flows.js';
import { runNormalizer } from './run-normalizer.js';

const t0 = 1_710_234_000_000;

function tunnelTotals(run: ReturnType<typeof runNormalizer>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of run.rows) {
    const key = `${r.tunnelId} ${r.direction}`;
    const v = out[key] ?? [0, 0, 0, 0, 0];
    v[0] = (v[0] ?? 0) + r.packets;
    v[1] = (v[1] ?? 0) + r.octets;
    v[2] = (v[2] ?? 0) + r.ikePackets;
    v[3] = (v[3] ?? 0) + r.flows;
    v[4] = (v[4] ?? 0) + r.espPackets;
    out[key] = v;
  }
  return out;
}

describe('batches and state', () => {
  test.each(exporterNames)(
    '%s, h_multi_tunnel_mixed: one record per batch in reverse gives the same tunnels and totals',
    (exporter) => {
      const flows = flowsFor('h_multi_tunnel_mixed', exporter);
      const together = runNormalizer([flows]);
      const apart = runNormalizer([...flows].reverse().map((r) => [r]));
      expect([...apart.tunnels.keys()].sort()).toEqual([...together.tunnels.keys()].sort());
      expect(tunnelTotals(apart)).toEqual(tunnelTotals(together));
      expect([...apart.sas.keys()].sort()).toEqual([...together.sas.keys()].sort());
    },
  );

  test('flows come back in input order, one per record, with every kind counted', () => {
    const flows = flowsFor('h_multi_tunnel_mixed', 'pmacct_ipfix');
    const run = runNormalizer([flows]);
    expect(run.flows.map((f) => [f.src, f.dst, f.startMs])).toEqual(
      flows.map((f) => [f.src, f.dst, f.startMs]),
    );
    const counters = run.normalizer.counters();
    expect(counters.records).toBe(flows.length);
    expect(Object.values(counters.kinds).reduce((s, n) => s + n, 0)).toBe(flows.length);
    expect(counters.kinds.other).toBe(run.flows.filter((f) => f.kind === 'other').length);
    expect(counters.tunnelsCreated).toBe(5);
    expect(counters.sasCreated).toBe(10);
    expect(counters.saPairsFormed).toBe(5);
    // Background (DNS, HTTPS, NTP) belongs to no tunnel.
    expect(
      run.flows.filter((f) => f.kind === 'other').every((f) => f.tunnelId === null && f.saId === null),
    ).toBe(true);
  });

  test("counters: cumulative across normalize() and process() batches; process() gives its batch's own, and keeps it", () => {
    const flows = flowsFor('h_multi_tunnel_mixed', 'pmacct_ipfix');
    const config = parseNormalizeConfig({});
    const whole = createNormalizer(config);
    whole.process(flows);
    const third = Math.floor(flows.length / 3);
    const split = createNormalizer(config);
    split.normalize(flows.slice(0, third));
    split.normalize(flows.slice(third, 2 * third));
    const last = split.process(flows.slice(2 * third));
    expect(last.counters.records).toBe(flows.length - 2 * third);
    expect(split.counters()).toEqual(whole.counters());
    expect(split.counters()).toEqual(split.snapshot().counters);
    // Later batches count elsewhere: the result's counters stay that batch's.
    split.normalize(flows.slice(0, third));
    expect(last.counters.records).toBe(flows.length - 2 * third);
    expect(split.counters().records).toBe(flows.length + third);
  });

  test('snapshot → JSON → restore continues exactly where it left off', () => {
    const flows = flowsFor('c_natt_v4', 'pmacct_v9');
    const config = parseNormalizeConfig({});
    const half = Math.floor(flows.length / 2);
    const straight = createNormalizer(config);
    const r1 = straight.process(flows.slice(0, half));
    const r2 = straight.process(flows.slice(half));

    const first = createNormalizer(config);
    const s1 = first.process(flows.slice(0, half));
    const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as NormalizerSnapshot;
    expect(snapshot).toEqual(first.snapshot());
    const second = createNormalizer(config, snapshot);
    const s2 = second.process(flows.slice(half));

    expect(s1).toEqual(r1);
    expect(s2).toEqual(r2);
    expect(second.snapshot()).toEqual(straight.snapshot());
    expect(second.counters()).toEqual(straight.counters());
  });

  test('observation points exporting SPIs survive a snapshot, IPv6 exporters and domain ids included', () => {
    const config = parseNormalizeConfig({});
    const at = (exporter: string, domainId: number, spi: number | null, startMs: number) =>
      makeRecord({ exporter, domainId, spi, startMs, endMs: startMs + 59_999 });
    const first = createNormalizer(config);
    first.process([at('2001:db8::1', 7, 0xfffffff0, t0), at('192.0.2.254', 0, 0x100, t0)]);
    const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as NormalizerSnapshot;
    expect(snapshot.spiObservationPoints).toEqual(['2001:db8::1|7', '192.0.2.254|0']);
    const second = createNormalizer(config, snapshot);
    const kinds = second
      .process([
        at('2001:db8::1', 7, null, t0 + 60_000),
        at('2001:db8::1', 0, null, t0 + 60_000),
        at('192.0.2.254', 0, null, t0 + 60_000),
        at('192.0.2.254', 7, null, t0 + 60_000),
      ])
      .flows.map((f) => f.kind);
    // SPI-less ESP from a point that exports SPIs is a fragment flow; from any other point, ESP.
    expect(kinds).toEqual(['esp-fragment', 'esp', 'esp-fragment', 'esp']);
    // SPI-less records add no point.
    expect(second.snapshot().spiObservationPoints).toEqual(snapshot.spiObservationPoints);
  });

  test('a batch reports only the tunnels and SAs it touched', () => {
    const n = createNormalizer(parseNormalizeConfig({}));
    const a = n.process([makeRecord()]);
    expect(a.tunnels.map((t) => t.id)).toEqual(['192.0.2.10_198.51.100.20_esp']);
    expect(a.sas.map((s) => s.id)).toEqual(['192.0.2.10_198.51.100.20_nospi_g0']);
    const b = n.process([
      makeRecord({ src: '192.0.2.30', dst: '192.0.2.31', startMs: t0 + 1000, endMs: t0 + 2000 }),
    ]);
    expect(b.tunnels.map((t) => t.id)).toEqual(['192.0.2.30_192.0.2.31_esp']);
    const c = n.process([
      makeRecord({ proto: 6, src: '192.0.2.99', dst: '203.0.113.1', srcPort: 1, dstPort: 2 }),
    ]);
    expect([c.tunnels, c.sas, c.buckets]).toEqual([[], [], []]);
  });

  test('tunnels idle longer than tunnelIdleSeconds leave memory and come back under the same id', () => {
    const n = createNormalizer(parseNormalizeConfig({ tunnelIdleSeconds: 3600 }));
    n.process([makeRecord()]);
    n.process([
      makeRecord({ src: '192.0.2.30', dst: '192.0.2.31', startMs: t0 + 7_200_000, endMs: t0 + 7_200_500 }),
    ]);
    expect(n.tunnels().map((t) => t.id)).toEqual(['192.0.2.30_192.0.2.31_esp']);
    expect(n.counters().tunnelsEvicted).toBe(1);
    const back = n.process([makeRecord({ startMs: t0 + 7_300_000, endMs: t0 + 7_300_500 })]);
    expect(back.tunnels.map((t) => t.id)).toEqual(['192.0.2.10_198.51.100.20_esp']);
  });

  test('a record claiming a time far past its reception does not move the clock', () => {
    const n = createNormalizer(parseNormalizeConfig({ saIdleSeconds: 60 }));
    n.process([makeRecord()]);
    n.process([
      makeRecord({
        src: '192.0.2.30',
        dst: '192.0.2.31',
        startMs: t0 + 86_400_000,
        endMs: t0 + 86_400_000,
        receivedMs: t0 + 60_000,
      }),
    ]);
    expect(n.snapshot().clockMs).toBe(t0 + 59_999);
    expect(n.securityAssociations().find((s) => s.src === '192.0.2.10')?.endedMs).toBeNull();
  });
});

describe('IKE and NAT-T', () => {
  test.each(exporterNames)(
    '%s, c_natt_v4: IKE on 500 from a NAT port arriving first still makes one ESP-in-UDP tunnel',
    (exporter) => {
      const flows = flowsFor('c_natt_v4', exporter);
      const ike = flows.filter((f) => f.srcPort === 500 || f.dstPort === 500);
      const rest = flows.filter((f) => !ike.includes(f));
      const run = runNormalizer([ike, rest]);
      expect([...run.tunnels.keys()]).toEqual(['198.51.100.33_203.0.113.9_esp-in-udp']);
    },
  );

  test('IKE 500↔500 with no ESP makes an ESP tunnel (negotiating), joined by later ESP', () => {
    const ike = (src: string, dst: string) =>
      makeRecord({ proto: 17, srcPort: 500, dstPort: 500, src, dst, packets: 2, octets: 600 });
    const run = runNormalizer([
      [ike('192.0.2.51', '198.51.100.61'), ike('198.51.100.61', '192.0.2.51')],
      [makeRecord({ src: '192.0.2.51', dst: '198.51.100.61', startMs: t0 + 60_000, endMs: t0 + 119_999 })],
    ]);
    expect([...run.tunnels.keys()]).toEqual(['192.0.2.51_198.51.100.61_esp']);
    const { buckets } = run.view('192.0.2.51_198.51.100.61_esp', t0, t0 + 120_000);
    expect(buckets.map((b) => b.state)).toEqual(['negotiating', 'one-way']);
  });
});

describe('ICMP frag-needed', () => {
  const hub = '192.0.2.1';
  const esp = (peer: string, startMs: number, endMs: number): FlowRecord =>
    makeRecord({ src: hub, dst: peer, startMs, endMs });
  const frag = (src: string, dst: string): FlowRecord =>
    makeRecord({
      proto: 1,
      src,
      dst,
      srcPort: 0,
      dstPort: 0,
      icmpType: 3,
      icmpCode: 4,
      packets: 4,
      octets: 224,
      startMs: t0 + 50_000,
      endMs: t0 + 51_000,
    });

  test.each([
    ['from the far peer: that pair', frag('198.51.100.12', hub), '192.0.2.1_198.51.100.12_esp', 'a-b'],
    [
      'from a router to the hub: the tunnel with the latest ESP',
      frag('192.0.2.254', hub),
      '192.0.2.1_198.51.100.12_esp',
      'a-b',
    ],
    [
      'to a spoke from its own router',
      frag('198.51.100.1', '198.51.100.11'),
      '192.0.2.1_198.51.100.11_esp',
      'b-a',
    ],
    [
      'from a peer (the tunnel MTU is smaller) to an inside host',
      frag('198.51.100.11', '10.0.0.5'),
      '192.0.2.1_198.51.100.11_esp',
      'b-a',
    ],
    ['between strangers: unattributed', frag('203.0.113.1', '203.0.113.2'), null, null],
  ] as const)('%s', (_name, icmp, tunnel, direction) => {
    const run = runNormalizer([
      [esp('198.51.100.11', t0, t0 + 40_000), esp('198.51.100.12', t0, t0 + 45_000), icmp],
    ]);
    const flow = run.flows[2];
    expect(flow?.kind).toBe('icmp-frag-needed');
    expect([flow?.tunnelId, flow?.tunnelDirection]).toEqual([tunnel, direction]);
    expect(run.normalizer.counters().icmpFragNeededUnattributed).toBe(tunnel === null ? 1 : 0);
    if (tunnel !== null) {
      const { summary } = run.view(tunnel, t0, t0 + 60_000);
      expect(summary.icmpFragNeeded).toBe(4);
      expect(summary.flags).toEqual(['mtu-blackhole-risk']);
    }
  });
});

describe('cleartext leaks', () => {
  const a = '198.51.100.70';
  const b = '203.0.113.70';
  const tunnel = `${a}_${b}_esp`;
  const espAB = makeRecord({ src: a, dst: b });
  const ping = makeRecord({ proto: 1, src: a, dst: b, icmpType: 8, icmpCode: 0, packets: 5, octets: 420 });
  const subnetHttp = makeRecord({
    proto: 6,
    src: '10.42.0.80',
    dst: '10.41.0.23',
    srcPort: 80,
    dstPort: 51544,
    packets: 8,
    octets: 7680,
  });
  const config = {
    tunnels: [
      { name: 'g', peerA: a, peerB: b, protectedSubnets: { a: ['10.41.0.0/24'], b: ['10.42.0.0/24'] } },
    ],
  };

  test('in the same batch as the tunnel ESP, even listed before it', () => {
    const run = runNormalizer([[ping, espAB]]);
    expect(run.flows[0]).toMatchObject({ kind: 'cleartext-leak', tunnelId: tunnel, tunnelDirection: 'a-b' });
  });

  test('before anything of its tunnel (an earlier batch): not recognised (the documented order limit)', () => {
    const run = runNormalizer([[ping], [espAB]]);
    expect(run.flows[0]).toMatchObject({ kind: 'other', tunnelId: null });
  });

  test('between configured protected subnets, whatever the order', () => {
    const run = runNormalizer([[subnetHttp], [espAB]], config);
    expect(run.flows[0]).toMatchObject({ kind: 'cleartext-leak', tunnelId: tunnel, tunnelDirection: 'b-a' });
    expect(run.tunnels.get(tunnel)?.name).toBe('g');
    const { summary } = run.view(tunnel, t0, t0 + 60_000);
    expect(summary.flags).toEqual(['leaking']);
    expect(summary.leakPackets).toBe(8);
  });

  test('ICMP errors between the gateways are control traffic, not leaks', () => {
    const unreachable = makeRecord({ proto: 1, src: b, dst: a, icmpType: 3, icmpCode: 3 });
    const run = runNormalizer([[espAB, unreachable]]);
    expect(run.flows[1]?.kind).toBe('other');
  });

  test('IKE and ESP between the peers are not leaks; inside one subnet is not a leak', () => {
    const inside = makeRecord({ proto: 6, src: '10.41.0.5', dst: '10.41.0.6', srcPort: 1, dstPort: 2 });
    const ike = makeRecord({ proto: 17, src: a, dst: b, srcPort: 500, dstPort: 500 });
    const run = runNormalizer([[espAB, ike, inside]], config);
    expect(run.flows.map((f) => f.kind)).toEqual(['esp', 'ike', 'other']);
  });
});

describe('IPv6 and fragments', () => {
  test('an IPv6 ESP tunnel orders its peers numerically', () => {
    const run = runNormalizer([
      [makeRecord({ ipVersion: 6, src: '2001:db8:0:5::1', dst: '2001:db8:0:1::1' })],
    ]);
    expect(run.tunnels.get('2001:db8:0:1::1_2001:db8:0:5::1_esp')).toMatchObject({
      ipVersion: 6,
      peerA: '2001:db8:0:1::1',
    });
    expect(run.flows[0]?.tunnelDirection).toBe('b-a');
  });

  test('fragment flows count as packets and fragments, and raise the fragmenting flag', () => {
    const run = runNormalizer([
      [
        makeRecord({ packets: 100 }),
        makeRecord({ packets: 30, octets: 3000, fragmentOffset: 185 }),
        makeRecord({ src: '198.51.100.20', dst: '192.0.2.10', packets: 90 }),
      ],
    ]);
    expect(run.flows.map((f) => [f.kind, f.saId])).toEqual([
      ['esp', '192.0.2.10_198.51.100.20_nospi_g0'],
      ['esp-fragment', '192.0.2.10_198.51.100.20_nospi_g0'],
      ['esp', '198.51.100.20_192.0.2.10_nospi_g0'],
    ]);
    const { summary } = run.view('192.0.2.10_198.51.100.20_esp', t0, t0 + 60_000);
    expect(summary.aToB.packets).toBe(130);
    expect(summary.fragments).toBe(30);
    expect(summary.flags).toEqual(['fragmenting']);
    expect(summary.state).toBe('up');
  });
});

describe('fragments metered as flows of their own (softflowd)', () => {
  const a = '198.51.100.77';
  const b = '203.0.113.77';
  const natt = (src: string, dst: string, sp: number, dp: number, packets = 60) =>
    makeRecord({ proto: 17, src, dst, srcPort: sp, dstPort: dp, packets, octets: packets * 150 });
  const bare = (src: string, dst: string, extra: Partial<FlowRecord> = {}) =>
    makeRecord({ proto: 17, src, dst, srcPort: 0, dstPort: 0, packets: 40, octets: 4000, ...extra });

  test.each([
    ['listed after the 4500 flows', false],
    ['listed before them (same datagram)', true],
  ])(
    'IPv4 UDP 0/0 beside NAT-T, %s: esp-fragment of the tunnel, counted, fragmenting, no leak',
    (_n, first) => {
      const records = [natt(a, b, 36501, 4500), natt(b, a, 4500, 36501), bare(b, a)];
      const run = runNormalizer([first ? [records[2]!, records[0]!, records[1]!] : records]);
      const frag = run.flows.find((f) => f.srcPort === 0);
      expect(frag).toMatchObject({
        kind: 'esp-fragment',
        tunnelId: `${a}_${b}_esp-in-udp`,
        tunnelDirection: 'b-a',
        saId: `${b}_${a}_nospi_g0`,
      });
      const { summary } = run.view(`${a}_${b}_esp-in-udp`, t0, t0 + 60_000);
      expect([summary.bToA.packets, summary.bToA.octets]).toEqual([100, 9000 + 4000]);
      expect(summary.fragments).toBe(40);
      expect(summary.flags).toEqual(['fragmenting']);
      expect(summary.leakPackets).toBe(0);
    },
  );

  test('IPv4 UDP 0/0 between the peers of a plain ESP tunnel stays a leak (ESP fragments keep protocol 50)', () => {
    const run = runNormalizer([[makeRecord(), bare('192.0.2.10', '198.51.100.20')]]);
    expect(run.flows.map((f) => f.kind)).toEqual(['esp', 'cleartext-leak']);
  });

  test.each([44, 0])(
    'IPv6 protocol %i between ESP peers: esp-fragment; between strangers: other',
    (proto) => {
      const v6 = { ipVersion: 6 as const, src: '2001:db8:20::1', dst: '2001:db8:10::1' };
      const run = runNormalizer([
        [
          makeRecord(v6),
          makeRecord({ ...v6, proto, packets: 20, octets: 4000 }),
          makeRecord({ ...v6, proto, src: '2001:db8:99::1', packets: 5, octets: 500 }),
        ],
      ]);
      expect(run.flows.map((f) => f.kind)).toEqual(['esp', 'esp-fragment', 'other']);
      const { summary } = run.view('2001:db8:10::1_2001:db8:20::1_esp', t0, t0 + 60_000);
      expect(summary.bToA.packets).toBe(120);
      expect(summary.fragments).toBe(20);
    },
  );

  test('UDP 0/0 between two hosts without a tunnel is other', () => {
    const run = runNormalizer([[bare('192.0.2.99', '198.51.100.99')]]);
    expect(run.flows.map((f) => [f.kind, f.tunnelId])).toEqual([['other', null]]);
  });
});

describe('UDP 4500 without ESP', () => {
  const a = '198.51.100.88';
  const b = '203.0.113.88';
  const ike = (src: string, dst: string, sp: number, dp: number, packets: number, spanMs: number) =>
    makeRecord({
      proto: 17,
      src,
      dst,
      srcPort: sp,
      dstPort: dp,
      packets,
      octets: packets * 300,
      endMs: t0 + spanMs,
    });

  test('IKE_AUTH retried on 4500 (sparse 4500 flows both ways) is negotiating, with no SA', () => {
    const run = runNormalizer([
      [
        ike(a, b, 36800, 500, 2, 30_030),
        ike(b, a, 500, 36800, 2, 30_030),
        ike(a, b, 36801, 4500, 3, 34_030),
        ike(b, a, 4500, 36801, 2, 34_030),
      ],
    ]);
    expect(run.flows.map((f) => f.kind)).toEqual(['ike', 'ike', 'ike', 'ike']);
    expect([...run.tunnels.keys()]).toEqual([`${a}_${b}_esp-in-udp`]);
    expect(run.sas.size).toBe(0);
    const { summary } = run.view(`${a}_${b}_esp-in-udp`, t0, t0 + 60_000);
    expect(summary.state).toBe('negotiating');
    expect(summary.ikePackets).toBe(9);
    expect([summary.aToB.packets, summary.bToA.packets]).toEqual([0, 0]);
  });

  test("a probe's SPI-0 record on 4500 is IKE even when dense", () => {
    const run = runNormalizer([[{ ...ike(a, b, 36801, 4500, 50, 10_000), spi: 0 }]]);
    expect(run.flows[0]?.kind).toBe('ike');
  });
});

describe('one object per record', () => {
  const produced = (overrides: Partial<FlowRecord>): ProducedFlow => ({
    ...makeRecord(overrides),
    kind: null,
    tunnelId: null,
    saId: null,
    tunnelDirection: null,
    validatedLoss: null,
    lossClearedReason: null,
  });

  test("a producer's record is filled in place; normalized again, it is copied and the first result stays", () => {
    const records = [
      produced({ spi: 7, reportedLoss: 3 }),
      produced({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, srcPort: 1024, dstPort: 443 }),
    ];
    const first = createNormalizer(parseNormalizeConfig({})).normalize(records);
    expect(first[0]).toBe(records[0]);
    expect(first[1]).toBe(records[1]);
    expect(first.map((f) => [f.kind, f.tunnelDirection, f.validatedLoss])).toEqual([
      ['esp', 'a-b', 3],
      ['other', null, null],
    ]);
    const before = JSON.stringify(first);
    // A second normalizer, told that the ESP flow's loss is impossible, sees the same objects.
    const strict = createNormalizer(parseNormalizeConfig({ loss: { ceilingRatio: 0.01 } }));
    const second = strict.normalize(records);
    expect(second[0]).not.toBe(records[0]);
    expect(second[0]).toMatchObject({
      kind: 'esp',
      spi: 7,
      validatedLoss: null,
      lossClearedReason: 'exceeds-ceiling',
    });
    expect(JSON.stringify(first)).toBe(before);
  });
});

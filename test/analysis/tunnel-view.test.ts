import { describe, expect, test } from 'vitest';
import { healthFlags, healthState } from '../../analysis/health.js';
import type { HealthEvidence } from '../../analysis/health.js';
import { placeObservationPoints } from '../../analysis/observation-points.js';
import { emptyBucketCounts } from '../../model/tunnel-bucket.js';
import type { TunnelBucket, TunnelBucketCounts } from '../../model/tunnel-bucket.js';
import { bucketDeltaToRow, rowToBucket } from '../../store/tunnels/tunnel-bucket.table.js';
import { rowToSa, saToRow } from '../../store/tunnels/sa.table.js';
import { rowToTunnel, tunnelToRow } from '../../store/tunnels/tunnel.table.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import { viewTunnel } from '../../analysis/tunnel-view.js';
import type { TunnelDirection } from '../../model/flow.js';

const none: HealthEvidence = {
  espAToB: 0,
  espBToA: 0,
  ikeAToB: 0,
  ikeBToA: 0,
  fragments: 0,
  icmpFragNeeded: 0,
  leakPackets: 0,
};

describe('health', () => {
  test.each([
    ['ESP both ways', { espAToB: 5, espBToA: 3 }, 'up'],
    ['ESP both ways, IKE one way', { espAToB: 5, espBToA: 3, ikeAToB: 2 }, 'up'],
    ['ESP A→B only (f_broken t3)', { espAToB: 290, ikeAToB: 10, ikeBToA: 10 }, 'one-way'],
    ['ESP B→A only', { espBToA: 1 }, 'one-way'],
    ['IKE both ways, no ESP (f_broken t2)', { ikeAToB: 20, ikeBToA: 20 }, 'negotiating'],
    ['IKE from one peer (f_broken t1)', { ikeAToB: 17 }, 'ike-one-sided'],
    ['nothing', {}, 'idle'],
    ['only a leak', { leakPackets: 5 }, 'idle'],
  ] as const)('%s → %s', (_name, evidence, state) => {
    expect(healthState({ ...none, ...evidence })).toBe(state);
  });

  test('flags in a fixed order', () => {
    expect(healthFlags({ ...none, fragments: 1, icmpFragNeeded: 1, leakPackets: 1 })).toEqual([
      'fragmenting',
      'mtu-blackhole-risk',
      'leaking',
    ]);
    expect(healthFlags(none)).toEqual([]);
  });
});

describe('observation point placement', () => {
  test.each([
    ['exporter is peer A', [], '192.0.2.140', 0, 'a', 'inferred'],
    ['exporter is peer B', [], '198.51.100.150', 0, 'b', 'inferred'],
    ['unknown exporter', [], '127.0.0.1', 0, null, 'unknown'],
    [
      'configured for every domain',
      [{ exporter: '127.0.0.1', near: '198.51.100.150' }],
      '127.0.0.1',
      17,
      'b',
      'config',
    ],
    [
      'configured for another domain',
      [{ exporter: '127.0.0.1', domain: 7, near: '198.51.100.150' }],
      '127.0.0.1',
      17,
      null,
      'unknown',
    ],
    [
      'a domain entry wins over the exporter-wide one',
      [
        { exporter: '127.0.0.1', near: '198.51.100.150' },
        { exporter: '127.0.0.1', domain: 7, near: '192.0.2.140' },
      ],
      '127.0.0.1',
      7,
      'a',
      'config',
    ],
    [
      'configured near another tunnel’s peer',
      [{ exporter: '192.0.2.140', near: '203.0.113.1' }],
      '192.0.2.140',
      0,
      null,
      'config',
    ],
  ] as const)('%s', (_name, config, exporter, domainId, near, placedBy) => {
    expect(placeObservationPoints('192.0.2.140', '198.51.100.150', [{ exporter, domainId }], config)).toEqual(
      [{ exporter, domainId, near, placedBy }],
    );
  });
});

const t0 = 1_710_234_000_000;
const minute = 60_000;
const tunnel: Tunnel = {
  id: '192.0.2.10_198.51.100.20_esp',
  name: 'x',
  peerA: '192.0.2.10',
  peerB: '198.51.100.20',
  encapsulation: 'esp',
  ipVersion: 4,
  firstSeenMs: t0,
  lastSeenMs: t0 + 5 * minute,
};

function row(
  minuteIndex: number,
  direction: TunnelDirection,
  exporter: string,
  counts: Partial<TunnelBucketCounts>,
): TunnelBucket {
  return {
    tunnelId: tunnel.id,
    bucketStartMs: t0 + minuteIndex * minute,
    direction,
    exporter,
    domainId: 0,
    ...emptyBucketCounts(),
    ...counts,
  };
}

const options = {
  fromMs: t0,
  toMs: t0 + 5 * minute,
  bucketMs: minute,
  observationPoints: [],
  ceilingRatio: 0.5,
};

describe('viewTunnel', () => {
  test('reported loss wins over two-point; the point near the receiver gives it', () => {
    const rows = [
      row(0, 'a-b', '192.0.2.10', { packets: 100, espPackets: 100, reportedLost: 0, reportedPackets: 100 }),
      row(0, 'a-b', '198.51.100.20', { packets: 90, espPackets: 90, reportedLost: 10, reportedPackets: 90 }),
    ];
    const { summary, buckets } = viewTunnel(tunnel, [], rows, options);
    expect(summary.aToB).toMatchObject({
      packets: 100,
      lost: 10,
      lossSource: 'reported',
      lossRatio: 0.1,
      observedBy: { exporter: '192.0.2.10' },
    });
    expect(buckets[0]?.aToB.lossSource).toBe('reported');
    expect(summary.state).toBe('one-way');
  });

  test('counts seen by two points are not doubled; the larger is shown', () => {
    const rows = [
      row(0, 'a-b', '192.0.2.10', { packets: 100, ikePackets: 2, icmpFragNeeded: 4 }),
      row(0, 'a-b', '198.51.100.20', { packets: 98, ikePackets: 2 }),
      row(0, 'b-a', '198.51.100.20', { packets: 50, ikePackets: 2, leakPackets: 3 }),
      row(0, 'b-a', '192.0.2.10', { packets: 50, ikePackets: 1, leakPackets: 3 }),
    ];
    const { summary } = viewTunnel(tunnel, [], rows, options);
    expect([summary.ikePackets, summary.icmpFragNeeded, summary.leakPackets]).toEqual([4, 4, 3]);
    expect(summary.flags).toEqual(['mtu-blackhole-risk', 'leaking']);
    expect(summary.aToB.lost).toBe(2);
    expect(summary.bToA.lost).toBe(0);
  });

  test('without placement the busiest point is shown and two-point is impossible', () => {
    const rows = [row(0, 'a-b', '127.0.0.1', { packets: 10 }), row(0, 'a-b', '127.0.0.2', { packets: 12 })];
    const { summary } = viewTunnel(tunnel, [], rows, options);
    expect(summary.aToB).toMatchObject({
      packets: 12,
      lost: null,
      lossSource: null,
      observedBy: { exporter: '127.0.0.2' },
    });
  });

  test('a negative two-point figure is cleared and counted, not shown', () => {
    const rows = [
      row(1, 'a-b', '192.0.2.10', { packets: 100 }),
      row(1, 'a-b', '198.51.100.20', { packets: 101 }),
    ];
    const { summary, buckets } = viewTunnel(tunnel, [], rows, options);
    expect(summary.aToB.lost).toBeNull();
    expect(summary.aToB.bogusCleared.negative).toBe(1);
    expect(buckets[0]?.aToB).toMatchObject({ lost: null, lossSource: null });
    expect(buckets[0]?.aToB.bogusCleared.negative).toBe(1);
  });

  test('steps sum buckets; a record crossing inside a step does not split the step', () => {
    const rows = [
      row(0, 'a-b', '192.0.2.10', { packets: 60, flows: 1 }),
      row(1, 'a-b', '192.0.2.10', { packets: 60, carriedIn: 1 }),
      row(0, 'a-b', '198.51.100.20', { packets: 58, flows: 1 }),
      row(1, 'a-b', '198.51.100.20', { packets: 59, carriedIn: 1 }),
      row(2, 'a-b', '192.0.2.10', { packets: 10, flows: 1 }),
      row(2, 'a-b', '198.51.100.20', { packets: 10, flows: 1 }),
    ];
    const perMinute = viewTunnel(tunnel, [], rows, options);
    expect(perMinute.buckets.map((b) => [b.aToB.lost, b.aToB.lossSpan?.lost ?? null])).toEqual([
      [null, 3],
      [null, 3],
      [0, null],
    ]);
    const twoMinutes = viewTunnel(tunnel, [], rows, { ...options, stepMs: 2 * minute });
    expect(twoMinutes.buckets.map((b) => [b.start, b.aToB.packets, b.aToB.lost, b.aToB.lossSource])).toEqual([
      [t0, 120, 3, 'two-point'],
      [t0 + 2 * minute, 10, 0, 'two-point'],
    ]);
    expect(() => viewTunnel(tunnel, [], rows, { ...options, stepMs: 90_000 })).toThrow(RangeError);
  });

  test('only SAs alive in the window are listed, oldest first', () => {
    const sa = (
      id: string,
      first: number,
      last: number,
      direction: TunnelDirection = 'a-b',
    ): SecurityAssociation => ({
      id,
      tunnelId: tunnel.id,
      direction,
      src: '192.0.2.10',
      dst: '198.51.100.20',
      spi: null,
      generation: 0,
      firstSeenMs: first,
      lastSeenMs: last,
      endedMs: null,
      endReason: null,
      pairedSaId: null,
    });
    const sas = [
      sa('late', t0 + 4 * minute, t0 + 9 * minute),
      sa('before', t0 - 9 * minute, t0 - 1),
      sa('early', t0 - minute, t0 + 1),
    ];
    const { summary } = viewTunnel(tunnel, sas, [], options);
    expect(summary.sas.map((s) => s.id)).toEqual(['early', 'late']);
    expect(summary.state).toBe('idle');
  });
});

describe('row mapping', () => {
  test('domain ↔ row round trips', () => {
    const bucket = row(3, 'b-a', '192.0.2.10', {
      packets: 7,
      octets: 700,
      cleared: { ...emptyBucketCounts().cleared, 'sa-change': 2 },
      carriedIn: 1,
    });
    expect(rowToBucket(bucketDeltaToRow(bucket, 0) as Parameters<typeof rowToBucket>[0])).toEqual(bucket);
    expect(rowToTunnel(tunnelToRow(tunnel) as Parameters<typeof rowToTunnel>[0])).toEqual(tunnel);
    const sa: SecurityAssociation = {
      id: 'i',
      tunnelId: tunnel.id,
      direction: 'a-b',
      src: '192.0.2.10',
      dst: '198.51.100.20',
      spi: 0xc3a1f2d4,
      generation: 1,
      firstSeenMs: 1,
      lastSeenMs: 2,
      endedMs: 2,
      endReason: 'rekey',
      pairedSaId: 'j',
    };
    expect(rowToSa(saToRow(sa) as Parameters<typeof rowToSa>[0])).toEqual(sa);
  });
});

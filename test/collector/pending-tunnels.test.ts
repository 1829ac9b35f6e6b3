// PendingTunnels between two flushes: the latest version of each tunnel and SA with the
// widest first/last seen, bucket deltas added up by key, and the caller's objects untouched.

import { describe, expect, test } from 'vitest';
import { PendingTunnels } from '../../collector/pending-tunnels.js';
import { newBucketDelta } from '../../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';

const T0 = 1_710_234_000_000;

const tunnel = (firstSeenMs: number, lastSeenMs: number, name: string | null = null): Tunnel => ({
  id: 'a_b_esp',
  name,
  peerA: '192.0.2.10',
  peerB: '198.51.100.20',
  encapsulation: 'esp',
  ipVersion: 4,
  firstSeenMs,
  lastSeenMs,
});

const sa = (firstSeenMs: number, lastSeenMs: number, pairedSaId: string | null): SecurityAssociation => ({
  id: 'sa1',
  tunnelId: 'a_b_esp',
  direction: 'a-b',
  src: '192.0.2.10',
  dst: '198.51.100.20',
  spi: 0xfffffff0,
  generation: 0,
  firstSeenMs,
  lastSeenMs,
  endedMs: null,
  endReason: null,
  pairedSaId,
});

describe('PendingTunnels', () => {
  test('the latest version of a tunnel and an SA, with the widest first/last seen; inputs untouched', () => {
    const pending = new PendingTunnels();
    const inputs = {
      t: [tunnel(T0 + 5, T0 + 10), tunnel(T0, T0 + 8, 'lab'), tunnel(T0 + 6, T0 + 20, 'lab')],
      s: [sa(T0 + 5, T0 + 10, null), sa(T0 + 2, T0 + 9, 'sa2'), sa(T0 + 7, T0 + 30, 'sa3')],
    };
    const copies = JSON.parse(JSON.stringify(inputs)) as typeof inputs;
    for (let i = 0; i < 3; i++) pending.add({ tunnels: [inputs.t[i]!], sas: [inputs.s[i]!], buckets: [] });
    const taken = pending.take();
    expect(taken.tunnels).toEqual([tunnel(T0, T0 + 20, 'lab')]);
    expect(taken.sas).toEqual([sa(T0 + 2, T0 + 30, 'sa3')]);
    expect(inputs).toEqual(copies);
    // The next flush starts afresh, and what was taken no longer changes.
    pending.add({ tunnels: [tunnel(T0 + 40, T0 + 50)], sas: [], buckets: [] });
    expect(pending.take()).toEqual({ tunnels: [tunnel(T0 + 40, T0 + 50)], sas: [], tunnelBuckets: [] });
    expect(taken.tunnels).toEqual([tunnel(T0, T0 + 20, 'lab')]);
  });

  test('bucket deltas with the same key add up; other keys stay apart', () => {
    const pending = new PendingTunnels();
    const delta = (bucketStartMs: number, packets: number) => {
      const d = newBucketDelta('a_b_esp', bucketStartMs, 'a-b', '192.0.2.254', 0);
      d.packets = packets;
      d.flows = 1;
      return d;
    };
    pending.add({ tunnels: [], sas: [], buckets: [delta(T0, 10), delta(T0 + 60_000, 5)] });
    pending.add({ tunnels: [], sas: [], buckets: [delta(T0, 7)] });
    expect(pending.take().tunnelBuckets.map((d) => [d.bucketStartMs, d.packets, d.flows])).toEqual([
      [T0, 17, 2],
      [T0 + 60_000, 5, 1],
    ]);
  });
});

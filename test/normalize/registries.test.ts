// The tunnel and SA registries on their own, without process(): creation and lookup,
// generations after an idle gap, rekeys (in and out of order), pairing, history trimming and
// eviction.

import { describe, expect, test } from 'vitest';
import { BatchState } from '../../collector/normalize/batch-state.js';
import { SaRegistry } from '../../collector/normalize/sa-registry.js';
import { TunnelRegistry, directionOf } from '../../collector/normalize/tunnel-registry.js';
import { canonicalIpv4 } from '../../model/address-parse.js';
import { makeRecord } from './make-record.js';

const A = '192.0.2.10';
const B = '198.51.100.20';
const T0 = 1_710_234_000_000;
const MIN = 60_000;

function setup(saHistory = 8) {
  const batch = new BatchState();
  const tunnels = new TunnelRegistry(new Map([[`${A}|${B}`, 'lab']]), batch);
  const sas = new SaRegistry({ saHistory, saIdleMs: 10 * MIN }, batch);
  const t = tunnels.create(B, A, 'esp', T0, T0 + MIN);
  return { batch, tunnels, sas, t };
}

/** An ESP record from→to with this SPI over [start, start + 1 min). */
const esp = (src: string, dst: string, spi: number | null, startMs: number) =>
  makeRecord({ src, dst, spi, startMs, endMs: startMs + MIN - 1 });

describe('tunnel registry', () => {
  test('peers in address order, the configured name, found from either side, by encapsulation', () => {
    const { tunnels, t, batch } = setup();
    expect([t.peerA, t.peerB, t.name, t.id]).toEqual([A, B, 'lab', `${A}_${B}_esp`]);
    expect(tunnels.find(A, B, 'esp')).toBe(t);
    expect(tunnels.find(B, A, 'esp')).toBe(t);
    expect(tunnels.find(A, B, 'esp-in-udp')).toBeUndefined();
    expect(tunnels.find(A, '203.0.113.1', 'esp')).toBeUndefined();
    expect([directionOf(t, A), directionOf(t, B)]).toEqual(['a-b', 'b-a']);
    expect(batch.counters.tunnelsCreated).toBe(1);
    expect(batch.takeChanges().tunnels.map((x) => x.id)).toEqual([t.id]);
  });

  test('the latest of two encapsulations; eviction unindexes', () => {
    const { tunnels, t } = setup();
    const natt = tunnels.create(A, B, 'esp-in-udp', T0, T0 + 5 * MIN);
    expect(tunnels.latestBetween(B, A)).toBe(natt);
    tunnels.touch(t, T0, T0 + 9 * MIN);
    expect(tunnels.latestBetween(A, B)).toBe(t);
    tunnels.evict(natt);
    expect(tunnels.find(A, B, 'esp-in-udp')).toBeUndefined();
    expect(tunnels.ofPeer(A)).toEqual([t.id]);
    tunnels.evict(t);
    expect(tunnels.ofPeer(A)).toBeUndefined();
    expect(tunnels.size).toBe(0);
  });

  test('the pair index: both orders while a tunnel is there, no entry left once the last one goes', () => {
    const { tunnels, t } = setup();
    const C = '203.0.113.7';
    const other = tunnels.create(A, C, 'esp', T0, T0 + MIN);
    const natt = tunnels.create(A, B, 'esp-in-udp', T0, T0 + MIN);
    expect(tunnels.pairIndexEntries).toBe(7);
    tunnels.evict(t);
    expect([tunnels.pairIndexEntries, tunnels.find(B, A, 'esp-in-udp')]).toEqual([7, natt]);
    tunnels.evict(natt);
    expect([tunnels.pairIndexEntries, tunnels.find(A, B, 'esp-in-udp'), tunnels.latestBetween(A, B)]).toEqual(
      [4, undefined, undefined],
    );
    expect(tunnels.find(C, A, 'esp')).toBe(other);
    tunnels.evict(other);
    expect(tunnels.pairIndexEntries).toBe(0);
    // A tunnel between the same peers again is found from both sides.
    const again = tunnels.create(A, B, 'esp', T0, T0 + MIN);
    expect([tunnels.find(A, B, 'esp'), tunnels.find(B, A, 'esp'), tunnels.pairIndexEntries]).toEqual([
      again,
      again,
      4,
    ]);
  });

  test('thousands of tunnels: each pair finds its own, an evicted one is found no more, its successor is', () => {
    const { tunnels } = setup();
    const made = new Map<string, ReturnType<typeof tunnels.create>>();
    for (let i = 0; i < 3000; i++) {
      const peer = `198.${51 + (i >> 12)}.${(i >> 4) & 255}.${i & 15}`;
      made.set(peer, tunnels.create(A, peer, i % 3 === 0 ? 'esp-in-udp' : 'esp', T0, T0 + MIN));
    }
    // Round 0 without the addresses' numbers (the texts are parsed), round 1 with them (as
    // a producer's records carry them): the peer filter must agree.
    for (let round = 0; round < 2; round++) {
      for (const [peer, t] of made) {
        const [p4, a4] = round === 0 ? [undefined, undefined] : [canonicalIpv4(peer), canonicalIpv4(A)];
        expect(tunnels.find(peer, A, t.encapsulation, p4, a4)).toBe(t);
        expect(tunnels.latestBetween(A, peer, a4, p4)).toBe(t);
        const other = t.encapsulation === 'esp' ? 'esp-in-udp' : 'esp';
        expect(tunnels.find(A, peer, other, a4, p4)).toBeUndefined();
      }
    }
    expect(tunnels.latestBetween('10.1.2.3', A, 0x0a010203, canonicalIpv4(A))).toBeUndefined();
    // Hosts that are no peer, and a peer with a host.
    expect(tunnels.latestBetween('10.1.2.3', '10.3.2.1')).toBeUndefined();
    expect(tunnels.find('10.1.2.3', A, 'esp')).toBeUndefined();
    const [peer, t] = [...made][7]!;
    tunnels.evict(t);
    expect(tunnels.find(A, peer, t.encapsulation)).toBeUndefined();
    expect(tunnels.latestBetween(peer, A)).toBeUndefined();
    const again = tunnels.create(peer, A, t.encapsulation, T0, T0 + MIN);
    expect(again).not.toBe(t);
    expect(tunnels.find(A, peer, t.encapsulation)).toBe(again);
  });

  test('a restored tunnel is the one found (its copy, not the snapshot object)', () => {
    const { tunnels, t } = setup();
    const snapshot = JSON.parse(JSON.stringify(t)) as typeof t;
    const fresh = new TunnelRegistry(new Map(), new BatchState());
    fresh.restore(snapshot);
    const found = fresh.find(B, A, 'esp');
    expect(found).toEqual(t);
    expect(found).toBe(fresh.get(t.id));
    expect(found).not.toBe(snapshot);
    expect(tunnels.find(A, B, 'esp')).toBe(t);
  });
});

describe('SA registry', () => {
  test.each([
    // [what, SPI of the second record, its start offset, expected generations and ids]
    ['the same SA seen again within the idle time', 0x100, 5 * MIN, 1],
    ['the same key after more than the idle time: a new generation', 0x100, 30 * MIN, 2],
    ['a new SPI: a second SA', 0x200, 5 * MIN, 2],
  ])('%s', (_what, spi, offset, count) => {
    const { sas, t } = setup();
    const first = sas.saFor(esp(A, B, 0x100, T0), t, 'a-b');
    const second = sas.saFor(esp(A, B, spi, T0 + offset), t, 'a-b');
    expect(new Set([first.id, second.id]).size).toBe(count);
    if (count === 2 && spi === 0x100) {
      expect([first.endReason, second.generation]).toEqual(['idle', 1]);
      expect(second.id).toMatch(/_g1$/);
    }
  });

  test.each([
    ['in order', [0x100, 0x200], [T0, T0 + 5 * MIN]],
    ['out of order (the successor arrives first)', [0x200, 0x100], [T0 + 5 * MIN, T0]],
  ])('a rekey %s: the older SPI ends when the newer first appears', (_what, spis, starts) => {
    const { sas, t, batch } = setup();
    const made = spis.map((spi, i) => sas.saFor(esp(A, B, spi, starts[i]!), t, 'a-b'));
    const older = made.find((s) => s.spi === 0x100)!;
    const newer = made.find((s) => s.spi === 0x200)!;
    expect([older.endedMs, older.endReason]).toEqual([T0 + 5 * MIN, 'rekey']);
    expect([newer.endedMs, newer.endReason]).toEqual([null, null]);
    expect(batch.counters.rekeys).toBe(1);
    expect(sas.changedDuring(t, 'a-b', null, T0, T0 + 10 * MIN)).toBe(true);
    expect(sas.changedDuring(t, 'a-b', newer, T0 + 5 * MIN, T0 + 10 * MIN)).toBe(false);
  });

  test('pairing: each direction with the other direction nearest in first appearance; re-paired after a rekey', () => {
    const { sas, t, batch } = setup();
    const ab1 = sas.saFor(esp(A, B, 0x100, T0), t, 'a-b');
    const ba1 = sas.saFor(esp(B, A, 0x900, T0 + 1_000), t, 'b-a');
    sas.updatePairing(t);
    expect([ab1.pairedSaId, ba1.pairedSaId]).toEqual([ba1.id, ab1.id]);
    const ab2 = sas.saFor(esp(A, B, 0x101, T0 + 60 * MIN), t, 'a-b');
    const ba2 = sas.saFor(esp(B, A, 0x901, T0 + 60 * MIN + 2_000), t, 'b-a');
    sas.updatePairing(t);
    expect([ab2.pairedSaId, ba2.pairedSaId]).toEqual([ba2.id, ab2.id]);
    expect(ab1.pairedSaId).toBe(ba1.id);
    expect(batch.counters.saPairsFormed).toBe(2);
  });

  test('a one-way tunnel is not re-paired for every record; the first SA the other way pairs it', () => {
    const { sas, t, batch } = setup();
    const ab = sas.saFor(esp(A, B, null, T0), t, 'a-b');
    batch.pairingDirty.clear();
    sas.saFor(esp(A, B, null, T0 + MIN), t, 'a-b');
    expect([...batch.pairingDirty]).toEqual([]);
    // The other direction appears, its lifetime not yet overlapping: marked, and unpaired.
    const ba = sas.saFor(esp(B, A, null, T0 + 5 * MIN), t, 'b-a');
    expect([...batch.pairingDirty]).toEqual([t.id]);
    sas.updatePairing(t);
    batch.pairingDirty.clear();
    expect(ab.pairedSaId).toBeNull();
    // A→B grows into B→A's lifetime: still unpaired, and with an SA the other way, marked.
    sas.saFor(esp(A, B, null, T0 + 5 * MIN), t, 'a-b');
    expect([...batch.pairingDirty]).toEqual([t.id]);
    sas.updatePairing(t);
    expect([ab.pairedSaId, ba.pairedSaId]).toEqual([ba.id, ab.id]);
  });

  test('history beyond saHistory drops the oldest ended SA first; the current one is kept', () => {
    const { sas, t } = setup(2);
    const made = [0x1, 0x2, 0x3].map((spi, i) => sas.saFor(esp(A, B, spi, T0 + i * 10 * MIN), t, 'a-b'));
    expect(t.saIds['a-b']).toEqual([made[1]!.id, made[2]!.id]);
    expect(sas.get(made[0]!.id)).toBeUndefined();
    expect(sas.current(t, 'a-b')).toBe(made[2]);
    // The forgotten key is free again: seen anew it is generation 0 of a fresh SA.
    expect(sas.saFor(esp(A, B, 0x1, T0 + 40 * MIN), t, 'a-b').generation).toBe(0);
  });

  test.each([
    ['an SPI above 2^31', 0xfffffff0, `${A}|${B}|4294967280`],
    ['SPI 0', 0, `${A}|${B}|0`],
    ['no SPI', null, `${A}|${B}|`],
  ])(
    'the key lookup with %s: found again, apart from other SPIs, its key string as snapshots keep it',
    (_what, spi, key) => {
      const { sas, t } = setup();
      const sa = sas.saFor(esp(A, B, spi, T0), t, 'a-b');
      const others = [0x7ffffff0, 0xfffffff1, spi === null ? 0 : null].map((s) =>
        sas.saFor(esp(A, B, s, T0), t, 'a-b'),
      );
      const reverse = sas.saFor(esp(B, A, spi, T0), t, 'b-a');
      expect(sa.key).toBe(key);
      expect(sas.saFor(esp(A, B, spi, T0 + MIN), t, 'a-b')).toBe(sa);
      expect(new Set([sa, reverse, ...others].map((s) => s.id)).size).toBe(5);
      expect(sas.keyIndexEntries).toBe(9);
      sas.forgetTunnel(t);
      expect(sas.keyIndexEntries).toBe(0);
    },
  );

  test('restored SAs: the latest generation of a key stays current whatever the order', () => {
    const { sas, t } = setup();
    const g0 = sas.saFor(esp(A, B, 0xfffffff0, T0), t, 'a-b');
    const g1 = sas.saFor(esp(A, B, 0xfffffff0, T0 + 30 * MIN), t, 'a-b');
    expect([g0.generation, g1.generation]).toEqual([0, 1]);
    const fresh = new SaRegistry({ saHistory: 8, saIdleMs: 10 * MIN }, new BatchState());
    for (const s of [g1, g0].map((x) => JSON.parse(JSON.stringify(x)) as typeof x)) fresh.restore(s);
    expect(fresh.keyIndexEntries).toBe(3);
    const seen = fresh.saFor(esp(A, B, 0xfffffff0, T0 + 31 * MIN), t, 'a-b');
    expect([seen.id, seen.key, seen.lastSeenMs]).toEqual([g1.id, g1.key, T0 + 32 * MIN - 1]);
  });

  test('the recent-SA cache: thousands of keys sharing its slots, trimmed and renewed, give the indexed SA', () => {
    const { sas, t } = setup(4);
    // 3000 SPIs (more than the cache's slots) in both directions, seen in turn: every record
    // must land on the SA its own key created, never a slot-mate's.
    const first = new Map<string, string>();
    for (let round = 0; round < 2; round++) {
      for (let spi = 1; spi <= 3000; spi++) {
        const [src, dst, dir] = spi % 2 === 0 ? [A, B, 'a-b' as const] : [B, A, 'b-a' as const];
        const sa = sas.saFor(esp(src, dst, spi, T0 + round * MIN), t, dir);
        expect([sa.src, sa.dst, sa.spi]).toEqual([src, dst, spi]);
        // Not an SA the history trimmed: the registry still holds what it hands out.
        expect(sas.get(sa.id)).toBe(sa);
        if (round === 0) first.set(`${src}|${spi}`, sa.id);
      }
    }
    // History 4 per direction: all but the last SPIs were forgotten and made anew in round 2.
    expect(sas.saFor(esp(A, B, 3000, T0 + 2 * MIN), t, 'a-b').id).toBe(first.get(`${A}|3000`));
    expect(sas.saFor(esp(A, B, 2, T0 + 2 * MIN), t, 'a-b').generation).toBe(0);
    // A new generation after an idle gap replaces the cached one.
    const before = sas.saFor(esp(A, B, 3000, T0 + 3 * MIN), t, 'a-b');
    const after = sas.saFor(esp(A, B, 3000, T0 + 30 * MIN), t, 'a-b');
    expect([before.generation, after.generation]).toEqual([0, 1]);
    expect(sas.saFor(esp(A, B, 3000, T0 + 31 * MIN), t, 'a-b')).toBe(after);
    // SPI-less keys of many address pairs.
    for (let host = 1; host <= 600; host++) {
      const src = `10.${host >> 8}.${host & 255}.1`;
      expect(sas.saFor(esp(src, B, null, T0), t, 'a-b').src).toBe(src);
    }
  });

  test('idle SAs end at their last sight; an evicted tunnel takes its SAs out of memory', () => {
    const { sas, t, batch } = setup();
    const ab = sas.saFor(esp(A, B, null, T0), t, 'a-b');
    sas.endIdle(T0 + 5 * MIN);
    expect(ab.endedMs).toBeNull();
    sas.endIdle(T0 + 20 * MIN);
    expect([ab.endedMs, ab.endReason, batch.counters.sasExpired]).toEqual([T0 + MIN - 1, 'idle', 1]);
    sas.forgetTunnel(t);
    expect(sas.get(ab.id)).toBeUndefined();
    expect([...sas.values()]).toEqual([]);
  });
});

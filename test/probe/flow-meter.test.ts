// The probe's flow meter: per-SA flows and their timeouts, loss carried across flow records
// exactly once, restarts splitting the SA's flow, NAT-T control flows apart, table limits.

import { describe, expect, test } from 'vitest';
import { EndReason, FlowMeter } from '../../probe/flow-meter.js';
import type { FlowMeterOptions, ProbeRecord, SaFlowRecord } from '../../probe/flow-meter.js';
import { PacketInfo, PacketKind } from '../../probe/ipsec-packet.js';

function espPacket(spi: number, seq: number, src = 0xc000020a, dst = 0xc6336414): PacketInfo {
  const p = new PacketInfo();
  p.kind = PacketKind.Esp;
  p.ipVersion = 4;
  p.src4 = src;
  p.dst4 = dst;
  p.proto = 50;
  p.spi = spi;
  p.seq = seq;
  p.ipLength = 100;
  return p;
}

function meter(options: Partial<FlowMeterOptions> = {}): { m: FlowMeter; out: ProbeRecord[] } {
  const out: ProbeRecord[] = [];
  const m = new FlowMeter({ activeTimeoutMs: 60_000, idleTimeoutMs: 15_000, ...options }, (r) => out.push(r));
  return { m, out };
}

const sas = (out: ProbeRecord[]) => out.filter((r): r is SaFlowRecord => r.type === 'sa');
const total = (rs: SaFlowRecord[], f: (r: SaFlowRecord) => number) => rs.reduce((n, r) => n + f(r), 0);

describe('flow meter', () => {
  test('active timeout: one record per minute, the loss of the SA counted once over them', () => {
    const { m, out } = meter();
    // 100 packets per second for 5 minutes, every 500th number dropped.
    let t = 0;
    for (let seq = 1; seq <= 30_000; seq++) {
      t = seq * 10;
      if (seq % 500 !== 0) m.packet(espPacket(0x11, seq), t, 0);
    }
    m.flush();
    const rs = sas(out);
    expect(rs.length).toBe(5);
    expect(rs.slice(0, 4).every((r) => r.endReason === EndReason.Active)).toBe(true);
    expect(total(rs, (r) => r.lost)).toBe(59);
    expect(total(rs, (r) => r.packets)).toBe(30_000 - 60);
    // The last number (30000) was dropped: nobody can know it was sent.
    expect(rs[4]?.lastSeq).toBe(29_999);
  });

  test('a slow SA: a loss lands in the minute of its numbers, although the window gives it up minutes later', () => {
    const { m, out } = meter();
    // 5 packets per second for 5 minutes from 09:00:00: 1024 numbers take 3.4 minutes.
    const t0 = Date.parse('2024-03-12T09:00:00Z');
    const lostAt = new Set([100, 400, 401, 1200]); // minutes 0, 1, 1, 4
    for (let seq = 1; seq <= 1499; seq++) {
      if (!lostAt.has(seq)) m.packet(espPacket(0x55, seq), t0 + seq * 200, 0);
    }
    m.flush();
    const rs = sas(out);
    expect(rs.map((r) => [new Date(r.startMs).getUTCMinutes(), r.lost])).toEqual([
      [0, 1],
      [1, 2],
      [2, 0],
      [3, 0],
      [4, 1],
    ]);
    // Aligned to minutes: each flow starts and ends in its own minute.
    expect(rs.every((r) => Math.floor(r.startMs / 60_000) === Math.floor(r.endMs / 60_000))).toBe(true);
  });

  test('idle timeout ends the flow (gaps settle as lost); the SA keeps its window for the next flow', () => {
    const { m, out } = meter();
    for (const seq of [1, 2, 4, 5]) m.packet(espPacket(0x22, seq), seq * 100, 0);
    m.sweep(30_000);
    expect(sas(out)).toMatchObject([{ packets: 4, lost: 1, endReason: EndReason.Idle }]);
    // After the pause the numbers go on: no restart, no loss, a new flow.
    for (const seq of [6, 7, 8]) m.packet(espPacket(0x22, seq), 40_000 + seq, 0);
    m.flush();
    expect(sas(out)[1]).toMatchObject({ packets: 3, lost: 0, generation: 0, firstSeq: 6 });
  });

  test('a restart splits the flow: the old generation ends, the new one carries its first packets', () => {
    const { m, out } = meter();
    for (let seq = 1; seq <= 300; seq++) m.packet(espPacket(0x33, seq), seq, 0);
    for (let seq = 1; seq <= 100; seq++) m.packet(espPacket(0x33, seq), 1000 + seq, 0);
    m.flush();
    const rs = sas(out);
    expect(rs.map((r) => [r.generation, r.packets, r.firstSeq, r.lastSeq, r.lost, r.duplicates])).toEqual([
      [0, 300, 1, 300, 0, 0],
      [1, 100, 1, 100, 0, 0],
    ]);
    expect(rs[0]?.endReason).toBe(EndReason.EndDetected);
    expect(m.counters.sequenceRestarts).toBe(1);
  });

  test('SAs are keyed by (src, dst, SPI): the same SPI between other peers is another SA', () => {
    const { m, out } = meter();
    for (let seq = 1; seq <= 10; seq++) {
      m.packet(espPacket(0x44, seq), seq, 0);
      m.packet(espPacket(0x44, seq + 1000, 0xc0000201, 0xc0000202), seq, 0);
    }
    m.flush();
    expect(sas(out).map((r) => [r.src, r.packets, r.lost])).toEqual([
      ['192.0.2.1', 10, 0],
      ['192.0.2.10', 10, 0],
    ]);
  });

  test('NAT-T IKE and keepalives are flows of their own, never ESP', () => {
    const { m, out } = meter();
    const natt = (kind: PacketKind) => {
      const p = espPacket(0, 0);
      p.kind = kind;
      p.proto = 17;
      p.srcPort = 36013;
      p.dstPort = 4500;
      return p;
    };
    m.packet(natt(PacketKind.NattIke), 1, 0);
    m.packet(natt(PacketKind.NattKeepalive), 2, 0);
    m.packet(natt(PacketKind.NattKeepalive), 3, 0);
    m.flush();
    expect(out.map((r) => (r.type === 'tuple' ? [r.nattControl, r.packets, r.keepalives] : null))).toEqual([
      [true, 1, 0],
      [true, 2, 2],
    ]);
    expect(m.counters).toMatchObject({ nattIkePackets: 1, nattKeepalives: 2, espPackets: 0 });
  });

  test('other traffic only with meterOther', () => {
    const other = () => {
      const p = espPacket(0, 0);
      p.kind = PacketKind.Other;
      p.proto = 6;
      p.srcPort = 443;
      p.dstPort = 50000;
      return p;
    };
    const off = meter();
    off.m.packet(other(), 1, 0);
    off.m.flush();
    expect(off.out).toHaveLength(0);
    expect(off.m.counters.ignoredPackets).toBe(1);
    const on = meter({ meterOther: true });
    on.m.packet(other(), 1, 0);
    on.m.flush();
    expect(on.out).toMatchObject([{ type: 'tuple', proto: 6, srcPort: 443, packets: 1 }]);
  });

  test('the SA table is bounded: the quietest SA ends (lack of resources) to make room', () => {
    const { m, out } = meter({ maxSas: 2 });
    m.packet(espPacket(1, 1), 1, 0);
    m.packet(espPacket(2, 1), 2, 0);
    m.packet(espPacket(3, 1), 3, 0);
    expect(sas(out)).toMatchObject([{ spi: 1, endReason: EndReason.LackOfResources }]);
    expect(m.counters.evicted).toBe(1);
  });
});

// The probe's metering process: ESP packets into per-SA flows keyed by (src, dst, SPI) (plus the
// ports for ESP in UDP), each SA with its sequence window; IKE, NAT-T control packets and,
// optionally, all other traffic into ordinary 5-tuple flows. Flows end on the active and idle
// timeouts (RFC 5470 §5.1.1) of capture time; an SA's sequence state outlives its flows, so a
// pause longer than the idle timeout does not look like loss or a restart.

import { PacketKind } from './ipsec-packet.js';
import type { PacketInfo } from './ipsec-packet.js';
import { SaSequence, SeqVerdict } from './sequence-window.js';
import type { SequenceCounters } from './sequence-window.js';

/** IE 136 flowEndReason values (IANA registry): idle, active, end detected, forced end, lack of resources. */
export const EndReason = { Idle: 1, Active: 2, EndDetected: 3, Forced: 4, LackOfResources: 5 } as const;
export type EndReason = (typeof EndReason)[keyof typeof EndReason];

const TWO_32 = 2 ** 32;

/** One SA's flow as exported. */
export interface SaFlowRecord {
  readonly type: 'sa';
  readonly ipVersion: 4 | 6;
  readonly src: string;
  readonly dst: string;
  /** 50, or 17 for ESP in UDP. */
  readonly proto: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly spi: number;
  readonly packets: number;
  readonly octets: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly endReason: EndReason;
  /** First and highest sequence number of the flow, 64-bit (ESN-inferred). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** IP fragments the flow's packets came in (a packet reassembled from two counts 2 here, 1 in `packets`). */
  readonly fragments: number;
  readonly generation: number;
}

/** A 5-tuple flow: IKE, NAT-T control (IKE behind the non-ESP marker, keepalives), other traffic. */
export interface TupleFlowRecord {
  readonly type: 'tuple';
  readonly ipVersion: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly proto: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly packets: number;
  readonly octets: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly endReason: EndReason;
  readonly tcpFlags: number;
  /** ICMP (type << 8) | code of the flow's packets (the last one), or -1. */
  readonly icmpTypeCode: number;
  /** IKE or keepalives on the NAT-T port: exported with SPI 0, the non-ESP marker's value. */
  readonly nattControl: boolean;
  readonly keepalives: number;
  readonly fragments: number;
}

export type ProbeRecord = SaFlowRecord | TupleFlowRecord;

export interface FlowMeterOptions {
  readonly activeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly windowSize?: number;
  /** Meter non-IPsec traffic too (5-tuple flows), so the probe can be a site's only exporter. */
  readonly meterOther?: boolean;
  /** SA sequence state is forgotten after this long without a packet (default 10 minutes). */
  readonly saForgetMs?: number;
  /** At most this many SAs and this many 5-tuple flows; beyond, the oldest go first. */
  readonly maxSas?: number;
  readonly maxTupleFlows?: number;
}

export interface MeterCounters {
  packets: number;
  octets: number;
  espPackets: number;
  nattEspPackets: number;
  ikePackets: number;
  nattIkePackets: number;
  nattKeepalives: number;
  otherPackets: number;
  /** Packets not metered (not IP, malformed, truncated, other traffic when not metered). */
  ignoredPackets: number;
  /** IP fragments seen (reassembled ones counted in their packet's flow too). */
  fragments: number;
  records: number;
  saRecords: number;
  sasCreated: number;
  sequenceRestarts: number;
  /** Flows ended early because a table was full. */
  evicted: number;
}

interface FlowPart {
  startMs: number;
  endMs: number;
  packets: number;
  octets: number;
  fragments: number;
  firstSeq: number;
  lastSeq: number;
  /** Sequence totals when the flow began, so the record carries only its own share. */
  base: SequenceCounters;
  generation: number;
}

interface HeldPacket {
  readonly tsMs: number;
  readonly octets: number;
  readonly fragments: number;
  readonly seq64: number;
}

interface SaEntry {
  readonly ipVersion: 4 | 6;
  readonly src4: number;
  readonly dst4: number;
  readonly src: string;
  readonly dst: string;
  readonly proto: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly spi: number;
  readonly seq: SaSequence;
  flow: FlowPart | null;
  lastSeenMs: number;
  held: HeldPacket[];
  /** Next SA with the same SPI (the table is keyed by SPI, which is nearly always unique). */
  next: SaEntry | null;
}

interface TupleEntry {
  readonly key: string;
  readonly ipVersion: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly proto: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly nattControl: boolean;
  startMs: number;
  endMs: number;
  packets: number;
  octets: number;
  tcpFlags: number;
  icmpTypeCode: number;
  keepalives: number;
  fragments: number;
}

export function newMeterCounters(): MeterCounters {
  return {
    packets: 0,
    octets: 0,
    espPackets: 0,
    nattEspPackets: 0,
    ikePackets: 0,
    nattIkePackets: 0,
    nattKeepalives: 0,
    otherPackets: 0,
    ignoredPackets: 0,
    fragments: 0,
    records: 0,
    saRecords: 0,
    sasCreated: 0,
    sequenceRestarts: 0,
    evicted: 0,
  };
}

export class FlowMeter {
  readonly counters: MeterCounters = newMeterCounters();
  readonly #opts: Required<FlowMeterOptions>;
  readonly #emit: (record: ProbeRecord) => void;
  /** SAs by SPI, each the head of a chain. */
  readonly #sas = new Map<number, SaEntry>();
  #saCount = 0;
  readonly #tuples = new Map<string, TupleEntry>();
  #lastSweepMs = -Infinity;
  #nowMs = 0;

  constructor(options: FlowMeterOptions, emit: (record: ProbeRecord) => void) {
    this.#opts = {
      windowSize: 1024,
      meterOther: false,
      saForgetMs: 600_000,
      maxSas: 100_000,
      maxTupleFlows: 200_000,
      ...options,
    };
    this.#emit = emit;
  }

  /** SAs whose flow is open (packets seen within the idle timeout). */
  activeSas(): number {
    let n = 0;
    for (const head of this.#sas.values()) {
      for (let e: SaEntry | null = head; e !== null; e = e.next) if (e.flow !== null) n++;
    }
    return n;
  }

  /** Capture time of the last packet. */
  get nowMs(): number {
    return this.#nowMs;
  }

  /**
   * Meters one packet seen at `tsMs`. `fragments` is how many IP fragments it arrived in (0 for
   * an unfragmented packet).
   */
  packet(p: PacketInfo, tsMs: number, fragments: number): void {
    if (tsMs > this.#nowMs) this.#nowMs = tsMs;
    // Sweep for timeouts once per second of capture time.
    if (tsMs - this.#lastSweepMs >= 1000) this.sweep(tsMs);
    const c = this.counters;
    c.packets++;
    c.octets += p.ipLength;
    switch (p.kind) {
      case PacketKind.Esp:
        c.espPackets++;
        this.#esp(p, tsMs, fragments);
        return;
      case PacketKind.NattEsp:
        c.nattEspPackets++;
        this.#esp(p, tsMs, fragments);
        return;
      case PacketKind.Ike:
        c.ikePackets++;
        this.#tuple(p, tsMs, fragments, false);
        return;
      case PacketKind.NattIke:
        c.nattIkePackets++;
        this.#tuple(p, tsMs, fragments, true);
        return;
      case PacketKind.NattKeepalive:
        c.nattKeepalives++;
        this.#tuple(p, tsMs, fragments, true);
        return;
      case PacketKind.Other:
        if (!this.#opts.meterOther) {
          c.ignoredPackets++;
          return;
        }
        c.otherPackets++;
        this.#tuple(p, tsMs, fragments, false);
        return;
      default:
        c.ignoredPackets++;
    }
  }

  #esp(p: PacketInfo, tsMs: number, fragments: number): void {
    const e = this.#saFor(p, tsMs);
    e.lastSeenMs = tsMs;
    const verdict = e.seq.observe(p.seq);
    const seq64 = e.seq.window.last;
    if (verdict === SeqVerdict.Restart) {
      this.#restart(e, tsMs, p.ipLength, fragments);
      return;
    }
    let f = e.flow;
    if (f === null) f = e.flow = this.#newPart(e, tsMs, seq64);
    else if (tsMs - f.startMs >= this.#opts.activeTimeoutMs) {
      this.#endSa(e, EndReason.Active, false);
      f = e.flow = this.#newPart(e, tsMs, seq64);
    }
    f.endMs = tsMs;
    f.packets++;
    f.octets += p.ipLength;
    f.fragments += fragments;
    if (verdict === SeqVerdict.Held) {
      e.held.push({ tsMs, octets: p.ipLength, fragments, seq64: p.seq >>> 0 });
    } else {
      if (e.held.length > 0) e.held = [];
      if (seq64 > f.lastSeq) f.lastSeq = seq64;
    }
  }

  /** A new generation: the held packets and this one leave the old flow for a new one. */
  #restart(e: SaEntry, tsMs: number, octets: number, fragments: number): void {
    this.counters.sequenceRestarts++;
    const old = e.flow;
    const held = e.held;
    e.held = [];
    if (old !== null) {
      for (const h of held) {
        old.packets--;
        old.octets -= h.octets;
        old.fragments -= h.fragments;
      }
      if (old.packets > 0) this.#emitSa(e, old, EndReason.EndDetected);
    }
    const first = held[0];
    const part = this.#newPart(e, first?.tsMs ?? tsMs, first?.seq64 ?? e.seq.window.last);
    for (const h of held) {
      part.packets++;
      part.octets += h.octets;
      part.fragments += h.fragments;
      if (h.seq64 > part.lastSeq) part.lastSeq = h.seq64;
    }
    part.packets++;
    part.octets += octets;
    part.fragments += fragments;
    part.endMs = tsMs;
    const last = e.seq.window.last;
    if (last > part.lastSeq) part.lastSeq = last;
    e.flow = part;
  }

  #newPart(e: SaEntry, tsMs: number, seq64: number): FlowPart {
    return {
      startMs: tsMs,
      endMs: tsMs,
      packets: 0,
      octets: 0,
      fragments: 0,
      firstSeq: seq64,
      lastSeq: seq64,
      base: e.seq.totals(),
      generation: e.seq.generation,
    };
  }

  #saFor(p: PacketInfo, tsMs: number): SaEntry {
    const spi = p.spi;
    const head = this.#sas.get(spi);
    const v4 = p.ipVersion === 4 && p.src4 >= 0;
    for (let e: SaEntry | null = head ?? null; e !== null; e = e.next) {
      if (e.ipVersion !== p.ipVersion || e.proto !== p.proto) continue;
      if (e.srcPort !== p.srcPort || e.dstPort !== p.dstPort) continue;
      if (v4 && e.src4 >= 0) {
        if (e.src4 === p.src4 && e.dst4 === p.dst4) return e;
      } else if (e.src === p.srcText() && e.dst === p.dstText()) {
        return e;
      }
    }
    if (this.#saCount >= this.#opts.maxSas) this.#evictOldestSa();
    const e: SaEntry = {
      ipVersion: p.ipVersion,
      src4: v4 ? p.src4 : -1,
      dst4: v4 ? p.dst4 : -1,
      src: p.srcText(),
      dst: p.dstText(),
      proto: p.proto,
      srcPort: p.srcPort,
      dstPort: p.dstPort,
      spi,
      seq: new SaSequence({ size: this.#opts.windowSize }),
      flow: null,
      lastSeenMs: tsMs,
      held: [],
      next: this.#sas.get(spi) ?? null,
    };
    this.#sas.set(spi, e);
    this.#saCount++;
    this.counters.sasCreated++;
    return e;
  }

  #tuple(p: PacketInfo, tsMs: number, fragments: number, nattControl: boolean): void {
    const src = p.srcText();
    const dst = p.dstText();
    const keepalive = p.kind === PacketKind.NattKeepalive;
    // Keepalives and IKE on the NAT-T port are flows of their own, apart from each other.
    const key = `${p.proto}|${src}|${dst}|${p.srcPort}|${p.dstPort}|${keepalive ? 'k' : nattControl ? 'i' : ''}`;
    let t = this.#tuples.get(key);
    if (t !== undefined && tsMs - t.startMs >= this.#opts.activeTimeoutMs) {
      this.#tuples.delete(key);
      this.#emitTuple(t, EndReason.Active);
      t = undefined;
    }
    if (t === undefined) {
      if (this.#tuples.size >= this.#opts.maxTupleFlows) this.#evictOldestTuple();
      t = {
        key,
        ipVersion: p.ipVersion,
        src,
        dst,
        proto: p.proto,
        srcPort: p.srcPort,
        dstPort: p.dstPort,
        nattControl,
        startMs: tsMs,
        endMs: tsMs,
        packets: 0,
        octets: 0,
        tcpFlags: 0,
        icmpTypeCode: -1,
        keepalives: 0,
        fragments: 0,
      };
      this.#tuples.set(key, t);
    }
    t.endMs = tsMs;
    t.packets++;
    t.octets += p.ipLength;
    t.tcpFlags |= p.tcpFlags;
    if (p.icmpTypeCode >= 0) t.icmpTypeCode = p.icmpTypeCode;
    if (keepalive) t.keepalives++;
    t.fragments += fragments;
  }

  /** Ends flows past their idle or active timeout and forgets long-silent SAs. */
  sweep(nowMs: number): void {
    this.#lastSweepMs = nowMs;
    const { idleTimeoutMs, activeTimeoutMs, saForgetMs } = this.#opts;
    for (const [spi, head] of this.#sas) {
      let prev: SaEntry | null = null;
      for (let e: SaEntry | null = head; e !== null; e = e.next) {
        const f = e.flow;
        if (f !== null) {
          if (nowMs - f.endMs >= idleTimeoutMs) this.#endSa(e, EndReason.Idle, true);
          else if (nowMs - f.startMs >= activeTimeoutMs) this.#endSa(e, EndReason.Active, false);
        }
        if (e.flow === null && nowMs - e.lastSeenMs >= saForgetMs) {
          if (prev === null) {
            if (e.next === null) this.#sas.delete(spi);
            else this.#sas.set(spi, e.next);
          } else {
            prev.next = e.next;
          }
          this.#saCount--;
          continue;
        }
        prev = e;
      }
    }
    for (const [key, t] of this.#tuples) {
      if (nowMs - t.endMs >= idleTimeoutMs) {
        this.#tuples.delete(key);
        this.#emitTuple(t, EndReason.Idle);
      } else if (nowMs - t.startMs >= activeTimeoutMs) {
        this.#tuples.delete(key);
        this.#emitTuple(t, EndReason.Active);
      }
    }
  }

  /** Ends every flow (end of capture, shutdown): windows settle, so gaps left are lost. */
  flush(reason: EndReason = EndReason.Forced): void {
    for (const head of this.#sas.values()) {
      for (let e: SaEntry | null = head; e !== null; e = e.next) {
        if (e.flow !== null) this.#endSa(e, reason, true);
        else e.seq.settle();
      }
    }
    for (const t of this.#tuples.values()) this.#emitTuple(t, reason);
    this.#tuples.clear();
  }

  /**
   * Ends the SA's open flow. `settle`: the SA went quiet (idle, end of capture), so numbers still
   * missing inside its window will not come and count as lost in this flow.
   */
  #endSa(e: SaEntry, reason: EndReason, settle: boolean): void {
    const f = e.flow;
    if (f === null) return;
    if (settle) {
      e.seq.settle();
      e.held = [];
    }
    this.#emitSa(e, f, reason);
    e.flow = null;
  }

  #emitSa(e: SaEntry, f: FlowPart, reason: EndReason): void {
    const t = e.seq.totals();
    this.counters.records++;
    this.counters.saRecords++;
    this.#emit({
      type: 'sa',
      ipVersion: e.ipVersion,
      src: e.src,
      dst: e.dst,
      proto: e.proto,
      srcPort: e.srcPort,
      dstPort: e.dstPort,
      spi: e.spi,
      packets: f.packets,
      octets: f.octets,
      startMs: f.startMs,
      endMs: f.endMs,
      endReason: reason,
      firstSeq: f.firstSeq,
      lastSeq: f.lastSeq,
      lost: t.lost - f.base.lost,
      duplicates: t.duplicates - f.base.duplicates,
      outOfOrder: t.outOfOrder - f.base.outOfOrder,
      fragments: f.fragments,
      generation: f.generation,
    });
    // The next flow of this SA counts from here.
    f.base = t;
  }

  #emitTuple(t: TupleEntry, reason: EndReason): void {
    this.counters.records++;
    this.#emit({
      type: 'tuple',
      ipVersion: t.ipVersion,
      src: t.src,
      dst: t.dst,
      proto: t.proto,
      srcPort: t.srcPort,
      dstPort: t.dstPort,
      packets: t.packets,
      octets: t.octets,
      startMs: t.startMs,
      endMs: t.endMs,
      endReason: reason,
      tcpFlags: t.tcpFlags,
      icmpTypeCode: t.icmpTypeCode,
      nattControl: t.nattControl,
      keepalives: t.keepalives,
      fragments: t.fragments,
    });
  }

  #evictOldestSa(): void {
    let oldest: SaEntry | null = null;
    for (const head of this.#sas.values()) {
      for (let e: SaEntry | null = head; e !== null; e = e.next) {
        if (oldest === null || e.lastSeenMs < oldest.lastSeenMs) oldest = e;
      }
    }
    if (oldest === null) return;
    this.counters.evicted++;
    this.#endSa(oldest, EndReason.LackOfResources, true);
    const head = this.#sas.get(oldest.spi) ?? null;
    if (head === oldest) {
      if (oldest.next === null) this.#sas.delete(oldest.spi);
      else this.#sas.set(oldest.spi, oldest.next);
    } else {
      for (let e = head; e !== null; e = e.next) {
        if (e.next === oldest) {
          e.next = oldest.next;
          break;
        }
      }
    }
    this.#saCount--;
  }

  #evictOldestTuple(): void {
    // Map order is insertion order: the first entry is the oldest flow.
    for (const [key, t] of this.#tuples) {
      this.#tuples.delete(key);
      this.counters.evicted++;
      this.#emitTuple(t, EndReason.LackOfResources);
      return;
    }
  }
}

/** The low 32 bits of a 64-bit sequence number, as IE espSequenceFirst / Last carry it. */
export function low32(seq64: number): number {
  return seq64 % TWO_32;
}

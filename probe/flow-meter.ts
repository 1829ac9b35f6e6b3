// The probe's metering process: ESP packets into per-SA flows keyed by (src, dst, SPI) (plus the
// ports for ESP in UDP), each SA with its sequence window; IKE, NAT-T control packets and,
// optionally, all other traffic into ordinary 5-tuple flows. Flows end on the active and idle
// timeouts (RFC 5470 §5.1.1) of capture time, the active one at its multiples (so one-minute
// flows are UTC minutes); an SA's sequence state outlives its flows, so a
// pause longer than the idle timeout does not look like loss or a restart.

import { PacketKind } from './ipsec-packet.js';
import type { PacketInfo } from './ipsec-packet.js';
import { SaSequence, SeqVerdict } from './sequence-window.js';
import type { SequenceCounters } from './sequence-window.js';

/** IE 136 flowEndReason values (IANA registry): idle, active, end detected, forced end, lack of resources. */
export const EndReason = { Idle: 1, Active: 2, EndDetected: 3, Forced: 4, LackOfResources: 5 } as const;
export type EndReason = (typeof EndReason)[keyof typeof EndReason];

const TWO_32 = 2 ** 32;

/** What every exported flow of the probe has. */
interface MeteredFlow {
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
}

/** One SA's flow as exported (`proto` 50, or 17 for ESP in UDP). */
export interface SaFlowRecord extends MeteredFlow {
  readonly type: 'sa';
  readonly spi: number;
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
export interface TupleFlowRecord extends MeteredFlow {
  readonly type: 'tuple';
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
  /** A closed flow waits at most this long for its numbers to leave the window (default 5 active timeouts). */
  readonly maxHoldMs?: number;
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
  /** Lost numbers no flow of their SA was left to carry (should stay 0). */
  unattributedLost: number;
}

interface FlowPart {
  startMs: number;
  endMs: number;
  /** Where the active timeout cuts this flow: the next multiple of the timeout (aligned flows). */
  cutMs: number;
  packets: number;
  octets: number;
  fragments: number;
  /** -1 until the first packet's number is known. */
  firstSeq: number;
  lastSeq: number;
  /** Numbers lost in this flow's range of sequence numbers, whenever the window gave them up. */
  lost: number;
  /** Duplicates and late packets that arrived during the flow (fixed when it closes). */
  duplicates: number;
  outOfOrder: number;
  /** Sequence totals when the flow began, so the record carries only its own duplicates and late packets. */
  base: SequenceCounters;
  generation: number;
  /** Capture time the flow closed (active timeout), -1 while open. */
  closedMs: number;
  endReason: EndReason;
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
  /**
   * Flows closed by the active timeout whose numbers may still be counted lost: each waits
   * until its highest number has left the window, so the loss lands in the flow whose range
   * of numbers (and so whose minutes) it belongs to, not in the one open when the window
   * gave it up.
   */
  pending: FlowPart[];
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
    unattributedLost: 0,
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
      maxHoldMs: options.activeTimeoutMs * 5,
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
    let f = e.flow;
    if (f !== null && tsMs >= f.cutMs) {
      this.#closePart(e, tsMs);
      f = null;
    }
    if (f === null) f = e.flow = this.#newPart(e, tsMs);
    const verdict = e.seq.observe(p.seq);
    const seq64 = e.seq.window.last;
    if (verdict === SeqVerdict.Restart) {
      this.#restart(e, tsMs, p.ipLength, fragments);
      return;
    }
    f.endMs = tsMs;
    f.packets++;
    f.octets += p.ipLength;
    f.fragments += fragments;
    if (verdict === SeqVerdict.Held) {
      e.held.push({ tsMs, octets: p.ipLength, fragments, seq64: p.seq >>> 0 });
      if (f.firstSeq < 0) f.firstSeq = p.seq >>> 0;
    } else {
      if (e.held.length > 0) e.held = [];
      if (f.firstSeq < 0) f.firstSeq = seq64;
      if (seq64 > f.lastSeq) f.lastSeq = seq64;
      if (verdict === SeqVerdict.Advance && e.pending.length > 0) this.#release(e, tsMs, false);
    }
  }

  /** Counts `count` lost numbers from `from` in the flows whose ranges hold them. */
  #attribute(e: SaEntry, from: number, count: number): void {
    let n = from;
    let left = count;
    for (const part of e.pending) {
      if (left === 0) return;
      if (n <= part.lastSeq) {
        const k = Math.min(left, part.lastSeq - n + 1);
        part.lost += k;
        n += k;
        left -= k;
      }
    }
    if (left === 0) return;
    const open = e.flow ?? e.pending[e.pending.length - 1];
    if (open !== undefined) open.lost += left;
    else this.counters.unattributedLost += left;
  }

  /** The active timeout closed the SA's open flow: it waits in `pending` for its losses. */
  #closePart(e: SaEntry, nowMs: number): void {
    const f = e.flow;
    if (f === null) return;
    const t = e.seq.totals();
    f.duplicates = t.duplicates - f.base.duplicates;
    f.outOfOrder = t.outOfOrder - f.base.outOfOrder;
    f.closedMs = nowMs;
    f.endReason = EndReason.Active;
    e.flow = null;
    e.pending.push(f);
    this.#release(e, nowMs, false);
  }

  /** Exports the pending flows whose numbers are final (or that waited long enough; `all`: every one). */
  #release(e: SaEntry, nowMs: number, all: boolean): void {
    const w = e.seq.window;
    while (e.pending.length > 0) {
      const part = e.pending[0]!;
      const final = all || w.top - w.size >= part.lastSeq || nowMs - part.closedMs >= this.#opts.maxHoldMs;
      if (!final) return;
      e.pending.shift();
      this.#emitSa(e, part, part.endReason);
    }
  }

  /** A new generation: the held packets and this one leave the old flow for a new one. */
  #restart(e: SaEntry, tsMs: number, octets: number, fragments: number): void {
    this.counters.sequenceRestarts++;
    // The old generation settled: its pending flows are final.
    this.#release(e, tsMs, true);
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
    const part = this.#newPart(e, first?.tsMs ?? tsMs);
    part.firstSeq = first?.seq64 ?? e.seq.window.last;
    part.lastSeq = part.firstSeq;
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

  #newPart(e: SaEntry, tsMs: number): FlowPart {
    const active = this.#opts.activeTimeoutMs;
    return {
      startMs: tsMs,
      endMs: tsMs,
      cutMs: (Math.floor(tsMs / active) + 1) * active,
      packets: 0,
      octets: 0,
      fragments: 0,
      firstSeq: -1,
      lastSeq: -1,
      lost: 0,
      duplicates: 0,
      outOfOrder: 0,
      base: e.seq.totals(),
      generation: e.seq.generation,
      closedMs: -1,
      endReason: EndReason.Active,
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
      pending: [],
      lastSeenMs: tsMs,
      held: [],
      next: this.#sas.get(spi) ?? null,
    };
    e.seq.onLost = (from, count) => this.#attribute(e, from, count);
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
    if (t !== undefined && tsMs >= this.#cut(t.startMs)) {
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
    const { idleTimeoutMs, saForgetMs } = this.#opts;
    for (const [spi, head] of this.#sas) {
      let prev: SaEntry | null = null;
      for (let e: SaEntry | null = head; e !== null; e = e.next) {
        const f = e.flow;
        if (nowMs - e.lastSeenMs >= idleTimeoutMs) {
          if (f !== null || e.pending.length > 0) this.#endSa(e, EndReason.Idle, true);
        } else if (f !== null && nowMs >= f.cutMs) {
          this.#closePart(e, nowMs);
        } else if (e.pending.length > 0) {
          this.#release(e, nowMs, false);
        }
        if (e.flow === null && e.pending.length === 0 && nowMs - e.lastSeenMs >= saForgetMs) {
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
      } else if (nowMs >= this.#cut(t.startMs)) {
        this.#tuples.delete(key);
        this.#emitTuple(t, EndReason.Active);
      }
    }
  }

  /** Ends every flow (end of capture, shutdown): windows settle, so gaps left are lost. */
  flush(reason: EndReason = EndReason.Forced): void {
    for (const head of this.#sas.values()) {
      for (let e: SaEntry | null = head; e !== null; e = e.next) {
        if (e.flow !== null || e.pending.length > 0) this.#endSa(e, reason, true);
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
    if (settle) {
      e.seq.settle();
      e.held = [];
    }
    this.#release(e, this.#nowMs, settle);
    const f = e.flow;
    if (f === null) return;
    this.#emitSa(e, f, reason);
    e.flow = null;
  }

  #emitSa(e: SaEntry, f: FlowPart, reason: EndReason): void {
    if (f.closedMs < 0) {
      const t = e.seq.totals();
      f.duplicates = t.duplicates - f.base.duplicates;
      f.outOfOrder = t.outOfOrder - f.base.outOfOrder;
    }
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
      lost: f.lost,
      duplicates: f.duplicates,
      outOfOrder: f.outOfOrder,
      fragments: f.fragments,
      generation: f.generation,
    });
  }

  /** The active timeout's cut after `startMs`: flows end at multiples of it, like minutes. */
  #cut(startMs: number): number {
    const active = this.#opts.activeTimeoutMs;
    return (Math.floor(startMs / active) + 1) * active;
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

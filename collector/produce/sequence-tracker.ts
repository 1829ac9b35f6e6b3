// Export sequence numbers per exporter and domain: how many datagrams (v9) or records
// (v5, IPFIX) were lost between the exporter and the collector.
//
// What the number counts differs between the RFCs and real exporters, so each stream's
// convention is learned from its datagrams (README, "Decoder notes"):
// - IPFIX (RFC 7011 §3.1): data records sent before this message, options records
//   included, template records not. softflowd counts flow records only, and includes the
//   message's own (its number is the running total after the message).
// - NetFlow v9 (RFC 3954 §5.1): export packets sent before this one. softflowd 1.1 and
//   pmacct do so; later softflowd counts flow records after the message, as for IPFIX.
// - NetFlow v5: flow records before this datagram.

import type { ExportVersion } from '../../model/flow.js';

/**
 * - `first`: nothing to compare with yet.
 * - `in-order`: exactly what was expected.
 * - `gap`: `gap` units were skipped (lost, or arriving later).
 * - `late`: a little behind what was expected: a duplicate or reordered datagram; the
 *   baseline is kept.
 * - `reset`: a big jump either way, or back to about 0 (exporter restart, or two `late`s
 *   in a row that agree with each other): a new baseline, no gap counted. A backwards jump
 *   is never read as a 4-billion gap.
 * - `resync`: the previous datagram's unit count was unknown (data without template),
 *   so nothing can be concluded: a new baseline.
 */
export type SequenceEvent = 'first' | 'in-order' | 'gap' | 'late' | 'reset' | 'resync';

/**
 * What a stream's sequence number counts: `packets` (export packets, RFC 3954), `records`
 * (all data records, options records included: RFC 7011) or `flows` (flow data records
 * only); `pre` when it counts those sent before the message (the RFCs), `post` when it
 * includes the message's own (softflowd).
 */
export type SequenceConvention = 'packets' | 'records-pre' | 'records-post' | 'flows-pre' | 'flows-post';

export interface SequenceObservation {
  readonly event: SequenceEvent;
  /** Units (v5 flows, v9 datagrams or records, IPFIX data records) missing before this datagram. */
  readonly gap: number;
  readonly expected: number | null;
  readonly received: number;
  /** The convention the stream is read with (the likeliest one while it is being learned). */
  readonly convention: SequenceConvention;
}

export interface SequenceTrackerOptions {
  /** A forward jump larger than this is a reset, not loss. Default 1,000,000 units. */
  readonly maxGap?: number;
  /** A backward jump up to this is a late datagram; larger is a reset. Default 10,000 units. */
  readonly maxLate?: number;
  /** Exporter/domain streams remembered (oldest forgotten first). Default 65,536. */
  readonly maxStreams?: number;
}

// Candidate conventions as bits, in order of preference when several still fit: the RFC's
// own first, then what real exporters are known to do.
const PACKETS = 1;
const RECORDS_PRE = 2;
const RECORDS_POST = 4;
const FLOWS_PRE = 8;
const FLOWS_POST = 16;
const ORDER: readonly (readonly [number, SequenceConvention])[] = [
  [PACKETS, 'packets'],
  [RECORDS_PRE, 'records-pre'],
  [FLOWS_PRE, 'flows-pre'],
  [FLOWS_POST, 'flows-post'],
  [RECORDS_POST, 'records-post'],
];
const CANDIDATES: Readonly<Record<ExportVersion, number>> = {
  5: FLOWS_PRE | FLOWS_POST,
  9: PACKETS | RECORDS_PRE | RECORDS_POST | FLOWS_PRE | FLOWS_POST,
  10: RECORDS_PRE | RECORDS_POST | FLOWS_PRE | FLOWS_POST,
};

interface StreamState {
  last: number;
  lastFlows: number;
  lastOptions: number;
  lastExact: boolean;
  /** The conventions of this stream's version (bits above). */
  readonly candidates: number;
  /**
   * Per convention (index in ORDER): datagrams that another convention explained exactly
   * and this one did not. The convention with the fewest reads the stream.
   */
  readonly misses: number[];
  /** After a `late`, the sequence number that would confirm the stream really moved back. */
  lateNext: number | null;
}

const MOD = 4294967296;

/** The convention among `candidates` with the fewest misses; ties go to the earlier in ORDER. */
function preferred(candidates: number, misses: readonly number[]): number {
  let best = 0;
  let bestMisses = Infinity;
  for (let i = 0; i < ORDER.length; i++) {
    const bit = ORDER[i]![0];
    if ((candidates & bit) !== 0 && misses[i]! < bestMisses) {
      best = bit;
      bestMisses = misses[i]!;
    }
  }
  return best === 0 ? PACKETS : best;
}

/** Misses stop growing here, so a stream whose exporter changed convention can change too. */
const MAX_MISSES = 1_000_000;

function conventionName(bit: number): SequenceConvention {
  for (const [b, name] of ORDER) if (b === bit) return name;
  return 'packets';
}

export class SequenceTracker {
  private readonly streams = new Map<string, StreamState>();
  private readonly maxGap: number;
  private readonly maxLate: number;
  private readonly maxStreams: number;

  constructor(options: SequenceTrackerOptions = {}) {
    this.maxGap = options.maxGap ?? 1_000_000;
    this.maxLate = options.maxLate ?? 10_000;
    this.maxStreams = options.maxStreams ?? 65_536;
  }

  /**
   * Records one datagram with its flow data records and options data records (template
   * records never count). `exact` is false when records were dropped for want of a
   * template or the datagram was cut short: its record counts are then unknown.
   */
  observe(
    exporter: string,
    version: ExportVersion,
    domainId: number,
    sequence: number,
    flowRecords: number,
    optionsRecords = 0,
    exact = true,
  ): SequenceObservation {
    const key = `${version}|${domainId}|${exporter}`;
    const received = sequence >>> 0;
    const state = this.streams.get(key);
    if (!state) {
      if (this.streams.size >= this.maxStreams) {
        const oldest = this.streams.keys().next().value;
        if (oldest !== undefined) this.streams.delete(oldest);
      }
      const candidates = CANDIDATES[version];
      const misses = ORDER.map(() => 0);
      this.streams.set(key, {
        last: received,
        lastFlows: flowRecords,
        lastOptions: optionsRecords,
        lastExact: exact,
        candidates,
        misses,
        lateNext: null,
      });
      const convention = conventionName(preferred(candidates, misses));
      return { event: 'first', gap: 0, expected: null, received, convention };
    }

    // What each convention still in play expects here.
    const expectedBy = (bit: number): number => {
      let step: number;
      if (bit === PACKETS) step = 1;
      else if (bit === RECORDS_PRE) step = state.lastFlows + state.lastOptions;
      else if (bit === RECORDS_POST) step = flowRecords + optionsRecords;
      else if (bit === FLOWS_PRE) step = state.lastFlows;
      else step = flowRecords;
      return (state.last + step) % MOD;
    };
    // Conventions that need the previous datagram's records cannot be checked after an
    // inexact one (the `post` ones need only this datagram's, but the baseline is
    // just as unknown); packet counting can.
    const usable = state.lastExact ? state.candidates : state.candidates & PACKETS;
    if (usable === 0) {
      this.rebase(state, received, flowRecords, optionsRecords, exact);
      const convention = conventionName(preferred(state.candidates, state.misses));
      return { event: 'resync', gap: 0, expected: null, received, convention };
    }
    // Learning, all along: when some conventions explain a datagram exactly, each of the
    // others gets a miss. They agree until record counts differ between datagrams
    // (pre/post) or options records appear (records/flows); a datagram none explains
    // (loss, a restart) teaches nothing. A coincidence (a loss of just the right size) costs
    // the true convention one miss, which its rival soon makes up: never a wrong lock-in.
    let fits = 0;
    for (const [bit] of ORDER) if ((usable & bit) !== 0 && expectedBy(bit) === received) fits |= bit;
    if (fits !== 0 && fits !== usable) {
      for (let i = 0; i < ORDER.length; i++) {
        const b = ORDER[i]![0];
        if ((usable & b) !== 0 && (fits & b) === 0 && state.misses[i]! < MAX_MISSES) state.misses[i]!++;
      }
    }
    const bit = preferred(usable, state.misses);
    const convention = conventionName(bit);
    const expected = expectedBy(bit);
    const ahead = (received - expected + MOD) % MOD;
    if (ahead === 0) {
      this.rebase(state, received, flowRecords, optionsRecords, exact);
      return { event: 'in-order', gap: 0, expected, received, convention };
    }
    if (ahead <= this.maxGap) {
      this.rebase(state, received, flowRecords, optionsRecords, exact);
      return { event: 'gap', gap: ahead, expected, received, convention };
    }
    const behind = MOD - ahead;
    // Back to about 0 is an exporter restart, not a late datagram: its first message counts
    // from 0 or 1 (`pre`, packets), or its own records (`post`), whatever it counted before.
    const restart = received <= Math.max(1, flowRecords + optionsRecords);
    if (!restart && behind <= this.maxLate && state.lateNext !== received) {
      state.lateNext = (received + (bit === PACKETS ? 1 : flowRecords + optionsRecords)) % MOD;
      return { event: 'late', gap: 0, expected, received, convention };
    }
    this.rebase(state, received, flowRecords, optionsRecords, exact);
    // A restart may bring other software: the convention is learned afresh.
    state.misses.fill(0);
    return { event: 'reset', gap: 0, expected, received, convention };
  }

  private rebase(state: StreamState, received: number, flows: number, options: number, exact: boolean): void {
    state.last = received;
    state.lastFlows = flows;
    state.lastOptions = options;
    state.lastExact = exact;
    state.lateNext = null;
  }
}

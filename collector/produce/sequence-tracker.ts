// Export sequence numbers per exporter and domain: how many datagrams (v9) or records
// (v5, IPFIX) were lost between the exporter and the collector.

import type { ExportVersion } from '../../model/flow.js';

/**
 * - `first`: nothing to compare with yet.
 * - `in-order`: exactly what was expected.
 * - `gap`: `gap` units were skipped (lost, or arriving later).
 * - `late`: a little behind what was expected: a duplicate or reordered datagram; the
 *   baseline is kept.
 * - `reset`: a big jump either way (exporter restart, or two `late`s in a row that agree
 *   with each other): a new baseline, no gap counted. A backwards jump is never read as
 *   a 4-billion gap.
 * - `resync`: the previous datagram's unit count was unknown (data without template),
 *   so nothing can be concluded: a new baseline.
 */
export type SequenceEvent = 'first' | 'in-order' | 'gap' | 'late' | 'reset' | 'resync';

export interface SequenceObservation {
  readonly event: SequenceEvent;
  /** Units (v5 flows, v9 datagrams, IPFIX data records) missing before this datagram. */
  readonly gap: number;
  readonly expected: number | null;
  readonly received: number;
}

export interface SequenceTrackerOptions {
  /** A forward jump larger than this is a reset, not loss. Default 1,000,000 units. */
  readonly maxGap?: number;
  /** A backward jump up to this is a late datagram; larger is a reset. Default 10,000 units. */
  readonly maxLate?: number;
  /** Exporter/domain streams remembered (oldest forgotten first). Default 65,536. */
  readonly maxStreams?: number;
}

interface StreamState {
  last: number;
  lastCount: number;
  lastExact: boolean;
  /**
   * softflowd's IPFIX sequence number counts the records of the message it is in
   * (a post-increment), RFC 7011 §3.1 the ones before it. Learned from the stream.
   */
  mode: 'unknown' | 'rfc' | 'post';
  /** After a `late`, the sequence number that would confirm the stream really moved back. */
  lateNext: number | null;
}

const MOD = 4294967296;

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
   * Records one datagram. `units` is what the sequence number counts in it: v5 flow
   * records, 1 for a v9 datagram (RFC 3954 §5.1 counts export packets), IPFIX flow data
   * records (RFC 7011 §3.1; options records are left out, as softflowd and nfdump do).
   * `unitsExact` is false when records were dropped for want of a template.
   */
  observe(
    exporter: string,
    version: ExportVersion,
    domainId: number,
    sequence: number,
    units: number,
    unitsExact = true,
  ): SequenceObservation {
    const key = `${version}|${domainId}|${exporter}`;
    const received = sequence >>> 0;
    const state = this.streams.get(key);
    if (!state) {
      if (this.streams.size >= this.maxStreams) {
        const oldest = this.streams.keys().next().value;
        if (oldest !== undefined) this.streams.delete(oldest);
      }
      this.streams.set(key, {
        last: received,
        lastCount: units,
        lastExact: unitsExact,
        mode: 'unknown',
        lateNext: null,
      });
      return { event: 'first', gap: 0, expected: null, received };
    }
    if (!state.lastExact) {
      this.rebase(state, received, units, unitsExact);
      return { event: 'resync', gap: 0, expected: null, received };
    }
    const rfcExpected = (state.last + state.lastCount) % MOD;
    const postExpected = (state.last + units) % MOD;
    if (state.mode === 'unknown' && units !== state.lastCount) {
      if (received === rfcExpected) state.mode = 'rfc';
      else if (received === postExpected) state.mode = 'post';
    }
    const expected = state.mode === 'post' ? postExpected : rfcExpected;
    const ahead = (received - expected + MOD) % MOD;
    if (ahead === 0) {
      this.rebase(state, received, units, unitsExact);
      return { event: 'in-order', gap: 0, expected, received };
    }
    if (ahead <= this.maxGap) {
      this.rebase(state, received, units, unitsExact);
      return { event: 'gap', gap: ahead, expected, received };
    }
    const behind = MOD - ahead;
    if (behind <= this.maxLate && state.lateNext !== received) {
      state.lateNext = (received + units) % MOD;
      return { event: 'late', gap: 0, expected, received };
    }
    this.rebase(state, received, units, unitsExact);
    return { event: 'reset', gap: 0, expected, received };
  }

  private rebase(state: StreamState, received: number, units: number, exact: boolean): void {
    state.last = received;
    state.lastCount = units;
    state.lastExact = exact;
    state.lateNext = null;
  }
}

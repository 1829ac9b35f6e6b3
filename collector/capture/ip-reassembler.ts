// Puts IP fragments back together (RFC 791 §3.2, RFC 8200 §4.5) so that an export datagram
// larger than the path MTU still reaches the decoder whole. Memory is bounded: a datagram is at
// most 65535 bytes, at most `maxPending` are held, and those older than `timeoutMs` of capture
// time are given up, as a receiving host would.

import type { IpFragment } from './ip-packet.js';

const MAX_PAYLOAD = 65535;
/** Reassembled datagrams remembered to recognise late duplicates of their fragments. */
const RECENT_COMPLETED = 64;
/** Real fragments carry at least 8 payload bytes and rarely fewer than 512; this many is an attack. */
const MAX_PARTS = 2048;

export interface ReassemblyLimits {
  readonly maxPending: number;
  readonly timeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = { maxPending: 1024, timeoutMs: 60_000 };

export type ReassemblyResult =
  | { readonly kind: 'pending' }
  | {
      readonly kind: 'complete';
      readonly ipVersion: 4 | 6;
      readonly src: string;
      readonly dst: string;
      readonly nextHeader: number;
      readonly payload: Buffer;
    }
  | { readonly kind: 'overlap' | 'too-large'; readonly detail: string };

/** A datagram given up before all its fragments came. */
export interface AbandonedDatagram {
  readonly frame: number;
  readonly detail: string;
}

interface Part {
  readonly offset: number;
  readonly data: Buffer;
}

interface Pending {
  readonly firstFrame: number;
  readonly firstTsMs: number;
  readonly ipVersion: 4 | 6;
  readonly src: string;
  readonly dst: string;
  parts: Part[];
  /** Bytes received, duplicates included: completion is only worth checking once it reaches the total. */
  received: number;
  /** Payload length, known once the last fragment (more-fragments clear) has arrived. */
  totalLength: number | null;
  /** Next header of the first fragment, which alone counts (RFC 8200 §4.5). */
  nextHeader: number | null;
  /** Set after an error: later fragments of the datagram are dropped without another issue. */
  dead: boolean;
}

export class IpReassembler {
  private readonly pending = new Map<string, Pending>();
  /**
   * The last datagrams put together, so that a duplicated fragment arriving after its datagram was
   * complete is dropped instead of starting a new datagram that can never complete. Only a byte-equal
   * copy counts: the 16-bit IPv4 identification repeats, and a new datagram may reuse it.
   */
  private readonly completed = new Map<string, { readonly tsMs: number; readonly payload: Buffer }>();

  constructor(private readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}

  /** Adds a fragment seen in `frame` at `tsMs`; datagrams given up on the way are appended to `abandoned`. */
  add(fragment: IpFragment, frame: number, tsMs: number, abandoned: AbandonedDatagram[]): ReassemblyResult {
    this.expire(tsMs, abandoned);
    let entry = this.pending.get(fragment.key);
    const done = entry === undefined ? this.completed.get(fragment.key) : undefined;
    if (done !== undefined) {
      const end = fragment.offset + fragment.data.length;
      const isCopy =
        tsMs - done.tsMs <= this.limits.timeoutMs &&
        end <= done.payload.length &&
        done.payload.subarray(fragment.offset, end).equals(fragment.data);
      if (isCopy) return { kind: 'pending' };
      this.completed.delete(fragment.key);
    }
    if (entry === undefined) {
      if (this.pending.size >= this.limits.maxPending) this.evictOldest(abandoned);
      entry = {
        firstFrame: frame,
        firstTsMs: tsMs,
        ipVersion: fragment.ipVersion,
        src: fragment.src,
        dst: fragment.dst,
        parts: [],
        received: 0,
        totalLength: null,
        nextHeader: null,
        dead: false,
      };
      this.pending.set(fragment.key, entry);
    }
    if (entry.dead) return { kind: 'pending' };

    const { offset, data } = fragment;
    const end = offset + data.length;
    const fail = (kind: 'overlap' | 'too-large', detail: string): ReassemblyResult => {
      (entry as Pending).dead = true;
      (entry as Pending).parts = [];
      return { kind, detail };
    };
    if (end > MAX_PAYLOAD) return fail('too-large', `fragment ends at byte ${end}, beyond ${MAX_PAYLOAD}`);
    if (entry.parts.length >= MAX_PARTS) return fail('too-large', `more than ${MAX_PARTS} fragments`);
    if (!fragment.more) {
      if (entry.totalLength !== null && entry.totalLength !== end) {
        return fail('overlap', `last fragments disagree on the length (${entry.totalLength} and ${end})`);
      }
      entry.totalLength = end;
    }
    if (entry.totalLength !== null && end > entry.totalLength) {
      return fail(
        'overlap',
        `fragment ends at byte ${end}, after the last fragment's end ${entry.totalLength}`,
      );
    }
    // Overlapping fragments are refused unless they repeat the same bytes (a duplicated packet):
    // RFC 5722 forbids reassembling IPv6 overlaps, and for IPv4 they are an evasion trick.
    for (const part of entry.parts) {
      const from = Math.max(offset, part.offset);
      const to = Math.min(end, part.offset + part.data.length);
      if (from < to) {
        const mine = data.subarray(from - offset, to - offset);
        const theirs = part.data.subarray(from - part.offset, to - part.offset);
        if (!mine.equals(theirs))
          return fail('overlap', `fragments overlap with different bytes at ${from}..${to}`);
      }
    }
    entry.parts.push({ offset, data });
    entry.received += data.length;
    if (offset === 0) entry.nextHeader = fragment.nextHeader;

    if (entry.totalLength === null || entry.nextHeader === null || entry.received < entry.totalLength) {
      return { kind: 'pending' };
    }
    const parts = [...entry.parts].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const part of parts) {
      if (part.offset > covered) return { kind: 'pending' };
      covered = Math.max(covered, part.offset + part.data.length);
    }
    if (covered < entry.totalLength) return { kind: 'pending' };
    const payload = Buffer.alloc(entry.totalLength);
    for (const part of parts) part.data.copy(payload, part.offset);
    this.pending.delete(fragment.key);
    this.completed.delete(fragment.key);
    this.completed.set(fragment.key, { tsMs, payload });
    if (this.completed.size > RECENT_COMPLETED) {
      const oldest = this.completed.keys().next();
      if (oldest.done !== true) this.completed.delete(oldest.value);
    }
    return {
      kind: 'complete',
      ipVersion: entry.ipVersion,
      src: entry.src,
      dst: entry.dst,
      nextHeader: entry.nextHeader,
      payload,
    };
  }

  /** Gives up every datagram still waiting for fragments (end of the capture). */
  flush(abandoned: AbandonedDatagram[]): void {
    for (const entry of this.pending.values()) this.abandon(entry, 'capture ended', abandoned);
    this.pending.clear();
    this.completed.clear();
  }

  private expire(tsMs: number, abandoned: AbandonedDatagram[]): void {
    // Map order is arrival order, so the oldest come first and the scan stops at the first young one.
    for (const [key, entry] of this.pending) {
      if (tsMs - entry.firstTsMs <= this.limits.timeoutMs) break;
      this.pending.delete(key);
      this.abandon(entry, `no complete set of fragments within ${this.limits.timeoutMs} ms`, abandoned);
    }
  }

  private evictOldest(abandoned: AbandonedDatagram[]): void {
    const first = this.pending.entries().next();
    if (first.done === true) return;
    const [key, entry] = first.value;
    this.pending.delete(key);
    this.abandon(entry, `more than ${this.limits.maxPending} datagrams waiting for fragments`, abandoned);
  }

  private abandon(entry: Pending, why: string, abandoned: AbandonedDatagram[]): void {
    if (entry.dead) return;
    const got = entry.parts.reduce((n, p) => n + p.data.length, 0);
    abandoned.push({
      frame: entry.firstFrame,
      detail: `IPv${entry.ipVersion} ${entry.src} -> ${entry.dst}: ${entry.parts.length} fragments, ${got} bytes: ${why}`,
    });
  }
}

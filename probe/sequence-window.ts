// ESP sequence accounting for one SA, in the manner of the receiver's anti-replay window
// (RFC 4303 §3.4.3): a window of `size` numbers ending at the highest number seen. A number is
// lost only when it leaves the window unseen, which is also when the receiver would stop
// accepting it; a late packet inside the window fills its gap and counts as out of order; a
// number seen twice is a duplicate, counted and never subtracted from anything. The 32-bit
// numbers on the wire are extended to 64 bits as RFC 4303 appendix A / RFC 4304 §2 infer the
// high-order bits, so an SA with ESN crosses 2^32 without a jump. A sequence that starts over
// (a rekey reusing the SPI, a rebooted peer) is a new generation, not 4 billion lost packets.

/** RFC 4303 §3.4.3: 32 is the minimum, 64 the default; we default to 1024 (Linux's replay-window maximum is larger). */
export const DEFAULT_WINDOW_SIZE = 1024;

const TWO_32 = 2 ** 32;
const HALF_SPACE = 2 ** 31;
/** A sequence that starts over begins at 1 (RFC 4303 §3.3.3); reordering may put a few others first. */
const RESTART_CEILING = 64;

/** What one packet was to the window. */
export const SeqVerdict = {
  /** The highest number so far: the window moved up. */
  Advance: 0,
  /** Inside the window, not seen before: a late packet that filled its gap. */
  Late: 1,
  /** Already seen. */
  Duplicate: 2,
  /** Below the window: its number was already counted lost (the receiver drops it too). */
  TooLate: 3,
  /** Held: it may be the start of a new generation (see `restartConfirm`). */
  Held: 4,
  /** A new generation began; the held packets and this one belong to it. */
  Restart: 5,
} as const;
export type SeqVerdict = (typeof SeqVerdict)[keyof typeof SeqVerdict];

/** Slot states of the window: unseen, seen, or counted lost when a generation was settled. */
const UNSEEN = 0;
const SEEN = 1;
const SETTLED = 2;

export interface SequenceCounters {
  /** Numbers that left the window unseen (and, when a generation ended, gaps below its top). */
  lost: number;
  duplicates: number;
  /** Late packets inside the window plus those below it. */
  outOfOrder: number;
  /** Distinct numbers seen. */
  unique: number;
}

export interface SequenceWindowOptions {
  readonly size?: number;
  /**
   * Packets in a row that must look like a fresh start (at most half the highest number, each
   * above the one before) before a restart is believed; a few network duplicates never are.
   */
  readonly restartConfirm?: number;
}

/**
 * One generation's window. `observe` returns a verdict per packet and keeps running counters;
 * callers read deltas of `counters` between flow exports.
 */
export class SequenceWindow {
  readonly size: number;
  readonly counters: SequenceCounters = { lost: 0, duplicates: 0, outOfOrder: 0, unique: 0 };
  /** Highest 64-bit number seen, -1 before the first packet. */
  top = -1;
  /** Lowest number seen: numbers below it were never expected (the SA began before the capture). */
  lowest = -1;
  /** The 64-bit number of the last packet observed (valid after `observe`). */
  last = -1;
  /** Told of every number counted lost (`count` consecutive numbers from `from`), as it happens. */
  onLost: ((from: number, count: number) => void) | null = null;
  readonly #seen: Uint8Array;

  constructor(size: number = DEFAULT_WINDOW_SIZE) {
    if (!Number.isInteger(size) || size < 1 || size > 1 << 24) {
      throw new RangeError(`window size ${size} must be an integer from 1 to 2^24`);
    }
    this.size = size;
    this.#seen = new Uint8Array(size);
  }

  /** RFC 4303 appendix A: the 64-bit number `seq32` most plausibly is, given the window. */
  extend(seq32: number): number {
    if (this.top < 0) return seq32;
    const w = this.size;
    const tl = this.top % TWO_32;
    const th = (this.top - tl) / TWO_32;
    if (tl >= w - 1) {
      // Window within one epoch: numbers below its bottom are taken as the next epoch, unless
      // that would be a jump of more than half the number space: a sequence that starts over
      // (or a very late packet) is not 2^32 numbers of progress.
      if (seq32 >= tl - w + 1) return th * TWO_32 + seq32;
      const next = (th + 1) * TWO_32 + seq32;
      return next - this.top > HALF_SPACE ? th * TWO_32 + seq32 : next;
    }
    // Window straddles an epoch boundary: numbers above the wrap belong to the previous epoch.
    if (th > 0 && seq32 >= TWO_32 - (w - 1 - tl)) return (th - 1) * TWO_32 + seq32;
    return th * TWO_32 + seq32;
  }

  /**
   * What `seq64` would be without changing anything: Advance, Late, Duplicate or TooLate.
   */
  classify(seq64: number): SeqVerdict {
    if (this.top < 0 || seq64 > this.top) return SeqVerdict.Advance;
    if (seq64 <= this.top - this.size) return SeqVerdict.TooLate;
    const state = this.#seen[seq64 % this.size];
    if (state === SEEN) return SeqVerdict.Duplicate;
    return state === SETTLED ? SeqVerdict.TooLate : SeqVerdict.Late;
  }

  /** Applies a packet with 64-bit number `seq64`; returns its verdict. */
  observe(seq64: number): SeqVerdict {
    this.last = seq64;
    const c = this.counters;
    const w = this.size;
    if (this.top < 0) {
      this.top = seq64;
      this.lowest = seq64;
      this.#seen[seq64 % w] = SEEN;
      c.unique++;
      return SeqVerdict.Advance;
    }
    if (seq64 > this.top) {
      this.#slide(seq64);
      this.#seen[seq64 % w] = SEEN;
      c.unique++;
      return SeqVerdict.Advance;
    }
    if (seq64 <= this.top - w) {
      c.outOfOrder++;
      return SeqVerdict.TooLate;
    }
    const i = seq64 % w;
    const state = this.#seen[i];
    if (state === SEEN) {
      c.duplicates++;
      return SeqVerdict.Duplicate;
    }
    if (state === SETTLED) {
      c.outOfOrder++;
      return SeqVerdict.TooLate;
    }
    this.#seen[i] = SEEN;
    // Below the first number seen: the numbers in between become gaps the window watches.
    if (seq64 < this.lowest) this.lowest = seq64;
    c.unique++;
    c.outOfOrder++;
    return SeqVerdict.Late;
  }

  /** Counts a duplicate or too-late packet whose verdict was decided earlier (a held packet given back). */
  count(verdict: SeqVerdict): void {
    if (verdict === SeqVerdict.Duplicate) this.counters.duplicates++;
    else if (verdict === SeqVerdict.TooLate) this.counters.outOfOrder++;
  }

  /** Moves the window's top to `next`, counting every number that leaves it unseen. */
  #slide(next: number): void {
    const w = this.size;
    const seen = this.#seen;
    const oldTop = this.top;
    // Numbers oldTop-w+1 .. next-w leave the window (only those at or above `lowest` count).
    const leaveFrom = Math.max(oldTop - w + 1, this.lowest);
    const leaveTo = next - w;
    if (next - oldTop >= w) {
      // The whole window leaves: count its unseen numbers, then every number skipped over.
      for (let n = leaveFrom; n <= oldTop; n++) if (seen[n % w] === UNSEEN) this.#lost(n, 1);
      const skippedTo = Math.min(leaveTo, next - 1);
      if (skippedTo > oldTop) this.#lost(oldTop + 1, skippedTo - oldTop);
      seen.fill(UNSEEN);
    } else {
      for (let n = leaveFrom; n <= leaveTo; n++) {
        const i = n % w;
        if (seen[i] === UNSEEN) this.#lost(n, 1);
      }
      // Slots of the numbers that left are the slots of oldTop+1 .. next: clear them.
      for (let n = oldTop + 1; n <= next; n++) seen[n % w] = UNSEEN;
    }
    this.top = next;
  }

  /**
   * Ends the generation (idle SA, end of capture, restart): every number between the lowest
   * and the highest seen that is still unseen is lost. Afterwards the window still knows its
   * top, so a packet arriving later counts as too late rather than as new.
   */
  settle(): void {
    if (this.top < 0) return;
    const w = this.size;
    const from = Math.max(this.top - w + 1, this.lowest);
    for (let n = from; n < this.top; n++) {
      const i = n % w;
      // Marked, so that they do not count again when they leave the window.
      if (this.#seen[i] === UNSEEN) {
        this.#lost(n, 1);
        this.#seen[i] = SETTLED;
      }
    }
  }

  #lost(from: number, count: number): void {
    this.counters.lost += count;
    this.onLost?.(from, count);
  }
}

/** A packet held while a restart is being confirmed. */
interface Held {
  readonly seq64: number;
  /** What the packet is to the current generation, applied if the restart is not confirmed. */
  readonly verdict: SeqVerdict;
}

/**
 * The sequence state of one SA across generations. `observe` takes the 32-bit number from the
 * wire; a `Restart` verdict means the previous generation ended (and was settled) and the
 * packets held since `heldCount()` before it now belong to the new one.
 */
export class SaSequence {
  window: SequenceWindow;
  generation = 0;
  readonly #size: number;
  readonly #confirm: number;
  #held: Held[] = [];
  /** Counters of the generations that ended, so totals survive a restart. */
  readonly #ended: SequenceCounters = { lost: 0, duplicates: 0, outOfOrder: 0, unique: 0 };

  #onLost: ((from: number, count: number) => void) | null = null;

  constructor(options: SequenceWindowOptions = {}) {
    this.#size = options.size ?? DEFAULT_WINDOW_SIZE;
    this.#confirm = options.restartConfirm ?? 3;
    this.window = new SequenceWindow(this.#size);
  }

  /** Told of every number counted lost, in every generation (see SequenceWindow.onLost). */
  set onLost(fn: ((from: number, count: number) => void) | null) {
    this.#onLost = fn;
    this.window.onLost = fn;
  }

  /** Packets held, waiting for a restart to be confirmed or given back. */
  heldCount(): number {
    return this.#held.length;
  }

  observe(seq32: number): SeqVerdict {
    const w = this.window;
    const seq64 = w.extend(seq32 >>> 0);
    const verdict = w.classify(seq64);
    if (verdict === SeqVerdict.Advance || verdict === SeqVerdict.Late) {
      // A packet that fits the current generation: whatever was held was not a restart.
      this.#giveBack();
      return w.observe(seq64);
    }
    // A duplicate or too-late packet: an ordinary one, or the first of a new generation.
    const held = this.#held;
    // A fresh start begins near 1 (reordering may deliver 2 or 3 first), well below the top;
    // what follows it climbs by less than a window each time.
    const lastHeld = held.length === 0 ? -1 : held[held.length - 1]!.seq64;
    const fresh =
      held.length === 0
        ? seq32 <= RESTART_CEILING && seq32 * 2 <= w.top && seq64 < w.top - 1
        : seq32 > lastHeld && seq32 - lastHeld <= this.#size;
    if (!fresh) {
      this.#giveBack();
      w.count(verdict);
      w.last = seq64;
      return verdict;
    }
    held.push({ seq64: seq32, verdict });
    if (held.length < this.#confirm) return SeqVerdict.Held;
    this.#restart();
    return SeqVerdict.Restart;
  }

  /** Counters of every generation so far, the current one included. */
  totals(): SequenceCounters {
    const c = this.window.counters;
    const e = this.#ended;
    return {
      lost: e.lost + c.lost,
      duplicates: e.duplicates + c.duplicates,
      outOfOrder: e.outOfOrder + c.outOfOrder,
      unique: e.unique + c.unique,
    };
  }

  /** Ends what is pending: held packets are given back, the window settled. */
  settle(): void {
    this.#giveBack();
    this.window.settle();
  }

  #giveBack(): void {
    if (this.#held.length === 0) return;
    for (const h of this.#held) this.window.count(h.verdict);
    this.#held = [];
  }

  #restart(): void {
    const old = this.window;
    old.settle();
    const e = this.#ended;
    e.lost += old.counters.lost;
    e.duplicates += old.counters.duplicates;
    e.outOfOrder += old.counters.outOfOrder;
    e.unique += old.counters.unique;
    this.window = new SequenceWindow(this.#size);
    this.window.onLost = this.#onLost;
    this.generation++;
    for (const h of this.#held) this.window.observe(h.seq64);
    this.#held = [];
  }
}

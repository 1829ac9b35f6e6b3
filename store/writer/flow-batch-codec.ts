import { canonicalIpv4 } from '../../model/address-parse.js';
import { ipv4TextOf } from '../../model/address-text.js';
import type { NormalizedFlow } from '../../model/flow.js';
import { ADDRESS_COUNT, addressSlotOf, INTEGER_COUNT, TEXT_COUNT } from '../flows/flow-columns.js';
import { IPV4_TEXT } from '../flows/flow-columns-view.js';
import type { FlowColumnsView } from '../flows/flow-columns-view.js';
import { toStoredInteger } from '../bigint-policy.js';

/**
 * Flows on their way to the writer's worker, in a compact columnar form.
 *
 * Posting an array of flow objects to a worker structured-clones ~45 properties per
 * object; this form moves the numbers in one Float64Array whose buffer is transferred
 * (not copied), and the strings once each in a small dictionary: addresses, kinds and
 * tunnel ids repeat a lot within a batch. test/bench/store.ts measures both.
 *
 * `integers[row * INTEGER_COUNT + i]` holds FLOW_INTEGER_COLUMNS[i] (NaN = null) and
 * `texts[row * TEXT_COUNT + j]` the dictionary index of FLOW_TEXT_COLUMNS[j] (-1 = null).
 * An IPv4 source or destination is no string at all: its text entry is IPV4_TEXT and
 * `ipv4[row * ADDRESS_COUNT]` (source) or `ipv4[row * ADDRESS_COUNT + 1]` (destination) holds its value. Most
 * flows' addresses are IPv4 and many are seen once, so that is a parse of a short
 * string instead of a lookup in (and growth of) a dictionary of hundreds of thousands,
 * and nothing for the writer to remap, store as text or send across threads.
 * (A text that is not the canonical dotted quad stays a string, so it reads back as sent.)
 */
export interface EncodedFlows {
  readonly rows: number;
  readonly integers: Float64Array;
  readonly texts: Int32Array;
  readonly ipv4: Uint32Array;
  readonly strings: readonly string[];
  /**
   * On the way to the writer only: `strings` holds the dictionary's entries from this index
   * on, the earlier ones came with earlier batches (FlowBatchEncoder keeps its dictionary
   * from batch to batch; FlowDictionaryMirror puts it back together). 0 or absent: `strings`
   * is the whole dictionary, as every sink expects it.
   */
  readonly stringBase?: number;
}

/**
 * Strings the encoder's dictionary holds at most before it starts afresh (the next batch
 * then carries its strings from index 0). Addresses repeat from batch to batch, so a
 * dictionary kept across batches makes most lookups hits and sends each string once;
 * the limit bounds the memory on both sides (~20 MB of strings at worst).
 */
export const DICTIONARY_LIMIT = 262_144;

/** Pairs of given-back arrays an encoder keeps at most. */
const POOL_LIMIT = 4;

/** Builds an EncodedFlows batch row by row; `seal()` hands it over and starts afresh. */
export class FlowBatchEncoder {
  #capacity: number;
  #rows = 0;
  #integers: Float64Array;
  #texts: Int32Array;
  #ipv4: Uint32Array;
  #strings: string[] = [];
  #dictionary = new Map<string, number>();
  /** Arrays given back by the writer, ready to fill. */
  readonly #pool: Array<{ integers: Float64Array; texts: Int32Array; ipv4: Uint32Array }> = [];
  /** Dictionary entries already sent with earlier batches. */
  #sentStrings = 0;
  #lastText: Array<string | null> = new Array<string | null>(TEXT_COUNT).fill(null);
  readonly #lastIndex = new Int32Array(TEXT_COUNT);

  constructor(initialCapacity = 1024) {
    this.#capacity = Math.max(1, initialCapacity);
    this.#integers = new Float64Array(this.#capacity * INTEGER_COUNT);
    this.#texts = new Int32Array(this.#capacity * TEXT_COUNT);
    this.#ipv4 = new Uint32Array(this.#capacity * ADDRESS_COUNT);
  }

  get rows(): number {
    return this.#rows;
  }

  /** Appends one flow. Integers follow store/bigint-policy.ts. */
  add(flow: NormalizedFlow): void {
    if (this.#rows === this.#capacity) this.#grow();
    const n = this.#integers;
    let i = this.#rows * INTEGER_COUNT;
    // Written out field by field, in FLOW_INTEGER_COLUMNS order: this loop runs for
    // every flow on the receiving thread, where a generic keyed loop costs twice as much.
    // null is NaN here; settleIntegers then applies the rest of store/bigint-policy.ts to the
    // row, while it is in the first-level cache (at the seal, over the whole batch, it cost
    // twice as much).
    n[i++] = flow.domainId ?? NaN;
    n[i++] = flow.version ?? NaN;
    n[i++] = flow.templateId ?? NaN;
    n[i++] = flow.receivedMs ?? NaN;
    n[i++] = flow.startMs ?? NaN;
    n[i++] = flow.endMs ?? NaN;
    n[i++] = flow.ipVersion ?? NaN;
    n[i++] = flow.proto ?? NaN;
    n[i++] = flow.srcPort ?? NaN;
    n[i++] = flow.dstPort ?? NaN;
    n[i++] = flow.spi ?? NaN;
    n[i++] = flow.packets ?? NaN;
    n[i++] = flow.octets ?? NaN;
    n[i++] = flow.rawPackets ?? NaN;
    n[i++] = flow.rawOctets ?? NaN;
    n[i++] = flow.samplingRate ?? NaN;
    n[i++] = flow.tcpFlags ?? NaN;
    n[i++] = flow.tos ?? NaN;
    n[i++] = flow.icmpType ?? NaN;
    n[i++] = flow.icmpCode ?? NaN;
    n[i++] = flow.fragmentId ?? NaN;
    n[i++] = flow.fragmentOffset ?? NaN;
    n[i++] = flow.fragmentFlags ?? NaN;
    n[i++] = flow.inIf ?? NaN;
    n[i++] = flow.outIf ?? NaN;
    n[i++] = flow.flowDirection ?? NaN;
    n[i++] = flow.reportedLoss ?? NaN;
    n[i++] = flow.espSeqFirst ?? NaN;
    n[i++] = flow.espSeqLast ?? NaN;
    n[i++] = flow.validatedLoss ?? NaN;
    settleIntegers(n, i - INTEGER_COUNT, i);
    const t = this.#texts;
    const j = this.#rows * TEXT_COUNT;
    // FLOW_TEXT_COLUMNS order.
    t[j] = this.#text(0, flow.exporter);
    // A broken producer's missing address goes to #text, which makes it null.
    const src = ipv4Of(flow.src, flow.srcIpv4);
    if (src >= 0) {
      this.#ipv4[this.#rows * ADDRESS_COUNT] = src;
      t[j + 1] = IPV4_TEXT;
    } else t[j + 1] = this.#text(1, flow.src);
    const dst = ipv4Of(flow.dst, flow.dstIpv4);
    if (dst >= 0) {
      this.#ipv4[this.#rows * ADDRESS_COUNT + 1] = dst;
      t[j + 2] = IPV4_TEXT;
    } else t[j + 2] = this.#text(2, flow.dst);
    t[j + 3] = this.#text(3, flow.kind);
    t[j + 4] = this.#text(4, flow.tunnelId);
    t[j + 5] = this.#text(5, flow.saId);
    t[j + 6] = this.#text(6, flow.tunnelDirection);
    t[j + 7] = this.#text(7, flow.lossClearedReason);
    this.#rows += 1;
  }

  /**
   * The rows added so far, trimmed to size; the encoder is empty afterwards. With
   * `keepDictionary` (the writer's stream of batches) the dictionary stays for the next
   * batch, which then carries only the strings new to it (`stringBase`); the receiver must
   * see every batch, in order, through a FlowDictionaryMirror.
   */
  seal(keepDictionary = false): EncodedFlows {
    const rows = this.#rows;
    const base = this.#sentStrings;
    // The encoder's own arrays go with the batch (views of their first rows); it goes on
    // with arrays the writer gave back (recycle()), or new ones. A fresh 5 MB array per
    // batch measured ~0.5 µs per row on the receiving thread in page faults alone.
    const batch: EncodedFlows = {
      rows,
      integers: this.#integers.subarray(0, rows * INTEGER_COUNT),
      texts: this.#texts.subarray(0, rows * TEXT_COUNT),
      ipv4: this.#ipv4.subarray(0, rows * ADDRESS_COUNT),
      // A copy even from 0: the encoder goes on adding to its own array.
      strings: keepDictionary ? this.#strings.slice(base) : this.#strings,
      stringBase: base,
    };
    this.#takeArrays();
    this.#rows = 0;
    if (keepDictionary && this.#strings.length < DICTIONARY_LIMIT) {
      this.#sentStrings = this.#strings.length;
    } else {
      this.#sentStrings = 0;
      this.#strings = [];
      this.#dictionary = new Map();
      this.#lastText = new Array<string | null>(TEXT_COUNT).fill(null);
    }
    return batch;
  }

  /**
   * Gives back the buffers of a batch the writer is done with (transferred back from its
   * thread), for the next batches to fill instead of new ones.
   */
  recycle(integers: ArrayBuffer, texts: ArrayBuffer, ipv4: ArrayBuffer): void {
    const capacity = Math.min(
      integers.byteLength / 8 / INTEGER_COUNT,
      texts.byteLength / 4 / TEXT_COUNT,
      ipv4.byteLength / 4 / ADDRESS_COUNT,
    );
    if (capacity < this.#capacity || this.#pool.length >= POOL_LIMIT) return;
    this.#pool.push({
      integers: new Float64Array(integers),
      texts: new Int32Array(texts),
      ipv4: new Uint32Array(ipv4),
    });
  }

  #takeArrays(): void {
    const reused = this.#pool.pop();
    if (reused !== undefined) {
      this.#capacity = Math.min(
        reused.integers.length / INTEGER_COUNT,
        reused.texts.length / TEXT_COUNT,
        reused.ipv4.length / ADDRESS_COUNT,
      );
      this.#integers = reused.integers;
      this.#texts = reused.texts;
      this.#ipv4 = reused.ipv4;
      return;
    }
    this.#integers = new Float64Array(this.#capacity * INTEGER_COUNT);
    this.#texts = new Int32Array(this.#capacity * TEXT_COUNT);
    this.#ipv4 = new Uint32Array(this.#capacity * ADDRESS_COUNT);
  }

  #text(column: number, value: string | null | undefined): number {
    if (value === null || value === undefined) return -1;
    // Consecutive flows mostly repeat their exporter, kind and tunnel: compare with the
    // previous row's value before hashing the string.
    if (value === this.#lastText[column]) return this.#lastIndex[column]!;
    let index = this.#dictionary.get(value);
    if (index === undefined) {
      index = this.#strings.length;
      this.#strings.push(value);
      this.#dictionary.set(value, index);
    }
    this.#lastText[column] = value;
    this.#lastIndex[column] = index;
    return index;
  }

  #grow(): void {
    this.#capacity *= 2;
    const integers = new Float64Array(this.#capacity * INTEGER_COUNT);
    integers.set(this.#integers);
    this.#integers = integers;
    const texts = new Int32Array(this.#capacity * TEXT_COUNT);
    texts.set(this.#texts);
    this.#texts = texts;
    const ipv4 = new Uint32Array(this.#capacity * ADDRESS_COUNT);
    ipv4.set(this.#ipv4);
    this.#ipv4 = ipv4;
  }
}

/**
 * The receiving side of a FlowBatchEncoder's kept dictionary: gives each batch, taken in
 * the order sealed, its whole dictionary back. A batch starting a fresh dictionary
 * (`stringBase` 0) gets a new array, so batches still queued keep the one they came with.
 */
export class FlowDictionaryMirror {
  #strings: string[] = [];

  restore(batch: EncodedFlows): EncodedFlows {
    const base = batch.stringBase ?? 0;
    if (base === 0) {
      this.#strings = [...batch.strings];
    } else {
      if (base !== this.#strings.length) {
        throw new Error(
          `flow batch continues a dictionary of ${base} strings, the writer holds ${this.#strings.length}`,
        );
      }
      for (const text of batch.strings) this.#strings.push(text);
    }
    return {
      rows: batch.rows,
      integers: batch.integers,
      texts: batch.texts,
      ipv4: batch.ipv4,
      strings: this.#strings,
    };
  }
}

/** Encodes a whole array at once (tests, benchmarks, the inline writer). */
export function encodeFlows(flows: readonly NormalizedFlow[]): EncodedFlows {
  const encoder = new FlowBatchEncoder(flows.length);
  for (const flow of flows) encoder.add(flow);
  return encoder.seal();
}

/** A batch read column by column (row-major underneath), e.g. by a filter predicate. */
export function encodedFlowsView(batch: EncodedFlows): FlowColumnsView {
  const { integers, texts } = batch;
  return {
    rows: batch.rows,
    strings: batch.strings,
    integer: (column, row) => integers[row * INTEGER_COUNT + column]!,
    text: (column, row) => texts[row * TEXT_COUNT + column]!,
    ipv4: (column, row) => encodedIpv4(batch, row, column),
  };
}

/** The IPv4 value of an address column a batch holds as a number, or -1. */
function encodedIpv4(batch: EncodedFlows, row: number, column: number): number {
  if (batch.texts[row * TEXT_COUNT + column] !== IPV4_TEXT) return -1;
  const slot = addressSlotOf(column);
  return slot < 0 ? -1 : batch.ipv4[row * ADDRESS_COUNT + slot]!;
}

/** The text of a text column of a batch's row (an IPv4 address formatted back), or null. */
export function encodedText(batch: EncodedFlows, row: number, column: number): string | null {
  const index = batch.texts[row * TEXT_COUNT + column]!;
  if (index >= 0) return batch.strings[index]!;
  const ipv4 = index === IPV4_TEXT ? encodedIpv4(batch, row, column) : -1;
  return ipv4 < 0 ? null : ipv4TextOf(ipv4);
}

/** Buffers to list as transferables when posting a batch (and when giving them back). */
export function transferablesOf(batch: EncodedFlows): ArrayBuffer[] {
  return [
    batch.integers.buffer as ArrayBuffer,
    batch.texts.buffer as ArrayBuffer,
    batch.ipv4.buffer as ArrayBuffer,
  ];
}

/**
 * The number of a canonical IPv4 address text, or -1. The producer's number for it comes
 * first, believed when it formats to the very text (a cache hit, the same string): parsing
 * the text again cost more than the rest of the address handling.
 */
function ipv4Of(text: string | null | undefined, hint: number | undefined): number {
  if (typeof text !== 'string') return -1;
  if (hint !== undefined && hint >= 0 && ipv4TextOf(hint) === text) return hint;
  return canonicalIpv4(text);
}

/**
 * The integers `values[from, to)` as store/bigint-policy.ts has them (toStoredInteger: past
 * the safe range a value saturates, a fraction rounds); NaN stays null. One loop over a row
 * `add` has just written, so that `add` stores each field with no call (a helper per field
 * was inlined at 2 of its 30 sites); the policy's own function runs only for the rare value
 * that needs it.
 */
function settleIntegers(values: Float64Array, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const v = values[k]!;
    if (Number.isSafeInteger(v) || v !== v) continue;
    values[k] = toStoredInteger(v) ?? NaN;
  }
}

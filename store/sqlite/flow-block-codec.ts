import { ipv4TextOf } from '../../model/address-text.js';
import {
  ADDRESS_COUNT,
  ADDRESS_TEXT_INDEXES,
  addressSlotOf,
  END_MS_INDEX,
  INTEGER_COUNT,
  RECEIVED_MS_INDEX,
  START_MS_INDEX,
  TEXT_COUNT,
} from '../flows/flow-columns.js';
import { IPV4_TEXT } from '../flows/flow-columns-view.js';
import type { FlowColumnsView } from '../flows/flow-columns-view.js';
import type { EncodedFlows } from '../writer/flow-batch-codec.js';

/**
 * The SQLite engine's form of raw flows on disk: a block of flows in one BLOB, column by
 * column, each column packed to the narrowest integers that hold it.
 *
 * A batch from the writer's queue is already columnar (EncodedFlows: the numbers in one
 * Float64Array, the strings once each in a dictionary), so a block is that batch with
 * each column squeezed: a column that is null in every row (ICMP fields on ESP flows)
 * takes one byte, a constant one (the exporter, the sampling rate) nine, and the others
 * their offsets from the column's minimum in 1, 2 or 4 bytes (times within a batch
 * span seconds; ports fit 2 bytes), plus a null bitmap when some rows are null. Text
 * columns hold indexes into the block's own dictionary the same way. A typical flow takes ~40 bytes instead
 * of the ~200 of a B-tree row and its two index entries, and is written with one
 * statement per few thousand flows instead of one bound row each.
 *
 * IPv4 source and destination addresses are two more integer columns, their 32-bit values
 * (the batch holds them so, EncodedFlows.ipv4); the `src`/`dst` text columns then hold only
 * the other addresses (IPv6), null where the address column has the value.
 *
 * Layout (little-endian, every section starts on an 8-byte boundary so that readers
 * view it in place): header {u8 format, u8 0, u16 integer columns, u16 text columns,
 * u16 address columns, u32 rows, u32 dictionary bytes}, then the id offsets (a column;
 * absent when ids are consecutive), the integer columns, the text columns, the IPv4
 * address columns (source, destination), and the dictionary as UTF-8 JSON. Each
 * column: {u8 packing, u8 width, u8 nullable, 5 × 0}, then its f64 base and payload
 * unless absent.
 *
 * Format 1 (stores written before IPv4 addresses were numbers) has no address columns
 * (its header's u16 is 0) and every address in the text columns; it is read as it is.
 */
export const BLOCK_FORMAT = 2;

/** Formats this version reads. */
const READABLE_FORMATS: readonly number[] = [1, 2];

const HEADER_BYTES = 16;

/** How one column is stored. */
const enum Packing {
  /** Every row null. */
  Absent = 0,
  /** One f64 for every row. */
  Constant = 1,
  /** f64 base, then width-byte offsets; a null bitmap first when `nullable`. */
  Packed = 2,
  /** Raw f64 per row (NaN = null): offsets too wide for 4 bytes. */
  Raw = 3,
}

const align8 = (n: number): number => (n + 7) & ~7;

/** A column gathered from the batch before packing. */
interface ColumnPlan {
  packing: Packing;
  base: number;
  width: 1 | 2 | 4;
  nullable: boolean;
  bytes: number;
}

const ABSENT: ColumnPlan = { packing: Packing.Absent, base: 0, width: 1, nullable: false, bytes: 8 };

function planColumn(rows: number, min: number, max: number, nulls: number): ColumnPlan {
  if (nulls === rows) return ABSENT;
  if (nulls === 0 && min === max)
    return { packing: Packing.Constant, base: min, width: 1, nullable: false, bytes: 16 };
  const span = max - min;
  if (span > 0xffffffff)
    return { packing: Packing.Raw, base: 0, width: 1, nullable: false, bytes: 16 + align8(rows * 8) };
  const width: 1 | 2 | 4 = span <= 0xff ? 1 : span <= 0xffff ? 2 : 4;
  const nullable = nulls > 0;
  return {
    packing: Packing.Packed,
    base: min,
    width,
    nullable,
    bytes: 16 + (nullable ? align8((rows + 7) >> 3) : 0) + align8(rows * width),
  };
}

/** Writes a column's header at `offset`; returns the offset of its payload (or of the next column). */
function writeHeader(view: DataView, offset: number, plan: ColumnPlan): number {
  view.setUint8(offset, plan.packing);
  view.setUint8(offset + 1, plan.width);
  view.setUint8(offset + 2, plan.nullable ? 1 : 0);
  if (plan.packing === Packing.Absent) return offset + 8;
  view.setFloat64(offset + 8, plan.base, true);
  return offset + 16;
}

/**
 * Writes one column gathered in `values` at `offset` of `out` (zeroed); returns the
 * offset after it. A null (NaN) minus the base stores as 0 in an integer array, which is
 * what a null row holds.
 */
function writeColumn(
  out: Uint8Array,
  view: DataView,
  offset: number,
  values: Float64Array,
  plan: ColumnPlan,
): number {
  const rows = values.length;
  let at = writeHeader(view, offset, plan);
  if (plan.packing === Packing.Absent || plan.packing === Packing.Constant) return at;
  if (plan.packing === Packing.Raw) {
    new Float64Array(out.buffer, out.byteOffset + at, rows).set(values);
    return at + align8(rows * 8);
  }
  if (plan.nullable) {
    for (let i = 0; i < rows; i += 1) if (values[i] === values[i]) out[at + (i >> 3)]! |= 1 << (i & 7);
    at += align8((rows + 7) >> 3);
  }
  const base = plan.base;
  const start = out.byteOffset + at;
  // One loop per width: a single store into three kinds of array measured ~3 times slower.
  if (plan.width === 1) {
    const target = new Uint8Array(out.buffer, start, rows);
    for (let i = 0; i < rows; i += 1) target[i] = values[i]! - base;
  } else if (plan.width === 2) {
    const target = new Uint16Array(out.buffer, start, rows);
    for (let i = 0; i < rows; i += 1) target[i] = values[i]! - base;
  } else {
    const target = new Uint32Array(out.buffer, start, rows);
    for (let i = 0; i < rows; i += 1) target[i] = values[i]! - base;
  }
  return at + align8(rows * plan.width);
}

/** Columns of a block: the id offsets, the integers, the texts, the IPv4 addresses. */
const COLUMNS = 1 + INTEGER_COUNT + TEXT_COUNT + ADDRESS_COUNT;

/** Columns gathered before packing: the id offsets, the texts, the IPv4 addresses. */
const GATHERED = COLUMNS - INTEGER_COUNT;
/** Where block column k (not an integer one) sits among the gathered ones. */
const gatheredAt = (k: number): number => (k === 0 ? 0 : k - INTEGER_COUNT);

/**
 * Rows gathered at a time. The batch is row-major: a whole pass per column strode through
 * all of it once for each of the 30 integer columns; a tile of rows stays in cache while
 * each of its columns is copied out.
 */
const TILE_ROWS = 64;

/** Scratch kept between calls: a block is packed many times a second. */
let scratch = new Float64Array(0);
let remapScratch = new Int32Array(0);
let output = new Uint8Array(0);
const mins = new Float64Array(COLUMNS);
const maxs = new Float64Array(COLUMNS);
const nullCounts = new Float64Array(COLUMNS);

/**
 * Packs rows `rows` of `flows` (in that order) into a block. `ids`, when given, are the
 * rows' flow ids as offsets from the block's first id (legacy rows converted with gaps);
 * without them the rows get consecutive ids.
 */
export function encodeBlock(
  flows: EncodedFlows,
  rows: ArrayLike<number>,
  ids?: ArrayLike<number>,
): Uint8Array {
  return encodeBlockTransient(flows, rows, ids).slice();
}

/** A block's time bounds, for its index row (the writer's flow_blocks columns). */
export interface BlockBounds {
  minEndMs: number;
  maxEndMs: number;
  minStartMs: number;
  maxReceivedMs: number;
  /** The longest flow, end minus start. */
  maxDurationMs: number;
}

/**
 * encodeBlock into a buffer the next call reuses: the block is valid until then (bind
 * it to a statement, which copies it, or copy it). A fresh zeroed buffer per block of a
 * few hundred kB measured ~12 % of packing it.
 */
export function encodeBlockTransient(
  flows: EncodedFlows,
  rows: ArrayLike<number>,
  ids?: ArrayLike<number>,
  bounds?: BlockBounds,
): Uint8Array {
  const count = rows.length;
  // The id, text and address columns gathered here first (NaN for null), the id column at
  // 0 and the others at gatheredAt(k) * count; the integer columns are packed from the
  // batch directly. Each step is its own function: one
  // long function was optimised (on stack) before its later loops had run, and bailed out.
  if (scratch.length < GATHERED * count) scratch = new Float64Array(GATHERED * count * 2);
  mins.fill(Infinity);
  maxs.fill(-Infinity);
  nullCounts.fill(0);
  if (ids === undefined) nullCounts[0] = count;
  else gatherIds(ids, count);
  const maxDurationMs = integerStats(flows.integers, rows);
  if (bounds !== undefined) {
    // From the pass over the integers the packing makes anyway: the writer's own pass over
    // the rows for these cost it as much as packing the integer columns.
    bounds.minEndMs = mins[1 + END_MS_INDEX]!;
    bounds.maxEndMs = maxs[1 + END_MS_INDEX]!;
    bounds.minStartMs = mins[1 + START_MS_INDEX]!;
    bounds.maxReceivedMs = maxs[1 + RECEIVED_MS_INDEX]!;
    bounds.maxDurationMs = maxDurationMs;
  }
  const strings = gatherTexts(flows, rows);
  gatherAddresses(flows, rows);
  const dictionary = Buffer.from(JSON.stringify(strings), 'utf8');
  return writeBlock(count, dictionary, flows.integers, rows);
}

function gatherIds(ids: ArrayLike<number>, count: number): void {
  const columns = scratch;
  let min = Infinity;
  let max = -Infinity;
  for (let r = 0; r < count; r += 1) {
    const v = ids[r]!;
    columns[r] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  mins[0] = min;
  maxs[0] = max;
}

/**
 * The integer columns' min, max and nulls, read a tile of rows at a time; returns the
 * rows' longest duration (end minus start, 0 at least).
 */
function integerStats(integers: Float64Array, rows: ArrayLike<number>): number {
  const count = rows.length;
  let maxDuration = 0;
  for (let first = 0; first < count; first += TILE_ROWS) {
    const last = Math.min(count, first + TILE_ROWS);
    for (let r = first; r < last; r += 1) {
      const at = rows[r]! * INTEGER_COUNT;
      const duration = integers[at + END_MS_INDEX]! - integers[at + START_MS_INDEX]!;
      if (duration > maxDuration) maxDuration = duration;
    }
    for (let c = 0; c < INTEGER_COUNT; c += 1) {
      const k = 1 + c;
      let min = mins[k]!;
      let max = maxs[k]!;
      let nulls = nullCounts[k]!;
      for (let r = first; r < last; r += 1) {
        const v = integers[rows[r]! * INTEGER_COUNT + c]!;
        if (v !== v) nulls += 1;
        else {
          if (v < min) min = v;
          if (v > max) max = v;
        }
      }
      mins[k] = min;
      maxs[k] = max;
      nullCounts[k] = nulls;
    }
  }
  return maxDuration;
}

/**
 * Packs the integer columns straight from the batch into the block, a tile of rows at a
 * time: `at[c]` is where column c's payload starts (its null bitmap, then its values).
 * Constant and all-null columns (most of a flow's: ICMP, fragments, sampling) have none.
 */
function writeIntegers(
  out: Uint8Array,
  integers: Float64Array,
  rows: ArrayLike<number>,
  plans: readonly ColumnPlan[],
  at: Int32Array,
): void {
  const count = rows.length;
  const columns: number[] = [];
  const bits: number[] = [];
  const bases: number[] = [];
  const widths: number[] = [];
  const narrow8: Uint8Array[] = [];
  const narrow16: Uint16Array[] = [];
  const narrow32: Uint32Array[] = [];
  const raw: Float64Array[] = [];
  const empty8 = new Uint8Array(0);
  const empty16 = new Uint16Array(0);
  const empty32 = new Uint32Array(0);
  const empty64 = new Float64Array(0);
  for (let c = 0; c < INTEGER_COUNT; c += 1) {
    const plan = plans[1 + c]!;
    if (plan.packing === Packing.Absent || plan.packing === Packing.Constant) continue;
    let start = at[c]!;
    bits.push(plan.nullable ? start : -1);
    if (plan.nullable) start += align8((count + 7) >> 3);
    const address = out.byteOffset + start;
    const width = plan.packing === Packing.Raw ? 8 : plan.width;
    columns.push(c);
    bases.push(plan.base);
    widths.push(width);
    narrow8.push(width === 1 ? new Uint8Array(out.buffer, address, count) : empty8);
    narrow16.push(width === 2 ? new Uint16Array(out.buffer, address, count) : empty16);
    narrow32.push(width === 4 ? new Uint32Array(out.buffer, address, count) : empty32);
    raw.push(width === 8 ? new Float64Array(out.buffer, address, count) : empty64);
  }
  for (let first = 0; first < count; first += TILE_ROWS) {
    const last = Math.min(count, first + TILE_ROWS);
    for (let i = 0; i < columns.length; i += 1) {
      const c = columns[i]!;
      const base = bases[i]!;
      const bitmap = bits[i]!;
      if (bitmap >= 0) {
        for (let r = first; r < last; r += 1) {
          const v = integers[rows[r]! * INTEGER_COUNT + c]!;
          if (v === v) out[bitmap + (r >> 3)]! |= 1 << (r & 7);
        }
      }
      // One loop per width, each storing into one kind of array (see writeColumn). A null
      // (NaN) minus the base stores as 0.
      switch (widths[i]) {
        case 1: {
          const target = narrow8[i]!;
          for (let r = first; r < last; r += 1) target[r] = integers[rows[r]! * INTEGER_COUNT + c]! - base;
          break;
        }
        case 2: {
          const target = narrow16[i]!;
          for (let r = first; r < last; r += 1) target[r] = integers[rows[r]! * INTEGER_COUNT + c]! - base;
          break;
        }
        case 4: {
          const target = narrow32[i]!;
          for (let r = first; r < last; r += 1) target[r] = integers[rows[r]! * INTEGER_COUNT + c]! - base;
          break;
        }
        default: {
          const target = raw[i]!;
          for (let r = first; r < last; r += 1) target[r] = integers[rows[r]! * INTEGER_COUNT + c]!;
        }
      }
    }
  }
}

/**
 * The text columns as indexes into the block's own dictionary, which keeps only the
 * strings its rows use, renumbered column by column in order of first use (each column's
 * indexes then span only its own strings); returns that dictionary.
 */
function gatherTexts(flows: EncodedFlows, rows: ArrayLike<number>): string[] {
  const columns = scratch;
  const count = rows.length;
  const texts = flows.texts;
  const batchStrings = flows.strings;
  // The batch's dictionary may be the writer's whole kept one (store/writer/
  // flow-batch-codec.ts): a remapping table sized to it is kept between calls and only
  // the entries this block touched are cleared afterwards.
  if (remapScratch.length < batchStrings.length) {
    remapScratch = new Int32Array(Math.max(batchStrings.length, remapScratch.length * 2)).fill(-1);
  }
  const remap = remapScratch;
  const strings: string[] = [];
  const used: number[] = [];
  for (let c = 0; c < TEXT_COUNT; c += 1) {
    const k = 1 + INTEGER_COUNT + c;
    const at = gatheredAt(k) * count;
    let nulls = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < count; r += 1) {
      const index = texts[rows[r]! * TEXT_COUNT + c]!;
      // Negative: null, or IPV4_TEXT (an address the address columns hold).
      if (index < 0) {
        columns[at + r] = NaN;
        nulls += 1;
        continue;
      }
      let local = remap[index]!;
      if (local < 0) {
        local = strings.length;
        strings.push(batchStrings[index]!);
        remap[index] = local;
        used.push(index);
      }
      columns[at + r] = local;
      if (local < min) min = local;
      if (local > max) max = local;
    }
    mins[k] = min;
    maxs[k] = max;
    nullCounts[k] = nulls;
  }
  for (const index of used) remap[index] = -1;
  return strings;
}

function gatherAddresses(flows: EncodedFlows, rows: ArrayLike<number>): void {
  const columns = scratch;
  const count = rows.length;
  const texts = flows.texts;
  const ipv4 = flows.ipv4;
  for (let a = 0; a < ADDRESS_COUNT; a += 1) {
    const k = 1 + INTEGER_COUNT + TEXT_COUNT + a;
    const at = gatheredAt(k) * count;
    const textColumn = ADDRESS_TEXT_INDEXES[a]!;
    let nulls = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < count; r += 1) {
      const row = rows[r]!;
      if (texts[row * TEXT_COUNT + textColumn] !== IPV4_TEXT) {
        columns[at + r] = NaN;
        nulls += 1;
        continue;
      }
      const value = ipv4[row * ADDRESS_COUNT + a]!;
      columns[at + r] = value;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    mins[k] = min;
    maxs[k] = max;
    nullCounts[k] = nulls;
  }
}

/** Where the integer columns' payloads start in the block being written. */
const integerPayloads = new Int32Array(INTEGER_COUNT);

/** The columns and `dictionary` as a block, in the reused output buffer. */
function writeBlock(
  count: number,
  dictionary: Uint8Array,
  integers: Float64Array,
  rows: ArrayLike<number>,
): Uint8Array {
  const plans: ColumnPlan[] = [];
  let size = HEADER_BYTES + align8(dictionary.length);
  for (let k = 0; k < COLUMNS; k += 1) {
    const plan = planColumn(count, mins[k]!, maxs[k]!, nullCounts[k]!);
    plans.push(plan);
    size += plan.bytes;
  }
  if (output.length < size) output = new Uint8Array(Math.max(size, output.length * 2));
  const out = output.subarray(0, size);
  out.fill(0);
  const view = new DataView(out.buffer, out.byteOffset, size);
  view.setUint8(0, BLOCK_FORMAT);
  view.setUint16(2, INTEGER_COUNT, true);
  view.setUint16(4, TEXT_COUNT, true);
  view.setUint16(6, ADDRESS_COUNT, true);
  view.setUint32(8, count, true);
  view.setUint32(12, dictionary.length, true);
  const columns = scratch;
  let offset = writeColumn(out, view, HEADER_BYTES, columns.subarray(0, count), plans[0]!);
  for (let c = 0; c < INTEGER_COUNT; c += 1) {
    const plan = plans[1 + c]!;
    integerPayloads[c] = writeHeader(view, offset, plan);
    offset += plan.bytes;
  }
  writeIntegers(out, integers, rows, plans, integerPayloads);
  for (let k = 1 + INTEGER_COUNT; k < COLUMNS; k += 1)
    offset = writeColumn(
      out,
      view,
      offset,
      columns.subarray(gatheredAt(k) * count, (gatheredAt(k) + 1) * count),
      plans[k]!,
    );
  out.set(dictionary, offset);
  return out;
}

/** One column of a decoded block, read in place. */
class BlockColumn {
  readonly #constant: number;
  readonly #base: number;
  readonly #values: Uint8Array | Uint16Array | Uint32Array | Float64Array | null;
  readonly #present: Uint8Array | null;

  constructor(
    constant: number,
    base: number,
    values: Uint8Array | Uint16Array | Uint32Array | Float64Array | null,
    present: Uint8Array | null,
  ) {
    this.#constant = constant;
    this.#base = base;
    this.#values = values;
    this.#present = present;
  }

  /** The row's value; NaN when null. */
  get(row: number): number {
    const values = this.#values;
    if (values === null) return this.#constant;
    const present = this.#present;
    if (present !== null && (present[row >> 3]! & (1 << (row & 7))) === 0) return NaN;
    return this.#base + values[row]!;
  }
}

/** A block read back: the rows' columns in place over the BLOB, and their flow ids. */
export class FlowBlock implements FlowColumnsView {
  readonly rows: number;
  readonly strings: readonly string[];
  readonly firstId: number;
  readonly #ids: BlockColumn;
  readonly #consecutive: boolean;
  readonly #integers: BlockColumn[];
  readonly #texts: BlockColumn[];
  /** IPv4 source and destination (format 2), or none (format 1). */
  readonly #addresses: BlockColumn[];

  constructor(firstId: number, blob: Uint8Array) {
    // Typed views need their element alignment; a BLOB from SQLite may start anywhere.
    const bytes = blob.byteOffset % 8 === 0 ? blob : new Uint8Array(blob);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const format = view.getUint8(0);
    if (!READABLE_FORMATS.includes(format))
      throw new Error(`flow block format ${format} is not known to this version`);
    const integerCount = view.getUint16(2, true);
    const textCount = view.getUint16(4, true);
    const addressCount = view.getUint16(6, true);
    const expectedAddresses = format === 1 ? 0 : ADDRESS_COUNT;
    if (integerCount !== INTEGER_COUNT || textCount !== TEXT_COUNT || addressCount !== expectedAddresses) {
      throw new Error(
        `flow block has ${integerCount}+${textCount}+${addressCount} columns, expected ${INTEGER_COUNT}+${TEXT_COUNT}+${expectedAddresses}`,
      );
    }
    const rows = view.getUint32(8, true);
    const dictionaryBytes = view.getUint32(12, true);
    this.rows = rows;
    this.firstId = firstId;
    let offset = HEADER_BYTES;
    const read = (): BlockColumn => {
      const packing = view.getUint8(offset) as Packing;
      const width = view.getUint8(offset + 1);
      const nullable = view.getUint8(offset + 2) === 1;
      if (packing === Packing.Absent) {
        offset += 8;
        return new BlockColumn(NaN, 0, null, null);
      }
      const base = view.getFloat64(offset + 8, true);
      offset += 16;
      if (packing === Packing.Constant) return new BlockColumn(base, 0, null, null);
      const at = bytes.byteOffset + offset;
      if (packing === Packing.Raw) {
        offset += align8(rows * 8);
        return new BlockColumn(NaN, 0, new Float64Array(bytes.buffer, at, rows), null);
      }
      let present: Uint8Array | null = null;
      if (nullable) {
        present = new Uint8Array(bytes.buffer, at, (rows + 7) >> 3);
        offset += align8((rows + 7) >> 3);
      }
      const start = bytes.byteOffset + offset;
      const values =
        width === 1
          ? new Uint8Array(bytes.buffer, start, rows)
          : width === 2
            ? new Uint16Array(bytes.buffer, start, rows)
            : new Uint32Array(bytes.buffer, start, rows);
      offset += align8(rows * width);
      return new BlockColumn(NaN, base, values, present);
    };
    const idsPacking = view.getUint8(offset);
    this.#consecutive = idsPacking === Packing.Absent;
    this.#ids = read();
    this.#integers = Array.from({ length: INTEGER_COUNT }, read);
    this.#texts = Array.from({ length: TEXT_COUNT }, read);
    this.#addresses = Array.from({ length: addressCount }, read);
    const json = Buffer.from(bytes.buffer, bytes.byteOffset + offset, dictionaryBytes).toString('utf8');
    this.strings = JSON.parse(json) as string[];
  }

  /** The flow id of a row. */
  id(row: number): number {
    return this.#consecutive ? this.firstId + row : this.firstId + this.#ids.get(row);
  }

  integer(column: number, row: number): number {
    return this.#integers[column]!.get(row);
  }

  text(column: number, row: number): number {
    const value = this.#texts[column]!.get(row);
    if (value === value) return value;
    return this.ipv4(column, row) >= 0 ? IPV4_TEXT : -1;
  }

  ipv4(column: number, row: number): number {
    // Format 1 has no address columns: every slot reads as none.
    const address = this.#addresses[addressSlotOf(column)];
    if (address === undefined) return -1;
    const value = address.get(row);
    return value !== value ? -1 : value;
  }

  /** The text of a text column at a row, or null. */
  string(column: number, row: number): string | null {
    const index = this.text(column, row);
    if (index >= 0) return this.strings[index]!;
    return index === IPV4_TEXT ? ipv4TextOf(this.ipv4(column, row)) : null;
  }
}

import {
  FLOW_INTEGER_COLUMNS,
  FLOW_TEXT_COLUMNS,
  INTEGER_COUNT,
  TEXT_COUNT,
  TUNNEL_TEXT_INDEX,
} from '../flows/flow-columns.js';
import { tunnelKey } from '../flows/tunnel-key.js';
import type { EncodedFlows } from '../writer/flow-batch-codec.js';

// How the writer turns rows into as few bound values as it can. better-sqlite3 costs
// ~65 ns per bound value, null or not, and that, more than SQLite itself, is what limits
// the insert rate (test/bench/store.ts). Rows are grouped by shape:
//  - columns null in every row of the shape are left out (they default to NULL);
//  - columns all records of one export datagram share are bound once per statement
//    (INSERT … SELECT ?, ?, column1 … FROM (VALUES …)), as long as consecutive rows agree;
//  - the kind is bound once per statement: rows are grouped by kind too;
//  - raw packets and octets equal to the scaled ones (no sampling) are not bound again:
//    the statement copies the VALUES column.

const integerIndex = (c: string) => FLOW_INTEGER_COLUMNS.indexOf(c as (typeof FLOW_INTEGER_COLUMNS)[number]);
const textIndex = (c: string) => FLOW_TEXT_COLUMNS.indexOf(c as (typeof FLOW_TEXT_COLUMNS)[number]);

/**
 * Shared by the records of one datagram. Template id and IP version change only between
 * the sets of a datagram (RFC 7011 §3.3: a set holds records of one template).
 */
const SHARED_INTEGERS = [
  'domain_id',
  'version',
  'received_ms',
  'sampling_rate',
  'template_id',
  'ip_version',
].map(integerIndex);
const EXPORTER_TEXT = textIndex('exporter');
export const KIND_TEXT_INDEX = textIndex('kind');
const PACKETS = integerIndex('packets');
const OCTETS = integerIndex('octets');
const RAW_PACKETS = integerIndex('raw_packets');
const RAW_OCTETS = integerIndex('raw_octets');

/** Shape bits above the column bits (38 today; room for 40). */
const RAW_EQUALS_SCALED = 2 ** 40;
export const KIND_SHARED = 2 ** 41;

export type Value = number | string | Buffer | null;

/** How rows of one shape are inserted. */
export interface InsertPlan {
  readonly sharedIntegers: readonly number[];
  readonly sharedTexts: readonly number[];
  readonly rowIntegers: readonly number[];
  readonly rowTexts: readonly number[];
  /** tunnel_key, present exactly when tunnel_id is. */
  readonly tunnelKey: boolean;
  /** Insert column names, in the order of `select`. */
  readonly columns: readonly string[];
  /** One expression per column: `?` (shared, bound once) or `columnN` (the row's Nth value). */
  readonly select: readonly string[];
  readonly sharedCount: number;
  readonly rowCount: number;
}

/**
 * The shape of a row, without the kind bit: bit c set when integer column c, or text
 * column c - INTEGER_COUNT, is not null, plus RAW_EQUALS_SCALED. (tunnel_key follows
 * tunnel_id and needs no bit of its own.)
 */
export function rowShape(flows: EncodedFlows, row: number): number {
  let mask = 0;
  let bit = 1;
  const integers = flows.integers;
  const ibase = row * INTEGER_COUNT;
  for (let i = 0; i < INTEGER_COUNT; i += 1, bit *= 2)
    if (integers[ibase + i] === integers[ibase + i]) mask += bit;
  const texts = flows.texts;
  const tbase = row * TEXT_COUNT;
  for (let j = 0; j < TEXT_COUNT; j += 1, bit *= 2) if (texts[tbase + j]! >= 0) mask += bit;
  if (
    integers[ibase + RAW_PACKETS] === integers[ibase + PACKETS] &&
    integers[ibase + RAW_OCTETS] === integers[ibase + OCTETS]
  ) {
    mask += RAW_EQUALS_SCALED;
  }
  return mask;
}

export function planFor(shape: number): InsertPlan {
  const bits = Math.floor(shape % RAW_EQUALS_SCALED);
  const present = (column: number): boolean => Math.floor(bits / 2 ** column) % 2 === 1;
  const rawFromScaled = Math.floor(shape / RAW_EQUALS_SCALED) % 2 === 1;
  const kindShared = Math.floor(shape / KIND_SHARED) % 2 === 1;
  const sharedIntegers = SHARED_INTEGERS.filter((i) => present(i));
  const sharedTextList = kindShared ? [EXPORTER_TEXT, KIND_TEXT_INDEX] : [EXPORTER_TEXT];
  const sharedTexts = sharedTextList.filter((j) => present(INTEGER_COUNT + j));
  const copied = rawFromScaled ? [RAW_PACKETS, RAW_OCTETS] : [];
  const rowIntegers = FLOW_INTEGER_COLUMNS.map((_, i) => i).filter(
    (i) => present(i) && !SHARED_INTEGERS.includes(i) && !copied.includes(i),
  );
  const rowTexts = FLOW_TEXT_COLUMNS.map((_, j) => j).filter(
    (j) => present(INTEGER_COUNT + j) && !sharedTexts.includes(j),
  );
  const withTunnelKey = present(INTEGER_COUNT + TUNNEL_TEXT_INDEX);
  const rowColumns = [
    ...rowIntegers.map((i) => FLOW_INTEGER_COLUMNS[i]!),
    ...rowTexts.map((j) => FLOW_TEXT_COLUMNS[j]!),
    ...(withTunnelKey ? ['tunnel_key'] : []),
  ];
  const sharedColumns = [
    ...sharedIntegers.map((i) => FLOW_INTEGER_COLUMNS[i]!),
    ...sharedTexts.map((j) => FLOW_TEXT_COLUMNS[j]!),
  ];
  const valueOf = (column: string): string => `column${rowColumns.indexOf(column) + 1}`;
  return {
    sharedIntegers,
    sharedTexts,
    rowIntegers,
    rowTexts,
    tunnelKey: withTunnelKey,
    columns: [...sharedColumns, ...rowColumns, ...(rawFromScaled ? ['raw_packets', 'raw_octets'] : [])],
    select: [
      ...sharedColumns.map(() => '?'),
      ...rowColumns.map(valueOf),
      ...(rawFromScaled ? [valueOf('packets'), valueOf('octets')] : []),
    ],
    sharedCount: sharedColumns.length,
    rowCount: rowColumns.length,
  };
}

/**
 * The INSERT for `rows` rows of a plan. Parameters are numbered in the order they appear
 * in the text: the SELECT list's (shared) come before the VALUES rows', which is the
 * order the writer binds them in.
 *
 * OR FAIL, not the default ABORT: a multi-row INSERT that may abort makes SQLite keep a
 * statement journal, a copy of every page the statement touches for the first time, so
 * that it can undo the statement alone. Index pages are touched all over, and that copy
 * measured ~12% of the insert cost (test/bench/store.ts). With FAIL a failing row leaves
 * the rows before it in place; the sink knows how many (total_changes) and goes on from
 * there (writer/sqlite-sink.ts).
 */
export function insertSql(plan: InsertPlan, rows: number): string {
  const tuple = `(${new Array<string>(plan.rowCount).fill('?').join(', ')})`;
  return `INSERT OR FAIL INTO flows (${plan.columns.join(', ')}) SELECT ${plan.select.join(', ')} FROM (VALUES ${new Array<string>(
    rows,
  )
    .fill(tuple)
    .join(', ')})`;
}

/** True when two rows agree on every shared column of the plan. */
export function sameShared(flows: EncodedFlows, plan: InsertPlan, a: number, b: number): boolean {
  const integers = flows.integers;
  for (const i of plan.sharedIntegers)
    if (integers[a * INTEGER_COUNT + i] !== integers[b * INTEGER_COUNT + i]) return false;
  const texts = flows.texts;
  for (const j of plan.sharedTexts) if (texts[a * TEXT_COUNT + j] !== texts[b * TEXT_COUNT + j]) return false;
  return true;
}

/** Appends the shared values of a row at `offset`; returns the new end. */
export function fillShared(
  target: Value[],
  offset: number,
  flows: EncodedFlows,
  plan: InsertPlan,
  row: number,
): number {
  let o = offset;
  const ibase = row * INTEGER_COUNT;
  for (const i of plan.sharedIntegers) target[o++] = flows.integers[ibase + i]!;
  const tbase = row * TEXT_COUNT;
  for (const j of plan.sharedTexts) target[o++] = flows.strings[flows.texts[tbase + j]!]!;
  return o;
}

/**
 * Appends the per-row values of a row at `offset`; returns the new end. `tunnelKeys`
 * caches tunnel keys by dictionary index for the batch (filled here on first use).
 */
export function fillRow(
  target: Value[],
  offset: number,
  flows: EncodedFlows,
  plan: InsertPlan,
  row: number,
  tunnelKeys: Array<number | undefined>,
): number {
  let o = offset;
  const integers = flows.integers;
  const ibase = row * INTEGER_COUNT;
  // Present in the shape means not NaN in this row.
  for (const i of plan.rowIntegers) target[o++] = integers[ibase + i]!;
  const texts = flows.texts;
  const strings = flows.strings;
  const tbase = row * TEXT_COUNT;
  for (const j of plan.rowTexts) target[o++] = strings[texts[tbase + j]!]!;
  if (plan.tunnelKey) {
    const id = texts[tbase + TUNNEL_TEXT_INDEX]!;
    let key = tunnelKeys[id];
    if (key === undefined) {
      key = tunnelKey(strings[id]!);
      tunnelKeys[id] = key;
    }
    target[o++] = key;
  }
  return o;
}

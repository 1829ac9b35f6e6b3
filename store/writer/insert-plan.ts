import type { AddressKey } from '../address-key.js';
import {
  DST_TEXT_INDEX,
  FLOW_INSERT_COLUMNS,
  FLOW_INTEGER_COLUMNS,
  FLOW_TEXT_COLUMNS,
  INTEGER_COUNT,
  SRC_TEXT_INDEX,
  TEXT_COUNT,
} from '../flows/flow-columns.js';
import type { EncodedFlows } from './flow-batch-codec.js';

/**
 * Columns that all records of one export datagram share: the writer binds them once
 * per statement instead of once per row (INSERT … SELECT ?, ?, column1 … FROM
 * (VALUES …)). Binding costs ~65 ns per value through better-sqlite3, null or not.
 * Template id and IP version change only between the sets of a datagram (RFC 7011 §3.3:
 * a set holds records of one template). Kind is left out on purpose: it changes from
 * record to record (ESP next to DNS), which would cut the runs short.
 */
const SHARED_INTEGERS = [
  'domain_id',
  'version',
  'received_ms',
  'sampling_rate',
  'template_id',
  'ip_version',
].map((c) => FLOW_INTEGER_COLUMNS.indexOf(c as (typeof FLOW_INTEGER_COLUMNS)[number]));
const SHARED_TEXTS = ['exporter'].map((c) =>
  FLOW_TEXT_COLUMNS.indexOf(c as (typeof FLOW_TEXT_COLUMNS)[number]),
);

const SRC_KEY_COLUMN = FLOW_INSERT_COLUMNS.indexOf('src_key');

export type Value = number | string | Buffer | null;

/**
 * How rows with one null pattern are inserted: which columns are bound once per
 * statement (shared), which per row (variable); columns null in every row of the
 * pattern are left out and take their default, NULL.
 */
export interface InsertPlan {
  readonly sharedIntegers: readonly number[];
  readonly sharedTexts: readonly number[];
  readonly rowIntegers: readonly number[];
  readonly rowTexts: readonly number[];
  readonly srcKey: boolean;
  readonly dstKey: boolean;
  /** Insert column names in statement order: shared ones, then per-row ones. */
  readonly columns: readonly string[];
  readonly sharedCount: number;
  readonly rowCount: number;
}

/** Bit c of the mask set when insert column c (FLOW_INSERT_COLUMNS order) is not null in a row. */
export function presentMask(flows: EncodedFlows, row: number): number {
  let mask = 0;
  let bit = 1;
  const integers = flows.integers;
  const ibase = row * INTEGER_COUNT;
  for (let i = 0; i < INTEGER_COUNT; i += 1, bit *= 2)
    if (integers[ibase + i] === integers[ibase + i]) mask += bit;
  const texts = flows.texts;
  const tbase = row * TEXT_COUNT;
  for (let j = 0; j < TEXT_COUNT; j += 1, bit *= 2) if (texts[tbase + j]! >= 0) mask += bit;
  // The keys follow their addresses, which are required: always present.
  return mask + bit + bit * 2;
}

export function planFor(mask: number): InsertPlan {
  const present = (column: number): boolean => Math.floor(mask / 2 ** column) % 2 === 1;
  const sharedIntegers = SHARED_INTEGERS.filter((i) => present(i));
  const sharedTexts = SHARED_TEXTS.filter((j) => present(INTEGER_COUNT + j));
  const rowIntegers = FLOW_INTEGER_COLUMNS.map((_, i) => i).filter(
    (i) => present(i) && !SHARED_INTEGERS.includes(i),
  );
  const rowTexts = FLOW_TEXT_COLUMNS.map((_, j) => j).filter(
    (j) => present(INTEGER_COUNT + j) && !SHARED_TEXTS.includes(j),
  );
  const srcKey = present(SRC_KEY_COLUMN);
  const dstKey = present(SRC_KEY_COLUMN + 1);
  const columns = [
    ...sharedIntegers.map((i) => FLOW_INTEGER_COLUMNS[i]!),
    ...sharedTexts.map((j) => FLOW_TEXT_COLUMNS[j]!),
    ...rowIntegers.map((i) => FLOW_INTEGER_COLUMNS[i]!),
    ...rowTexts.map((j) => FLOW_TEXT_COLUMNS[j]!),
    ...(srcKey ? ['src_key'] : []),
    ...(dstKey ? ['dst_key'] : []),
  ];
  const sharedCount = sharedIntegers.length + sharedTexts.length;
  return {
    sharedIntegers,
    sharedTexts,
    rowIntegers,
    rowTexts,
    srcKey,
    dstKey,
    columns,
    sharedCount,
    rowCount: columns.length - sharedCount,
  };
}

/** The INSERT for `rows` rows following a plan; parameters: shared values, then each row's. */
export function insertSql(plan: InsertPlan, rows: number): string {
  const tuple = `(${new Array<string>(plan.rowCount).fill('?').join(', ')})`;
  // Parameters are numbered in the order they appear in the text: the SELECT list's
  // come before the VALUES rows', which is the order the writer binds them in.
  const select = [
    ...new Array<string>(plan.sharedCount).fill('?'),
    ...Array.from({ length: plan.rowCount }, (_, i) => `column${i + 1}`),
  ];
  if (plan.rowCount === 0) {
    return `INSERT INTO flows (${plan.columns.join(', ')}) VALUES (${select.join(', ')})`;
  }
  return `INSERT INTO flows (${plan.columns.join(', ')}) SELECT ${select.join(', ')} FROM (VALUES ${new Array<string>(
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

/** Appends the per-row values of a row at `offset`; returns the new end. */
export function fillRow(
  target: Value[],
  offset: number,
  flows: EncodedFlows,
  plan: InsertPlan,
  row: number,
  keys: readonly (AddressKey | null)[],
): number {
  let o = offset;
  const integers = flows.integers;
  const ibase = row * INTEGER_COUNT;
  for (const i of plan.rowIntegers) {
    const value = integers[ibase + i]!;
    // Present in the pattern means not NaN in this row: the mask says so.
    target[o++] = value;
  }
  const texts = flows.texts;
  const strings = flows.strings;
  const tbase = row * TEXT_COUNT;
  for (const j of plan.rowTexts) target[o++] = strings[texts[tbase + j]!]!;
  if (plan.srcKey) target[o++] = keys[texts[tbase + SRC_TEXT_INDEX]!] ?? null;
  if (plan.dstKey) target[o++] = keys[texts[tbase + DST_TEXT_INDEX]!] ?? null;
  return o;
}

import {
  FLOW_INTEGER_COLUMNS,
  FLOW_REQUIRED_INTEGER_COLUMNS,
  FLOW_REQUIRED_TEXT_COLUMNS,
  FLOW_TEXT_COLUMNS,
  INTEGER_COUNT,
  TEXT_COUNT,
} from '../flows/flow-columns.js';
import type { EncodedFlows } from './flow-batch-codec.js';

// What both engines' sinks (store/sqlite/sqlite-sink.ts, store/postgres/pg-sink.ts) count
// for a batch and how they refuse a row before the database sees it.

/** A batch's tally while it is written (a SinkResult without its time). */
export interface Outcome {
  rows: number;
  rejectedRows: number;
  rejectedItems: number;
  firstRejection: string | null;
}

export function emptyOutcome(): Outcome {
  return { rows: 0, rejectedRows: 0, rejectedItems: 0, firstRejection: null };
}

/** Counts one refused flow row; the first reason is kept for the log. */
export function reject(outcome: Outcome, reason: string): void {
  outcome.rejectedRows += 1;
  outcome.firstRejection ??= reason;
}

const REQUIRED_INTEGERS = FLOW_REQUIRED_INTEGER_COLUMNS.map((c) => FLOW_INTEGER_COLUMNS.indexOf(c));
const REQUIRED_TEXTS = FLOW_REQUIRED_TEXT_COLUMNS.map((c) => FLOW_TEXT_COLUMNS.indexOf(c));

/** A NOT NULL column the row lacks, as the refusal's reason; null when the row is whole. */
export function missingRequired(flows: EncodedFlows, row: number): string | null {
  const ibase = row * INTEGER_COUNT;
  for (const i of REQUIRED_INTEGERS) {
    if (Number.isNaN(flows.integers[ibase + i]!))
      return `flow row refused: ${FLOW_INTEGER_COLUMNS[i]} is missing`;
  }
  const tbase = row * TEXT_COUNT;
  for (const j of REQUIRED_TEXTS) {
    // IPV4_TEXT (-2) is an address held as a number: present.
    if (flows.texts[tbase + j]! === -1) return `flow row refused: ${FLOW_TEXT_COLUMNS[j]} is missing`;
  }
  return null;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

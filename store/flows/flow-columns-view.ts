/**
 * Read access to a set of flows held column by column: a decoded block of the SQLite
 * engine's flow store, or a batch on its way to the writer (EncodedFlows). Filters
 * evaluated in JavaScript (store/filter/flow-predicate.ts) read flows through it.
 *
 * `integer(c, row)` is FLOW_INTEGER_COLUMNS[c] of the row (NaN = null);
 * `text(c, row)` the index in `strings` of FLOW_TEXT_COLUMNS[c] (-1 = null).
 */
export interface FlowColumnsView {
  readonly rows: number;
  readonly strings: readonly string[];
  integer(column: number, row: number): number;
  text(column: number, row: number): number;
}

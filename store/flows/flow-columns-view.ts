/**
 * Read access to a set of flows held column by column: a decoded block of the SQLite
 * engine's flow store, or a batch on its way to the writer (EncodedFlows). Filters
 * evaluated in JavaScript (store/filter/flow-predicate.ts) read flows through it.
 *
 * `integer(c, row)` is FLOW_INTEGER_COLUMNS[c] of the row (NaN = null);
 * `text(c, row)` the index in `strings` of FLOW_TEXT_COLUMNS[c] (-1 = null), or, for the
 * two address columns, IPV4_TEXT when the address is IPv4 and held as its 32-bit value,
 * which `ipv4(c, row)` then gives (no string per address on the way to the store).
 */
export interface FlowColumnsView {
  readonly rows: number;
  readonly strings: readonly string[];
  integer(column: number, row: number): number;
  text(column: number, row: number): number;
  /** The IPv4 address of an address column as an unsigned 32-bit value; -1 when not held so. */
  ipv4(column: number, row: number): number;
}

/** `text()` of an address column whose IPv4 address `ipv4()` holds. */
export const IPV4_TEXT = -2;

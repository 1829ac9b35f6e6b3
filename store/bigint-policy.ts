/**
 * BigInt policy for 64-bit counters.
 *
 * NetFlow/IPFIX counters are 64-bit on the wire, JavaScript numbers are exact up to
 * 2^53 - 1 (9 PiB of octets in one record, which no real flow reaches). The store
 * keeps them as plain numbers end to end and never uses BigInt:
 *
 * - `collector/produce` hands over numbers; a wire value above 2^53 already lost its
 *   low bits there.
 * - The writer saturates every integer column at `Number.MAX_SAFE_INTEGER` (and at
 *   -MAX_SAFE_INTEGER below), and rounds a fractional value to the nearest integer.
 *   So every value in the database is an exact SQLite INTEGER, and reads (with
 *   better-sqlite3's default, safeIntegers off) are exact too. A stored
 *   9007199254740991 means "at least this much": the counter was saturated.
 * - SQL sums stay in 64-bit integers: 1024 saturated values are needed to overflow
 *   them, at which point SQLite raises "integer overflow" instead of a wrong number.
 * - A SUM read back above 2^53 comes back as the nearest double (better-sqlite3 does
 *   not throw); the API reports it as is.
 */
export const MAX_STORED_INTEGER = Number.MAX_SAFE_INTEGER;

/** An integer column value as the store keeps it (see the policy above); null stays null. */
export function toStoredInteger(value: number | null | undefined): number | null {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  if (value > MAX_STORED_INTEGER) return MAX_STORED_INTEGER;
  if (value < -MAX_STORED_INTEGER) return -MAX_STORED_INTEGER;
  return Number.isInteger(value) ? value : Math.round(value);
}

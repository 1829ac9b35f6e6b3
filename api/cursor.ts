import { createHash } from 'node:crypto';
import { ApiError } from './api-error.js';

/**
 * Opaque keyset cursors. A cursor carries the position reached (sort key and id) and a
 * fingerprint of the query that produced it, so that a cursor replayed with another
 * filter or window is refused instead of silently paging through different rows.
 * Encoding: base64url of a small JSON object; clients must not look inside.
 */
export interface CursorPosition {
  /** The sort key of the last row returned (for flows: end_ms). */
  readonly key: number;
  readonly id: number;
}

/** A short stable hash of what defines a list query (everything but limit and cursor). */
export function queryFingerprint(parts: Readonly<Record<string, unknown>>): string {
  const canonical = JSON.stringify(
    Object.keys(parts)
      .sort()
      .map((k) => [k, parts[k] ?? null]),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

export function encodeCursor(position: CursorPosition, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ v: 1, k: position.key, i: position.id, q: fingerprint })).toString(
    'base64url',
  );
}

/** Decodes a cursor given back by a client; ApiError 400 when it is not ours or not for this query. */
export function decodeCursor(cursor: string, fingerprint: string): CursorPosition {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor("parameter 'cursor' is not a cursor this API returned; pass nextCursor unchanged");
  }
  const c = parsed as { v?: unknown; k?: unknown; i?: unknown; q?: unknown };
  if (
    c === null ||
    typeof c !== 'object' ||
    c.v !== 1 ||
    !Number.isSafeInteger(c.k) ||
    !Number.isSafeInteger(c.i) ||
    typeof c.q !== 'string'
  ) {
    throw badCursor("parameter 'cursor' is not a cursor this API returned; pass nextCursor unchanged");
  }
  if (c.q !== fingerprint) {
    throw badCursor(
      "parameter 'cursor' belongs to a query with other parameters; repeat the first request's from, to, filter and other parameters, or drop the cursor to start over",
    );
  }
  return { key: c.k as number, id: c.i as number };
}

function badCursor(message: string): ApiError {
  return new ApiError(400, 'bad-cursor', message, { parameter: 'cursor' });
}

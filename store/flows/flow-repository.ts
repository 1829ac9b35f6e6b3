import type { Expression, SqlBool } from 'kysely';
import type { StoreDb } from '../database.js';
import { readMaxFlowDuration } from '../meta/store-meta-repository.js';
import { toStoredFlow } from './stored-flow.js';
import type { StoredFlow } from './stored-flow.js';

/** Where a page starts: after the flow with this end time and id (keyset pagination). */
export interface FlowPosition {
  readonly endMs: number;
  readonly id: number;
}

export interface FlowQuery {
  /** Flows overlapping [from, to): end_ms >= from and start_ms < to. Either may be absent. */
  readonly from?: number | null;
  readonly to?: number | null;
  /** Extra condition, e.g. a compiled filter (store/filter/compile-filter.ts). */
  readonly where?: Expression<SqlBool> | null;
  readonly after?: FlowPosition | null;
  readonly limit: number;
}

export interface FlowPage {
  readonly items: StoredFlow[];
  /** Position of the last item when more rows follow; null on the last page. */
  readonly next: FlowPosition | null;
}

/**
 * One page of flows in (end_ms, id) order.
 *
 * The order follows the `flows_end_ms` index (rowid is its tail), so a page costs its
 * own rows plus what the filter skips, never a sort. The window's upper side bounds
 * end_ms too: a flow that starts before `to` ends before `to + longest flow`, the
 * longest duration ever stored (store_meta), which keeps the scan a range.
 *
 * Keyset pagination is stable under concurrent inserts: a walk never returns a row
 * twice and never skips a row that existed when it started (new rows get higher ids; a
 * new row can show up only if it sorts after the position reached).
 */
export async function queryFlows(db: StoreDb, query: FlowQuery): Promise<FlowPage> {
  // Callers validate their inputs (the API does); a nonsensical limit or bound still
  // gets a sane query rather than an SQL error.
  const limit = Number.isFinite(query.limit)
    ? Math.min(Math.max(1, Math.trunc(query.limit)), 1_000_000)
    : 100;
  const from = Number.isFinite(query.from) ? query.from : null;
  const to = Number.isFinite(query.to) ? query.to : null;
  let select = db.selectFrom('flows').selectAll();
  if (from !== null && from !== undefined) select = select.where('end_ms', '>=', from);
  if (to !== null && to !== undefined) {
    const longest = await readMaxFlowDuration(db);
    select = select.where('start_ms', '<', to).where('end_ms', '<=', to + longest);
  }
  const after = query.after;
  if (after !== undefined && after !== null) {
    select = select
      .where('end_ms', '>=', after.endMs)
      .where((eb) => eb.or([eb('end_ms', '>', after.endMs), eb('id', '>', after.id)]));
  }
  if (query.where !== undefined && query.where !== null) select = select.where(query.where);
  const rows = await select
    .orderBy('end_ms')
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toStoredFlow);
  const last = items[items.length - 1];
  return {
    items,
    next: rows.length > limit && last !== undefined ? { endMs: last.endMs, id: last.id } : null,
  };
}

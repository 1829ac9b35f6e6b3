import type { StoreDb } from '../database.js';
import { compileFilter } from '../filter/compile-filter.js';
import type { FilterDialect } from '../filter/compile-filter.js';
import type { FilterNode } from '../filter/filter-ast.js';
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
  /** The flows to keep (store/filter/parse-filter.ts); absent or null keeps all. */
  readonly filter?: FilterNode | null;
  readonly after?: FlowPosition | null;
  readonly limit: number;
}

export interface FlowPage {
  readonly items: StoredFlow[];
  /** Position of the last item when more rows follow; null on the last page. */
  readonly next: FlowPosition | null;
}

/**
 * Raw flows as the API and the CLI read them, whatever the engine stores them in: SQL rows
 * on PostgreSQL (sqlFlowReader below), columnar blocks on SQLite
 * (store/sqlite/flow-block-reader.ts). Both return the same pages for the same query.
 */
export interface FlowReader {
  /** One page of flows in (endMs, id) order. */
  query(query: FlowQuery): Promise<FlowPage>;
  /** Every stored flow, counted. */
  count(): Promise<number>;
}

/** The reader over a `flows` table, with the filter compiled to the engine's SQL. */
export function sqlFlowReader(db: StoreDb, dialect: FilterDialect): FlowReader {
  return {
    query: (query) => queryFlows(db, query, dialect),
    count: async () => {
      const row = await db
        .selectFrom('flows')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}

/** Clamps a query's limit the way every reader does. */
export function pageLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.min(Math.max(1, Math.trunc(limit)), 1_000_000) : 100;
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
export async function queryFlows(db: StoreDb, query: FlowQuery, dialect: FilterDialect): Promise<FlowPage> {
  // Callers validate their inputs (the API does); a nonsensical limit or bound still
  // gets a sane query rather than an SQL error.
  const limit = pageLimit(query.limit);
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
  if (query.filter !== undefined && query.filter !== null)
    select = select.where(compileFilter(query.filter, dialect));
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

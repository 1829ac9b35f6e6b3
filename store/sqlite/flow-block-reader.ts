import type { Database as SqliteDatabase } from 'better-sqlite3';
import {
  END_MS_INDEX,
  FLOW_INTEGER_COLUMNS,
  FLOW_TEXT_COLUMNS,
  START_MS_INDEX,
} from '../flows/flow-columns.js';
import { pageLimit } from '../flows/flow-repository.js';
import type { FlowPage, FlowQuery, FlowReader } from '../flows/flow-repository.js';
import type { FlowRow } from '../flows/flow.table.js';
import { toStoredFlow } from '../flows/stored-flow.js';
import type { StoredFlow } from '../flows/stored-flow.js';
import { tunnelKey } from '../flows/tunnel-key.js';
import type { FilterNode } from '../filter/filter-ast.js';
import { compileFlowPredicate } from '../filter/flow-predicate.js';
import { MAX_BLOCK_SPAN_KEY, MAX_FLOW_DURATION_KEY } from '../meta/store-meta-keys.js';
import { FlowBlock } from './flow-block-codec.js';

/** A candidate block, in the order its flows can first appear in a page. */
interface BlockRef {
  readonly id: number;
  readonly first_id: number;
  /** The earliest end time of a flow the query can take from it. */
  readonly min_end_ms: number;
}

interface Match {
  readonly endMs: number;
  readonly id: number;
  readonly block: FlowBlock;
  readonly row: number;
}

/** Candidate blocks read per statement; a query yields to the event loop between chunks. */
const CHUNK_BLOCKS = 64;

const byPosition = (a: Match, b: Match): number => a.endMs - b.endMs || a.id - b.id;

/**
 * Pages of raw flows over the SQLite engine's blocks (flow-block-codec.ts), with the same
 * answers as the SQL reader over a `flows` table (store/flows/flow-repository.ts).
 *
 * The blocks a query may take flows from come in order of their earliest end time: from
 * the index on `min_end_ms`, or, when the filter asks for one tunnel, from that tunnel's
 * drill-down rows (`flow_block_tunnels`, with the end times of its own flows there). Each
 * block is read and filtered in JavaScript (store/filter/flow-predicate.ts) until the page
 * is full and the next block cannot hold an earlier flow than the page's last: a first
 * page costs the few blocks at the window's start, whatever the window's length.
 *
 * Keyset pagination keeps its promise: ids grow with arrival, a walk resumes strictly
 * after (endMs, id), so no flow comes twice and none that existed at the start is skipped.
 */
export function createBlockFlowReader(sqlite: SqliteDatabase): FlowReader {
  const meta = sqlite.prepare<[string], { value: number }>('SELECT value FROM store_meta WHERE key = ?');
  // Blocks whose earliest end lies in [low, high] and whose latest reaches `from`; the
  // widest block span bounds how far before `from` an overlapping block can start.
  // Candidates come a chunk at a time, in keyset order after the last one read, so that a
  // long scan yields to the event loop between chunks without holding a statement open.
  const byTime = sqlite.prepare<[number, number, number, number, number, number], BlockRef>(
    `SELECT id, first_id, min_end_ms FROM flow_blocks
     WHERE min_end_ms >= ? AND min_end_ms <= ? AND max_end_ms >= ? AND min_start_ms < ?
       AND (min_end_ms, id) > (?, ?)
     ORDER BY min_end_ms, id LIMIT ${CHUNK_BLOCKS}`,
  );
  const byTunnel = sqlite.prepare<[number, number, number, number, number, number], BlockRef>(
    `SELECT b.id, b.first_id, t.min_end_ms FROM flow_block_tunnels t JOIN flow_blocks b ON b.id = t.block_id
     WHERE t.tunnel_key = ? AND t.max_end_ms >= ? AND t.max_end_ms <= ? AND t.min_end_ms <= ?
       AND (t.min_end_ms, b.id) > (?, ?)
     ORDER BY t.min_end_ms, b.id LIMIT ${CHUNK_BLOCKS}`,
  );
  const data = sqlite.prepare<[number], { data: Uint8Array }>('SELECT data FROM flow_blocks WHERE id = ?');
  const countAll = sqlite.prepare<[], { n: number | null }>('SELECT sum(rows) AS n FROM flow_blocks');

  const query = async (q: FlowQuery): Promise<FlowPage> => {
    const limit = pageLimit(q.limit);
    const from = Number.isFinite(q.from) ? (q.from as number) : -Infinity;
    const to = Number.isFinite(q.to) ? (q.to as number) : Infinity;
    const after = q.after ?? null;
    const longest = meta.get(MAX_FLOW_DURATION_KEY)?.value ?? 0;
    const span = meta.get(MAX_BLOCK_SPAN_KEY)?.value ?? 0;
    const lowEnd = Math.max(from, after?.endMs ?? -Infinity);
    const highEnd = to + longest;
    const filter = q.filter ?? null;
    const tunnelId = filter === null ? null : tunnelOf(filter);
    const bound = compileFlowPredicate(filter ?? { type: 'any' });
    const sqlNumber = (n: number): number =>
      n === Infinity ? Number.MAX_SAFE_INTEGER : n === -Infinity ? -Number.MAX_SAFE_INTEGER : n;
    const key = tunnelId === null ? 0 : tunnelKey(tunnelId);
    const chunk = (afterEnd: number, afterId: number): BlockRef[] =>
      tunnelId === null
        ? byTime.all(
            sqlNumber(lowEnd - span),
            sqlNumber(highEnd),
            sqlNumber(lowEnd),
            sqlNumber(to),
            afterEnd,
            afterId,
          )
        : // The key's rows are ordered by their latest end, which is at most the widest block
          // span past their earliest: both ends of the range bound the scan.
          byTunnel.all(
            key,
            sqlNumber(lowEnd),
            sqlNumber(highEnd + span),
            sqlNumber(highEnd),
            afterEnd,
            afterId,
          );
    const want = limit + 1;
    let matches: Match[] = [];
    // The end time a block's flows must not exceed to still enter the page.
    let cutoff = Infinity;
    let refs = chunk(-Number.MAX_SAFE_INTEGER, 0);
    let next = 0;
    for (;;) {
      if (next === refs.length) {
        if (refs.length < CHUNK_BLOCKS) break;
        const last = refs[refs.length - 1]!;
        await new Promise<void>((resolve) => setImmediate(resolve));
        refs = chunk(last.min_end_ms, last.id);
        next = 0;
        if (refs.length === 0) break;
      }
      const ref = refs[next++]!;
      if (ref.min_end_ms > cutoff) break;
      const row = data.get(ref.id);
      if (row === undefined) continue;
      const block = new FlowBlock(ref.first_id, row.data);
      const keep = bound(block);
      for (let r = 0; r < block.rows; r += 1) {
        const endMs = block.integer(END_MS_INDEX, r);
        if (endMs < from || endMs > highEnd || endMs > cutoff) continue;
        if (!(block.integer(START_MS_INDEX, r) < to)) continue;
        const id = block.id(r);
        if (after !== null && (endMs < after.endMs || (endMs === after.endMs && id <= after.id))) continue;
        if (!keep(r)) continue;
        matches.push({ endMs, id, block, row: r });
      }
      if (matches.length >= want) {
        matches.sort(byPosition);
        if (matches.length > want) matches = matches.slice(0, want);
        cutoff = matches[want - 1]!.endMs;
      }
    }
    matches.sort(byPosition);
    const items = matches.slice(0, limit).map((m) => storedFlowOf(m.block, m.row, m.id));
    const last = items[items.length - 1];
    return {
      items,
      next: matches.length > limit && last !== undefined ? { endMs: last.endMs, id: last.id } : null,
    };
  };

  return {
    query,
    count: () => Promise.resolve(countAll.get()?.n ?? 0),
  };
}

/** The tunnel a filter requires (a `tunnel` term of its top-level `and`), if any. */
function tunnelOf(node: FilterNode): string | null {
  if (node.type === 'tunnel') return node.tunnelId;
  if (node.type === 'and') return tunnelOf(node.left) ?? tunnelOf(node.right);
  return null;
}

/** A block's row as the stored flow the SQL reader would have returned. */
function storedFlowOf(block: FlowBlock, row: number, id: number): StoredFlow {
  const record: Record<string, number | string | null> = { id };
  for (let c = 0; c < FLOW_INTEGER_COLUMNS.length; c += 1) {
    const value = block.integer(c, row);
    record[FLOW_INTEGER_COLUMNS[c]!] = value !== value ? null : value;
  }
  for (let c = 0; c < FLOW_TEXT_COLUMNS.length; c += 1) record[FLOW_TEXT_COLUMNS[c]!] = block.string(c, row);
  return toStoredFlow(record as unknown as FlowRow);
}

/** Every stored flow in id order (exports, checks and tests; a large store is large). */
export function allStoredFlows(sqlite: SqliteDatabase): StoredFlow[] {
  const flows: StoredFlow[] = [];
  const blocks = sqlite
    .prepare<[], { first_id: number; data: Uint8Array }>('SELECT first_id, data FROM flow_blocks ORDER BY id')
    .iterate();
  for (const { first_id, data } of blocks) {
    const block = new FlowBlock(first_id, data);
    for (let r = 0; r < block.rows; r += 1) flows.push(storedFlowOf(block, r, block.id(r)));
  }
  return flows.sort((a, b) => a.id - b.id);
}

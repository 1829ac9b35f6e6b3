import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import {
  END_MS_INDEX,
  FLOW_TEXT_COLUMNS,
  INTEGER_COUNT,
  TEXT_COUNT,
  TUNNEL_TEXT_INDEX,
} from '../flows/flow-columns.js';
import { tunnelKey } from '../flows/tunnel-key.js';
import { MAX_BLOCK_SPAN_KEY, MAX_FLOW_DURATION_KEY } from '../meta/store-meta-keys.js';
import type { EncodedFlows } from '../writer/flow-batch-codec.js';
import { missingRequired, reject } from '../writer/sink-outcome.js';
import type { Outcome } from '../writer/sink-outcome.js';
import { encodeBlockTransient } from './flow-block-codec.js';
import type { BlockBounds } from './flow-block-codec.js';

const KIND_TEXT_INDEX = FLOW_TEXT_COLUMNS.indexOf('kind');

/**
 * Flows per block at most. A query reads whole blocks (a drill-down, the first page of a
 * window) and the size cap deletes whole blocks, so they stay a fraction of a batch;
 * past a few thousand rows the per-block cost (one row, one index entry per tunnel) is
 * already small per flow.
 */
export const BLOCK_ROWS = 8192;

/** Retention classes of a block: flows of kind `other`, and the tunnel kinds. */
export const OTHER_CLASS = 0;
export const TUNNEL_CLASS = 1;

/**
 * Writes a batch's flows as blocks (store/sqlite/flow-block-codec.ts): one per retention
 * class, so that retention drops whole blocks, plus one drill-down row per tunnel in a
 * tunnel block. That is three or four statements per batch of thousands of flows, where
 * the row store bound ~40 values and two index entries per flow.
 *
 * Flow ids are given here, consecutive across blocks: the id of a flow is its block's
 * first id plus its row, so ids still follow arrival (retention, cursors) and never
 * repeat (the next id starts above every stored one, legacy rows included).
 */
export class FlowBlockWriter {
  readonly #insertBlock: Statement;
  readonly #insertTunnel: Statement;
  readonly #raiseMeta: Statement<[string, number]>;
  #nextId: number;
  #maxDurationMs: number;
  #maxSpanMs: number;
  /** The time bounds of the block packed last (filled by the packer). */
  readonly #bounds: BlockBounds = {
    minEndMs: 0,
    maxEndMs: 0,
    minStartMs: 0,
    maxReceivedMs: 0,
    maxDurationMs: 0,
  };

  constructor(sqlite: SqliteDatabase) {
    this.#insertBlock = sqlite.prepare(
      `INSERT INTO flow_blocks (first_id, last_id, rows, class, min_end_ms, max_end_ms, min_start_ms, max_received_ms, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertTunnel = sqlite.prepare(
      'INSERT INTO flow_block_tunnels (tunnel_key, max_end_ms, block_id, min_end_ms) VALUES (?, ?, ?, ?)',
    );
    this.#raiseMeta = sqlite.prepare(
      `INSERT INTO store_meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
    );
    const meta = sqlite.prepare<[string], { value: number }>('SELECT value FROM store_meta WHERE key = ?');
    this.#maxDurationMs = meta.get(MAX_FLOW_DURATION_KEY)?.value ?? 0;
    this.#maxSpanMs = meta.get(MAX_BLOCK_SPAN_KEY)?.value ?? 0;
    const lastBlock = sqlite
      .prepare<[], { id: number | null }>('SELECT max(last_id) AS id FROM flow_blocks')
      .get();
    const lastRow = sqlite.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM flows').get();
    this.#nextId = Math.max(lastBlock?.id ?? 0, lastRow?.id ?? 0) + 1;
  }

  /**
   * Writes the whole rows of `flows`, refusing (and counting) the ones missing a required
   * value. `ids` (ascending) keeps ids given before, for rows moved from the legacy table.
   */
  write(flows: EncodedFlows, outcome: Outcome, ids?: ArrayLike<number>): void {
    const other: number[] = [];
    const tunnel: number[] = [];
    const kinds = flows.texts;
    const otherIndex = flows.strings.indexOf('other');
    for (let row = 0; row < flows.rows; row += 1) {
      const problem = missingRequired(flows, row);
      if (problem !== null) {
        reject(outcome, problem);
        continue;
      }
      if (kinds[row * TEXT_COUNT + KIND_TEXT_INDEX] === otherIndex) other.push(row);
      else tunnel.push(row);
    }
    for (let at = 0; at < other.length; at += BLOCK_ROWS)
      this.#writeBlock(flows, other.slice(at, at + BLOCK_ROWS), OTHER_CLASS, ids);
    for (let at = 0; at < tunnel.length; at += BLOCK_ROWS)
      this.#writeBlock(flows, tunnel.slice(at, at + BLOCK_ROWS), TUNNEL_CLASS, ids);
    outcome.rows += other.length + tunnel.length;
  }

  #writeBlock(
    flows: EncodedFlows,
    rows: readonly number[],
    blockClass: number,
    ids?: ArrayLike<number>,
  ): void {
    const bounds = this.#bounds;
    let firstId = this.#nextId;
    let lastId = firstId + rows.length - 1;
    // The block lives in the packer's reused buffer until the next one: bound (copied by
    // SQLite) right below.
    let data: Uint8Array;
    if (ids === undefined) data = encodeBlockTransient(flows, rows, undefined, bounds);
    else {
      firstId = ids[rows[0]!]!;
      lastId = ids[rows[rows.length - 1]!]!;
      data = encodeBlockTransient(
        flows,
        rows,
        rows.map((row) => ids[row]! - firstId),
        bounds,
      );
    }
    const blockId = Number(
      this.#insertBlock.run(
        firstId,
        lastId,
        rows.length,
        blockClass,
        bounds.minEndMs,
        bounds.maxEndMs,
        bounds.minStartMs,
        bounds.maxReceivedMs,
        data,
      ).lastInsertRowid,
    );
    this.#nextId = Math.max(this.#nextId, lastId + 1);
    if (blockClass === TUNNEL_CLASS) this.#indexTunnels(flows, rows, blockId);
    if (bounds.maxDurationMs > this.#maxDurationMs) {
      this.#raiseMeta.run(MAX_FLOW_DURATION_KEY, bounds.maxDurationMs);
      this.#maxDurationMs = bounds.maxDurationMs;
    }
    const span = bounds.maxEndMs - bounds.minEndMs;
    if (span > this.#maxSpanMs) {
      this.#raiseMeta.run(MAX_BLOCK_SPAN_KEY, span);
      this.#maxSpanMs = span;
    }
  }

  /** One drill-down row per tunnel of the block, with its flows' end times there. */
  #indexTunnels(flows: EncodedFlows, rows: readonly number[], blockId: number): void {
    const spans = new Map<number, { min: number; max: number }>();
    for (const row of rows) {
      const index = flows.texts[row * TEXT_COUNT + TUNNEL_TEXT_INDEX]!;
      if (index < 0) continue;
      const end = flows.integers[row * INTEGER_COUNT + END_MS_INDEX]!;
      const span = spans.get(index);
      if (span === undefined) spans.set(index, { min: end, max: end });
      else {
        if (end < span.min) span.min = end;
        if (end > span.max) span.max = end;
      }
    }
    // Two tunnel ids may share a key (a hash): one row per key, spanning both.
    const byKey = new Map<number, { min: number; max: number }>();
    for (const [index, span] of spans) {
      const key = tunnelKey(flows.strings[index]!);
      const known = byKey.get(key);
      if (known === undefined) byKey.set(key, span);
      else byKey.set(key, { min: Math.min(known.min, span.min), max: Math.max(known.max, span.max) });
    }
    for (const [key, span] of byKey) this.#insertTunnel.run(key, span.max, blockId, span.min);
  }
}

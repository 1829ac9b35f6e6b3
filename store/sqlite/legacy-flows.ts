import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { FlowRow } from '../flows/flow.table.js';
import { toStoredFlow } from '../flows/stored-flow.js';
import { FlowBatchEncoder } from '../writer/flow-batch-codec.js';
import { emptyOutcome } from '../writer/sink-outcome.js';
import { FlowBlockWriter } from './flow-block-writer.js';

/** Rows moved per transaction: one block's worth, so other connections wait little. */
const ROWS_PER_STEP = 4096;

/**
 * Moves the flows a store wrote as table rows (before flow blocks, issue 11) into blocks,
 * keeping their ids, so that one format answers every query. Runs at open, one short
 * transaction per few thousand rows (an interrupted move goes on at the next open), and
 * logs its progress; returns the rows moved.
 */
export function moveLegacyFlows(sqlite: SqliteDatabase, logger?: Logger): number {
  const any = sqlite.prepare('SELECT 1 FROM flows LIMIT 1');
  if (any.get() === undefined) return 0;
  const total = (sqlite.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
  logger?.info({ rows: total }, 'moving stored flows into flow blocks (once, after the upgrade)');
  const next = sqlite.prepare<[number], FlowRow>('SELECT * FROM flows ORDER BY id LIMIT ?');
  const remove = sqlite.prepare<[number]>('DELETE FROM flows WHERE id <= ?');
  const writer = new FlowBlockWriter(sqlite);
  let moved = 0;
  let lastLog = Date.now();
  const step = sqlite.transaction((): number => {
    const rows = next.all(ROWS_PER_STEP);
    if (rows.length === 0) return 0;
    const encoder = new FlowBatchEncoder(rows.length);
    const ids = new Float64Array(rows.length);
    rows.forEach((row, i) => {
      const flow = toStoredFlow(row);
      encoder.add(flow);
      ids[i] = flow.id;
    });
    writer.write(encoder.seal(), emptyOutcome(), ids);
    remove.run(ids[rows.length - 1]!);
    return rows.length;
  });
  for (;;) {
    const n = step.immediate();
    if (n === 0) break;
    moved += n;
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      logger?.info({ moved, rows: total }, 'moving stored flows into flow blocks');
    }
  }
  logger?.info({ moved }, 'stored flows moved into flow blocks');
  return moved;
}

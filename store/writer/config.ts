import { z } from 'zod';

/** How the flow writer batches, bounds and runs its inserts. */
export const writerConfigSchema = z.strictObject({
  /**
   * A batch is sealed and sent to the database when it reaches this many rows. Big on
   * purpose: every commit writes each B-tree page it touched to the WAL, and the tunnel
   * index is touched at one leaf per active tunnel. 20k rows per commit measured ~10 %
   * less writer CPU per row than 5k end to end with 256 tunnels (test/bench/e2e.ts).
   */
  batchRows: z.number().int().min(1).max(100_000).default(20_000),
  /** ...and at least this often, so that a trickle of flows is committed within a second. */
  flushIntervalMs: z.number().int().min(10).max(1_000).default(250),
  /**
   * Rows accepted but not yet committed, at most. Beyond it `offer()` drops (and counts)
   * and `write()` waits. 400k rows (~280 bytes each encoded, plus their strings) is
   * ~120 MB in flight at worst: over a second of flows at 300k/s, room to ride out a
   * slow commit (a checkpoint, the disk) without dropping.
   */
  maxPendingRows: z.number().int().min(1).default(400_000),
  /**
   * Run the inserts in a worker thread with its own connection (the default), so the
   * event loop that receives UDP never waits for SQLite. `false` runs them on the
   * calling thread, for tools that have nothing else to do.
   */
  worker: z.boolean().default(true),
  /**
   * With the worker, a second thread checkpoints the WAL this often (ms), off the
   * writer's thread; 0 leaves checkpoints to the writer's connection.
   */
  checkpointIntervalMs: z.number().int().min(0).max(60_000).default(200),
  /**
   * PostgreSQL only: a batch whose connection was lost is retried until the server is
   * back (the bounded queue above holds what arrives meanwhile, and drops and counts the
   * overflow). Once the writer stops, retrying goes on for this long (ms), then the
   * batches left are counted as failed.
   */
  giveUpOnStopMs: z.number().int().min(0).max(600_000).default(10_000),
});

export type WriterConfig = z.infer<typeof writerConfigSchema>;

export const defaultWriterConfig: WriterConfig = writerConfigSchema.parse({});

import type { Logger } from 'pino';
import type { ConnectionOptions } from './connection.js';
import { spawnWorker } from '../writer/spawn-worker.js';

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Checkpoints the WAL from a thread of its own. A checkpoint copies pages and syncs
 * the main file: run by the writer after its commits (SQLite's autocheckpoint), it cost
 * ~15% of the writer's throughput (test/bench/store.ts). The writer keeps a far
 * autocheckpoint as a fallback: a PASSIVE checkpoint racing a busy writer may never
 * catch up completely, and the WAL only restarts after one that did.
 */
export async function startCheckpointer(
  connection: ConnectionOptions,
  intervalMs: number,
  logger?: Logger,
): Promise<Checkpointer> {
  const worker = spawnWorker(new URL('./checkpoint-worker', import.meta.url), { connection, intervalMs });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (message: { type: string; error?: string }) => {
      if (message.type === 'ready') resolve();
      else reject(new Error(`checkpointer cannot open the database: ${message.error}`));
    });
    worker.once('error', reject);
  });
  worker.on('message', (message: { type: string; error?: string }) => {
    if (message.type === 'error') logger?.warn({ err: message.error }, 'wal checkpoint failed');
  });
  worker.on('error', (error) => logger?.warn({ err: error }, 'checkpointer crashed'));
  worker.unref();
  return {
    stop: async () => {
      worker.postMessage('stop');
      await exited;
    },
  };
}

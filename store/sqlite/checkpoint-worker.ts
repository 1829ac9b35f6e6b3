import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

// Entry point of the checkpointer thread (writer/checkpointer.ts): copies the WAL into
// the main file on its own connection, so that the writer's thread spends its time on
// inserts. PASSIVE never blocks the writer or the readers (https://sqlite.org/wal.html).

const port = parentPort;
if (port === null) throw new Error('checkpoint-worker.ts must run as a worker thread');
const { connection, intervalMs } = workerData as { connection: ConnectionOptions; intervalMs: number };

try {
  const sqlite = openConnection(connection);
  // This connection never writes; it must not checkpoint from a commit of its own either.
  sqlite.pragma('wal_autocheckpoint = 0');
  const timer = setInterval(() => {
    try {
      sqlite.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      port.postMessage({ type: 'error', error: error instanceof Error ? error.message : String(error) });
    }
  }, intervalMs);
  port.on('message', () => {
    clearInterval(timer);
    sqlite.close();
    port.close();
  });
  port.postMessage({ type: 'ready' });
} catch (error) {
  port.postMessage({ type: 'error', error: error instanceof Error ? error.message : String(error) });
  port.close();
}

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { FromHost, ToHost, WriterHostInit } from './messages.js';
import { WriterHost } from './writer-host.js';

// Entry point of the writer's worker thread: one connection, one message loop.

const port = parentPort;
if (port === null) throw new Error('writer-worker.ts must run as a worker thread');

const post = (reply: FromHost): void => port.postMessage(reply);

try {
  const host = WriterHost.open(workerData as WriterHostInit);
  port.on('message', (first: ToHost) => {
    // Take everything already queued so that the host can merge batches.
    const messages: ToHost[] = [first];
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
      messages.push(next.message as ToHost);
    }
    let closed = false;
    for (const reply of host.handle(messages)) {
      post(reply);
      if (reply.type === 'closed') closed = true;
    }
    if (closed) port.close();
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'open-failed', error: error instanceof Error ? error.message : String(error) });
  port.close();
}

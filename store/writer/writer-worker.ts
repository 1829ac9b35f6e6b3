import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { transferablesOf } from './flow-batch-codec.js';
import { receiverOfBatches } from './messages.js';
import type { FromHost, ToHost, WriterHostInit } from './messages.js';
import { openWriterHost } from './writer-host.js';
import type { WriterHost } from './writer-host.js';

// Entry point of the writer's worker thread: one connection, one message loop.

const port = parentPort;
if (port === null) throw new Error('writer-worker.ts must run as a worker thread');

const post = (reply: FromHost): void => port.postMessage(reply);

let host: WriterHost | null = null;
try {
  host = await openWriterHost(workerData as WriterHostInit, post);
} catch (error) {
  post({ type: 'open-failed', error: error instanceof Error ? error.message : String(error) });
  port.close();
}
if (host !== null) serve(host, port);

function serve(host: WriterHost, port: MessagePort): void {
  const post = (reply: FromHost): void => port.postMessage(reply);
  // Messages that arrive while the host works wait here; the host then takes them all at
  // once (it merges consecutive batches), in order, one call at a time.
  let queue: ToHost[] = [];
  let busy = false;
  let closed = false;
  const restore = receiverOfBatches();
  // The buffers of each batch, given back with its reply once the host is done with it
  // (committed or failed), for the encoder to fill again instead of new memory.
  const buffers = new Map<number, ArrayBuffer[]>();
  const receive = (message: ToHost): ToHost => {
    if (message.type === 'batch' && message.flows !== null)
      buffers.set(message.seq, transferablesOf(message.flows));
    return restore(message);
  };
  const reply = (message: FromHost): void => {
    if (message.type !== 'committed' && message.type !== 'failed') return post(message);
    const recycle = buffers.get(message.seq);
    if (recycle === undefined) return post(message);
    buffers.delete(message.seq);
    port.postMessage({ ...message, recycle } satisfies FromHost, recycle);
  };

  const drain = async (): Promise<void> => {
    busy = true;
    while (queue.length > 0 && !closed) {
      const messages = queue;
      queue = [];
      for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
        messages.push(receive(next.message as ToHost));
      }
      if (messages.some((m) => m.type === 'close' || m.type === 'stopping')) host.requestStop?.();
      for (const message of await host.handle(messages)) {
        reply(message);
        if (message.type === 'closed') closed = true;
      }
    }
    busy = false;
    if (closed) port.close();
  };

  port.on('message', (message: ToHost) => {
    queue.push(receive(message));
    if (message.type === 'close' || message.type === 'stopping') host.requestStop?.();
    if (!busy) void drain();
  });
  post({ type: 'ready' });
}

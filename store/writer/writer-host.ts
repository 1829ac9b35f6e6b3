import { SqliteWriterHost } from '../sqlite/sqlite-writer-host.js';
import type { FromHost, ToHost, WriterHostInit } from './messages.js';

/**
 * The database side of the flow writer, whatever the engine: turns the messages of the
 * writer's one ordered stream into transactions and replies. `handle` is called with
 * everything that queued up and is never called again before its promise settles, so
 * the stream stays in order.
 */
export interface WriterHost {
  handle(messages: readonly ToHost[]): Promise<FromHost[]>;
  close(): Promise<void>;
}

/** Opens the host of the store's engine; throws (one clear line) when the store is unusable. */
export async function openWriterHost(init: WriterHostInit): Promise<WriterHost> {
  if (init.engine === 'postgres') throw new Error('the PostgreSQL writer is not in this build yet');
  const host = SqliteWriterHost.open(init);
  return {
    handle: (messages) => Promise.resolve(host.handle(messages)),
    close: () => Promise.resolve(host.close()),
  };
}

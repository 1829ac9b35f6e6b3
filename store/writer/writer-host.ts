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
  /** The writer is stopping: a host that retries lost connections gives up after a while. */
  requestStop?(): void;
  close(): Promise<void>;
}

/**
 * Opens the host of the store's engine; throws (one clear line) when the store is
 * unusable. `notify` takes replies that come between handle() results (a lost connection).
 */
export async function openWriterHost(
  init: WriterHostInit,
  notify: (reply: FromHost) => void,
): Promise<WriterHost> {
  if (init.engine === 'postgres') {
    // Loaded only here: a SQLite writer never loads pg.
    const { PostgresWriterHost } = await import('../postgres/pg-writer-host.js');
    return PostgresWriterHost.open(init, notify);
  }
  const host = SqliteWriterHost.open(init);
  return {
    handle: (messages) => Promise.resolve(host.handle(messages)),
    close: () => Promise.resolve(host.close()),
  };
}

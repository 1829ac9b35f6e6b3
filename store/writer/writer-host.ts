import { SqliteWriterHost } from '../sqlite/sqlite-writer-host.js';
import type { FromHost, WriterHost, WriterHostInit } from './messages.js';

export type { WriterHost } from './messages.js';

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

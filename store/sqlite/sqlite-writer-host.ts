import type { Database as SqliteDatabase } from 'better-sqlite3';
import { openConnection } from './connection.js';
import { committedReplies, failedReplies, takeBatchGroup } from '../writer/messages.js';
import type { BatchMessage, FromHost, SqliteHostInit, ToHost } from '../writer/messages.js';
import { SqliteSink } from './sqlite-sink.js';

/**
 * The SQLite side of the flow writer: owns the write connection and turns messages
 * into transactions, synchronously (better-sqlite3). Runs inside the worker thread
 * (writer/writer-worker.ts), or on the calling thread when the writer is configured
 * without a worker; writer/writer-host.ts picks it by engine.
 */
export class SqliteWriterHost {
  readonly #sqlite: SqliteDatabase;
  readonly #sink: SqliteSink;
  readonly #maxTransactionRows: number;
  #transactions = 0;

  private constructor(sqlite: SqliteDatabase, sink: SqliteSink, maxTransactionRows: number) {
    this.#sqlite = sqlite;
    this.#sink = sink;
    this.#maxTransactionRows = maxTransactionRows;
  }

  /** Opens the connection; throws when the store is unusable. */
  static open(init: SqliteHostInit): SqliteWriterHost {
    const sqlite = openConnection(init.connection);
    try {
      // Far apart (the default 1k pages would checkpoint every few batches): a page
      // rewritten by consecutive batches then reaches the main file once, and with the
      // checkpointer thread this is only a fallback (writer/checkpointer.ts).
      // journal_size_limit truncates the WAL again afterwards.
      sqlite.pragma(`wal_autocheckpoint = ${Math.trunc(init.walAutocheckpointPages)}`);
      const hasFlows = sqlite
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'flows'")
        .get();
      if (hasFlows === undefined) {
        throw new Error(
          `database '${init.connection.path}' has no flows table: open it with openStore() first, which migrates it`,
        );
      }
      return new SqliteWriterHost(sqlite, new SqliteSink(sqlite), init.maxTransactionRows);
    } catch (error) {
      sqlite.close();
      throw error;
    }
  }

  /**
   * Handles every message that was waiting, in order. Consecutive batches are merged
   * into one transaction up to maxTransactionRows (group commit): when the writer falls
   * behind it commits bigger transactions, which cost less per row, and when it keeps
   * up each batch commits alone, as soon as it arrives.
   */
  handle(messages: readonly ToHost[]): FromHost[] {
    const replies: FromHost[] = [];
    let index = 0;
    while (index < messages.length) {
      const message = messages[index]!;
      if (message.type === 'batch') {
        const { group, next } = takeBatchGroup(messages, index, this.#maxTransactionRows);
        index = next;
        replies.push(...this.#commit(group));
      } else if (message.type === 'retention') {
        index += 1;
        try {
          replies.push({
            type: 'retention-done',
            seq: message.seq,
            result: this.#sink.retentionStep(message.step),
          });
        } catch (error) {
          replies.push({ type: 'retention-failed', seq: message.seq, error: messageOf(error) });
        }
      } else if (message.type === 'stopping') {
        index += 1;
        // Nothing to give up on: SQLite commits or fails at once.
      } else {
        index += 1;
        this.close();
        replies.push({ type: 'closed' });
      }
    }
    return replies;
  }

  close(): void {
    if (!this.#sqlite.open) return;
    this.#sink.close();
    // A last checkpoint leaves the WAL empty, so the file is complete on its own.
    try {
      this.#sqlite.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A reader holding the WAL only means the checkpoint finishes next time.
    }
    this.#sqlite.close();
  }

  #commit(group: readonly BatchMessage[]): FromHost[] {
    try {
      const results = this.#sink.applyMany(
        group.map((batch) => ({ flows: batch.flows, state: batch.state })),
      );
      return committedReplies(group, results, ++this.#transactions);
    } catch (error) {
      return failedReplies(group, error);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

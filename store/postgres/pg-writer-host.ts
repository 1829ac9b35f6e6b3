import { sql } from 'kysely';
import type { Database } from '../database.js';
import { committedReplies, failedReplies, takeBatchGroup } from '../writer/messages.js';
import type { BatchMessage, FromHost, PostgresHostInit, ToHost, WriterHost } from '../writer/messages.js';
import { describeTarget, openPostgres } from './connection.js';
import type { PostgresConnection } from './connection.js';
import { PostgresSink } from './pg-sink.js';
import { runPostgresRetentionStep } from './retention-step.js';

/** First wait before a batch is retried after its connection was lost; doubles up to the next. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

/**
 * Errors that mean the server or the way to it is gone, not that the batch is wrong:
 * the batch is retried (the same transaction again, from the start) instead of being
 * counted as failed. PostgreSQL's class 08 (connection exception) and 57P0x (the server
 * shutting down or starting), the socket errors, and pg's own "Connection terminated".
 */
export function isConnectionLost(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code))
      return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/**
 * The PostgreSQL side of the flow writer: a small pool of its own, the sink that turns
 * a group of batches into one transaction, and retention steps between them. A batch
 * whose connection is lost is retried until the server answers again; meanwhile the
 * writer's bounded queue (maxPendingRows) holds what arrives and drops and counts the
 * overflow, and the writer reports itself failing (`notify`).
 */
export class PostgresWriterHost implements WriterHost {
  readonly #connection: PostgresConnection<Database>;
  readonly #sink: PostgresSink;
  readonly #init: PostgresHostInit;
  readonly #notify: (reply: FromHost) => void;
  #transactions = 0;
  #stopRequestedMs: number | null = null;

  private constructor(
    connection: PostgresConnection<Database>,
    sink: PostgresSink,
    init: PostgresHostInit,
    notify: (reply: FromHost) => void,
  ) {
    this.#connection = connection;
    this.#sink = sink;
    this.#init = init;
    this.#notify = notify;
  }

  static async open(init: PostgresHostInit, notify: (reply: FromHost) => void): Promise<PostgresWriterHost> {
    const connection = await openPostgres<Database>({ url: init.url, maxConnections: 2 });
    try {
      const flows = await sql<{ name: string | null }>`SELECT to_regclass('flows')::text AS name`.execute(
        connection.db,
      );
      if (flows.rows[0]?.name == null) {
        throw new Error(
          `database ${describeTarget(connection.target)} has no flows table: open it with openStore() first, which migrates it`,
        );
      }
      const sink = await PostgresSink.open(connection.db);
      return new PostgresWriterHost(connection, sink, init, notify);
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  requestStop(): void {
    this.#stopRequestedMs ??= Date.now();
  }

  async handle(messages: readonly ToHost[]): Promise<FromHost[]> {
    const replies: FromHost[] = [];
    let index = 0;
    while (index < messages.length) {
      const message = messages[index]!;
      if (message.type === 'batch') {
        const { group, next } = takeBatchGroup(messages, index, this.#init.maxTransactionRows);
        index = next;
        replies.push(...(await this.#commit(group)));
      } else if (message.type === 'retention') {
        index += 1;
        try {
          const result = await this.#retrying(() =>
            runPostgresRetentionStep(this.#connection.db, message.step),
          );
          replies.push({ type: 'retention-done', seq: message.seq, result });
        } catch (error) {
          replies.push({ type: 'retention-failed', seq: message.seq, error: messageOf(error) });
        }
      } else if (message.type === 'stopping') {
        index += 1;
        this.requestStop?.();
      } else {
        index += 1;
        this.requestStop();
        await this.close();
        replies.push({ type: 'closed' });
      }
    }
    return replies;
  }

  async close(): Promise<void> {
    await this.#connection.close().catch(() => {});
  }

  async #commit(group: readonly BatchMessage[]): Promise<FromHost[]> {
    try {
      const results = await this.#retrying(() =>
        this.#sink.applyMany(group.map((batch) => ({ flows: batch.flows, state: batch.state }))),
      );
      return committedReplies(group, results, ++this.#transactions);
    } catch (error) {
      return failedReplies(group, error);
    }
  }

  /**
   * Runs one transaction; when its connection was lost, says so (the writer turns
   * failing) and runs it again after a growing pause, until it goes through, fails for
   * another reason, or the writer has been stopping for giveUpOnStopMs.
   */
  async #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    let waitMs = RETRY_FIRST_MS;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!isConnectionLost(error)) throw error;
        const stopping = this.#stopRequestedMs;
        if (stopping !== null && Date.now() - stopping >= this.#init.giveUpOnStopMs) throw error;
        this.#notify({
          type: 'retrying',
          error: `PostgreSQL connection lost, retrying: ${messageOf(error)}`,
        });
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(RETRY_MAX_MS, waitMs * 2);
      }
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

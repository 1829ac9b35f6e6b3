import type { ConnectionOptions } from '../sqlite/connection.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';
import { FlowDictionaryMirror } from './flow-batch-codec.js';
import type { EncodedFlows } from './flow-batch-codec.js';
import type { SealedState } from './sealed-state.js';

/** What one committed batch did. */
export interface SinkResult {
  readonly rows: number;
  /** Rows refused one by one (a NOT NULL column missing, a value the database would not take). */
  readonly rejectedRows: number;
  /** State items (template, counter, tunnel, SA, bucket, document) refused one by one. */
  readonly rejectedItems: number;
  /** The first refusal's reason, for the log. */
  readonly firstRejection: string | null;
  readonly ms: number;
}

/** What the writer's host needs to open its connection (worker data), per engine. */
export type WriterHostInit = SqliteHostInit | PostgresHostInit;

export interface SqliteHostInit {
  readonly engine: 'sqlite';
  readonly connection: ConnectionOptions;
  /** Rows the host may merge into one transaction when batches queue up. */
  readonly maxTransactionRows: number;
  /** The write connection's own WAL checkpoint threshold, in pages. */
  readonly walAutocheckpointPages: number;
}

export interface PostgresHostInit {
  readonly engine: 'postgres';
  /** postgres:// or postgresql:// URL (store.url). */
  readonly url: string;
  /** Rows the host may merge into one transaction when batches queue up. */
  readonly maxTransactionRows: number;
  /**
   * How long the host keeps retrying a transaction whose connection was lost while the
   * writer stops (while it runs, it retries until the connection comes back: the
   * writer's bounded queue holds, then drops and counts, what arrives meanwhile).
   */
  readonly giveUpOnStopMs: number;
}

export type ToHost =
  | {
      readonly type: 'batch';
      readonly seq: number;
      readonly flows: EncodedFlows | null;
      readonly state: readonly SealedState[];
    }
  | { readonly type: 'retention'; readonly seq: number; readonly step: RetentionStep }
  /** The writer stops: a host that retries a lost connection gives up after giveUpOnStopMs. */
  | { readonly type: 'stopping' }
  | { readonly type: 'close' };

export type FromHost =
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly error: string }
  | {
      readonly type: 'committed';
      readonly seq: number;
      readonly result: SinkResult;
      readonly transaction: number;
      /** The batch's buffers, given back from the worker for the encoder to reuse. */
      readonly recycle?: ArrayBuffer[];
    }
  | {
      readonly type: 'failed';
      readonly seq: number;
      readonly error: string;
      readonly recycle?: ArrayBuffer[];
    }
  /** The connection was lost; the host holds its batches and tries again (PostgreSQL). */
  | { readonly type: 'retrying'; readonly error: string }
  | { readonly type: 'retention-done'; readonly seq: number; readonly result: RetentionStepResult }
  | { readonly type: 'retention-failed'; readonly seq: number; readonly error: string }
  | { readonly type: 'closed' };

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

export type BatchMessage = Extract<ToHost, { type: 'batch' }>;

/**
 * The batches that go into one transaction, from `messages[start]` (a batch): it and the
 * batches right after it while their rows stay within `maxRows` (group commit: a writer
 * that falls behind commits bigger transactions, which cost less per row). `next` is the
 * index of the first message left.
 */
export function takeBatchGroup(
  messages: readonly ToHost[],
  start: number,
  maxRows: number,
): { readonly group: BatchMessage[]; readonly next: number } {
  const first = messages[start] as BatchMessage;
  const group: BatchMessage[] = [first];
  let rows = first.flows?.rows ?? 0;
  let next = start + 1;
  while (next < messages.length) {
    const message = messages[next]!;
    if (message.type !== 'batch' || rows + (message.flows?.rows ?? 0) > maxRows) break;
    group.push(message);
    rows += message.flows?.rows ?? 0;
    next += 1;
  }
  return { group, next };
}

/** The replies to a group of batches committed in one transaction: one per batch. */
export function committedReplies(
  group: readonly BatchMessage[],
  results: readonly SinkResult[],
  transaction: number,
): FromHost[] {
  return group.map((batch, i) => ({ type: 'committed', seq: batch.seq, result: results[i]!, transaction }));
}

/** The replies to a group of batches whose transaction failed: every batch failed with it. */
export function failedReplies(group: readonly BatchMessage[], error: unknown): FromHost[] {
  const message = error instanceof Error ? error.message : String(error);
  return group.map((batch) => ({ type: 'failed', seq: batch.seq, error: message }));
}

/**
 * Where a host takes its messages (writer-worker.ts, the inline channel): a batch gets its
 * whole flow dictionary back from the ones before it (FlowDictionaryMirror), in the order
 * the messages were posted.
 */
export function receiverOfBatches(): (message: ToHost) => ToHost {
  const mirror = new FlowDictionaryMirror();
  return (message) =>
    message.type === 'batch' && message.flows !== null
      ? { ...message, flows: mirror.restore(message.flows) }
      : message;
}

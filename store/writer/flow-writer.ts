import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { parseStoreConfig } from '../config.js';
import type { ConnectionOptions } from '../sqlite/connection.js';
import type { NormalizedFlow } from '../../model/flow.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';
import { FlowBatchEncoder, transferablesOf } from './flow-batch-codec.js';
import type { EncodedFlows } from './flow-batch-codec.js';
import { receiverOfBatches } from './messages.js';
import type { FromHost, ToHost, WriterHostInit } from './messages.js';
import { isEmptyState, sealStoreBatch } from './sealed-state.js';
import type { SealedState } from './sealed-state.js';
import type { StoreBatch } from './store-batch.js';
import { startCheckpointer } from '../sqlite/checkpointer.js';
import type { Checkpointer } from '../sqlite/checkpointer.js';
import { writerConfigSchema } from './config.js';
import { spawnWorker } from './spawn-worker.js';
import type { WriterConfig } from './config.js';
import { openWriterHost } from './writer-host.js';

export interface FlowWriterStats {
  /** Flow rows committed. */
  readonly written: number;
  /** Flow rows refused by offer() because the bound was reached, or offered after stop(). */
  readonly dropped: number;
  /** Rows accepted and not yet committed. */
  readonly pending: number;
  /** Batches committed. */
  readonly batches: number;
  /** Wall-clock ms of the last commit (0: none yet). */
  readonly lastCommitMs: number;
  /** Flow rows and state items the database refused one by one (bad values). */
  readonly rejected: number;
  /** Flow rows lost because their whole transaction failed (disk full, I/O error...). */
  readonly failed: number;
  /** Transactions committed (fewer than batches when the writer merged queued batches). */
  readonly transactions: number;
  readonly lastError: string | null;
  /** True from a failed transaction (or a lost worker) until the next one commits. */
  readonly failing: boolean;
}

/** While transactions keep failing (a full disk), the log says so at most this often. */
const FAILURE_LOG_MS = 10_000;

export interface FlowWriter {
  /** Opens the write connection (in its worker). Flows offered before are kept and written after. */
  start(): Promise<void>;
  /** Live path: accepts what fits under maxPendingRows, drops and counts the rest; returns the accepted count. */
  offer(flows: readonly NormalizedFlow[]): number;
  /** Offline path: waits for room instead of dropping. */
  write(flows: readonly NormalizedFlow[]): Promise<void>;
  /** Templates, counters, completeness, tunnels, SAs, bucket deltas and documents, ordered with the flows. */
  submit(batch: StoreBatch): void;
  /** Runs one retention step on the write connection, between two batches. */
  retentionStep(step: RetentionStep): Promise<RetentionStepResult>;
  /** Resolves when everything accepted so far is committed (or has failed, see stats). */
  flush(): Promise<void>;
  /** Flushes, then closes the connection and the worker. */
  stop(): Promise<void>;
  stats(): FlowWriterStats;
}

export interface FlowWriterDeps {
  /**
   * The store's file and pragmas: the writer opens its own connection with them (the
   * whole StoreConfig fits). Defaults apply to what is left out.
   */
  readonly storeConfig?: Partial<ConnectionOptions> & { readonly url?: string | undefined };
  /** The SQLite file, when not given by storeConfig (or to override it). */
  readonly path?: string;
  /** A PostgreSQL URL, when not given by storeConfig (store.url): the writer then writes there. */
  readonly url?: string;
  readonly logger?: Logger;
  /** Called with the writer's worker thread once it runs (fault tests end it from outside). */
  readonly onWorker?: (worker: Worker) => void;
}

/** The channel to the host, a worker thread or the host itself on this thread. */
interface HostChannel {
  post(message: ToHost, transfer?: ArrayBuffer[]): void;
  /** Resolves once the host is gone. */
  terminate(): Promise<void>;
}

type Waiter = { readonly seq: number; readonly resolve: () => void };

/**
 * Creates the flow writer; inert until start(). One transaction per batch: a batch is
 * sealed when it reaches `batchRows` rows or every `flushIntervalMs`, whichever comes
 * first, and inserted by prepared statements on the writer's own connection, in a
 * worker thread so that the thread receiving UDP never waits for SQLite.
 */
export function createFlowWriter(config: Partial<WriterConfig>, deps: FlowWriterDeps = {}): FlowWriter {
  const writerConfig = writerConfigSchema.parse(config ?? {});
  const { batchRows, flushIntervalMs, maxPendingRows } = writerConfig;
  const logger = deps.logger;
  const store = parseStoreConfig({});
  const given = deps.storeConfig ?? {};
  const url = deps.url ?? given.url;
  const maxTransactionRows = Math.max(batchRows, 100_000);
  const useCheckpointer = url === undefined && writerConfig.worker && writerConfig.checkpointIntervalMs > 0;
  const init: WriterHostInit =
    url !== undefined
      ? { engine: 'postgres', url, maxTransactionRows, giveUpOnStopMs: writerConfig.giveUpOnStopMs }
      : {
          engine: 'sqlite',
          connection: {
            path: deps.path ?? given.path ?? store.path,
            cacheSizeMb: given.cacheSizeMb ?? store.cacheSizeMb,
            busyTimeoutMs: given.busyTimeoutMs ?? store.busyTimeoutMs,
            mmapSizeMb: given.mmapSizeMb ?? store.mmapSizeMb,
            journalSizeLimitMb: given.journalSizeLimitMb ?? store.journalSizeLimitMb,
          },
          maxTransactionRows,
          // 50k pages (200 MB) when the checkpointer thread does the work, 10k (40 MB) when
          // the writer's connection checkpoints alone.
          walAutocheckpointPages: useCheckpointer ? 50_000 : 10_000,
        };

  let phase: 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'broken' = 'created';
  let channel: HostChannel | null = null;
  let checkpointer: Checkpointer | null = null;
  let startPromise: Promise<void> | null = null;
  let stopPromise: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  // A batch is sealed at batchRows rows, so arrays of that size never grow (growing them,
  // 4096 -> 32768 rows, was a new zero-filled array and a copy each time, 0.05 µs per record).
  let encoder = new FlowBatchEncoder(batchRows);
  let state: SealedState[] = [];
  /** Sealed before the host was ready, posted on start. */
  const backlog: Array<{ message: ToHost; transfer: ArrayBuffer[] }> = [];
  const inflight = new Map<number, number>();
  let inflightRows = 0;
  let nextSeq = 1;
  let lastPostedSeq = 0;
  let lastDoneSeq = 0;
  const flushWaiters: Waiter[] = [];
  const roomWaiters: Array<() => void> = [];
  const retentionWaiters = new Map<
    number,
    { resolve: (r: RetentionStepResult) => void; reject: (e: Error) => void }
  >();

  let written = 0;
  let dropped = 0;
  let batches = 0;
  let transactions = 0;
  let lastCommitMs = 0;
  let rejected = 0;
  let failed = 0;
  let lastError: string | null = null;
  let lastTransaction = -1;

  const pendingRows = (): number => encoder.rows + inflightRows;

  const seal = (): void => {
    if (encoder.rows === 0 && state.length === 0) return;
    const flows: EncodedFlows | null = encoder.rows > 0 ? encoder.seal(true) : null;
    const seq = nextSeq++;
    const message: ToHost = { type: 'batch', seq, flows, state };
    state = [];
    const rows = flows?.rows ?? 0;
    inflight.set(seq, rows);
    inflightRows += rows;
    lastPostedSeq = seq;
    const transfer = flows === null ? [] : transferablesOf(flows);
    if (channel === null) backlog.push({ message, transfer });
    else channel.post(message, transfer);
  };

  const settle = (seq: number): void => {
    const rows = inflight.get(seq) ?? 0;
    inflight.delete(seq);
    inflightRows -= rows;
    lastDoneSeq = Math.max(lastDoneSeq, seq);
    for (let i = flushWaiters.length - 1; i >= 0; i -= 1) {
      const waiter = flushWaiters[i]!;
      if (waiter.seq <= lastDoneSeq) {
        flushWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
    while (roomWaiters.length > 0 && pendingRows() < maxPendingRows) roomWaiters.shift()!();
  };

  // A full disk fails every transaction until space returns: the first failure is logged
  // with what it means, the rest are summed into one line every FAILURE_LOG_MS, and the
  // first commit afterwards says writing works again and how much was lost meanwhile.
  let failing = false;
  let failedSinceLog = 0;
  let failedWhileFailing = 0;
  let lastFailureLogMs = 0;
  const fail = (message: string, rows = 0): void => {
    lastError = message;
    failedWhileFailing += rows;
    const now = Date.now();
    if (!failing) {
      failing = true;
      lastFailureLogMs = now;
      logger?.error(
        { err: message, rows },
        'store write failed: records are dropped and counted (writer.failed) until a write succeeds again',
      );
      return;
    }
    failedSinceLog += rows;
    if (now - lastFailureLogMs >= FAILURE_LOG_MS) {
      logger?.error(
        { err: message, rows: failedSinceLog, seconds: Math.round((now - lastFailureLogMs) / 1000) },
        'store writes still failing',
      );
      failedSinceLog = 0;
      lastFailureLogMs = now;
    }
  };
  const recovered = (): void => {
    if (!failing) return;
    failing = false;
    logger?.warn({ lostRows: failedWhileFailing }, 'store writes succeed again');
    failedSinceLog = 0;
    failedWhileFailing = 0;
  };

  const onReply = (reply: FromHost): void => {
    if ((reply.type === 'committed' || reply.type === 'failed') && reply.recycle?.length === 3) {
      encoder.recycle(reply.recycle[0]!, reply.recycle[1]!, reply.recycle[2]!);
    }
    switch (reply.type) {
      case 'committed': {
        const { result } = reply;
        written += result.rows;
        batches += 1;
        if (reply.transaction !== lastTransaction) transactions += 1;
        lastTransaction = reply.transaction;
        lastCommitMs = Date.now();
        recovered();
        const refused = result.rejectedRows + result.rejectedItems;
        if (refused > 0) {
          rejected += refused;
          lastError = result.firstRejection;
          logger?.warn(
            { rows: result.rejectedRows, items: result.rejectedItems, reason: result.firstRejection },
            'store refused values',
          );
        }
        settle(reply.seq);
        break;
      }
      case 'failed':
        failed += inflight.get(reply.seq) ?? 0;
        fail(reply.error, inflight.get(reply.seq) ?? 0);
        settle(reply.seq);
        break;
      case 'retrying':
        // Nothing is lost yet: the batches wait in the host and the queue bounds the rest.
        fail(reply.error, 0);
        break;
      case 'retention-done':
        retentionWaiters.get(reply.seq)?.resolve(reply.result);
        retentionWaiters.delete(reply.seq);
        break;
      case 'retention-failed':
        retentionWaiters.get(reply.seq)?.reject(new Error(reply.error));
        retentionWaiters.delete(reply.seq);
        break;
      default:
        break;
    }
  };

  /** The host is gone: everything in flight is lost, counted, and nobody waits forever. */
  const breakDown = (reason: string): void => {
    if (phase === 'stopped') return;
    phase = 'broken';
    fail(reason);
    for (const [seq, rows] of [...inflight]) {
      failed += rows;
      settle(seq);
    }
    if (encoder.rows > 0) {
      failed += encoder.rows;
      encoder = new FlowBatchEncoder(1);
    }
    for (const waiter of flushWaiters.splice(0)) waiter.resolve();
    for (const wake of roomWaiters.splice(0)) wake();
    for (const waiter of retentionWaiters.values()) waiter.reject(new Error(reason));
    retentionWaiters.clear();
    if (timer !== null) clearInterval(timer);
  };

  const openChannel = async (): Promise<HostChannel> => {
    if (!writerConfig.worker) return openInlineChannel(init, onReply);
    return openWorkerChannel(init, onReply, (reason) => breakDown(reason), deps.onWorker);
  };

  const start = (): Promise<void> => {
    if (startPromise !== null) return startPromise;
    phase = 'starting';
    startPromise = (async () => {
      try {
        channel = await openChannel();
      } catch (error) {
        phase = 'broken';
        lastError = error instanceof Error ? error.message : String(error);
        throw error;
      }
      if (useCheckpointer && init.engine === 'sqlite') {
        try {
          checkpointer = await startCheckpointer(init.connection, writerConfig.checkpointIntervalMs, logger);
        } catch (error) {
          // The writer's connection still checkpoints (its fallback threshold): slower, not wrong.
          logger?.warn({ err: error }, 'checkpointer not started');
        }
      }
      phase = 'running';
      for (const { message, transfer } of backlog.splice(0)) channel!.post(message, transfer);
      timer = setInterval(seal, flushIntervalMs);
      timer.unref();
    })();
    return startPromise;
  };

  const accepting = (): boolean => phase === 'created' || phase === 'starting' || phase === 'running';

  const offer = (flows: readonly NormalizedFlow[]): number => {
    if (!Array.isArray(flows)) return 0;
    if (!accepting()) {
      dropped += flows.length;
      return 0;
    }
    const room = Math.max(0, maxPendingRows - pendingRows());
    const accept = Math.min(room, flows.length);
    let accepted = 0;
    for (let i = 0; i < accept; i += 1) {
      if (add(flows[i])) accepted += 1;
      if (encoder.rows >= batchRows) seal();
    }
    dropped += flows.length - accept;
    return accepted;
  };

  /** Adds one flow; a value that is not a flow object is refused and counted. */
  const add = (flow: NormalizedFlow | undefined): boolean => {
    if (typeof flow !== 'object' || flow === null) {
      rejected += 1;
      return false;
    }
    encoder.add(flow);
    return true;
  };

  const write = async (flows: readonly NormalizedFlow[]): Promise<void> => {
    if (!Array.isArray(flows)) return;
    let index = 0;
    while (index < flows.length) {
      if (!accepting()) throw new Error(`flow writer is ${phase}: ${flows.length - index} flows not written`);
      const room = maxPendingRows - pendingRows();
      if (room <= 0) {
        // Hand the open batch over so that the room we wait for can appear.
        seal();
        await new Promise<void>((resolve) => roomWaiters.push(resolve));
        continue;
      }
      const end = Math.min(flows.length, index + room);
      for (; index < end; index += 1) {
        add(flows[index]);
        if (encoder.rows >= batchRows) seal();
      }
    }
  };

  const submit = (batch: StoreBatch): void => {
    if (typeof batch !== 'object' || batch === null) return;
    if (!accepting()) {
      lastError = `state submitted to a ${phase} writer was not written`;
      return;
    }
    const sealed = sealStoreBatch(batch);
    if (sealed.rejected > 0) {
      rejected += sealed.rejected;
      lastError = sealed.firstRejection;
      logger?.warn({ items: sealed.rejected, reason: sealed.firstRejection }, 'store refused state');
    }
    if (!isEmptyState(sealed.state)) state.push(sealed.state);
  };

  const flush = async (): Promise<void> => {
    if (phase === 'created') await start();
    if (startPromise !== null) await startPromise.catch(() => undefined);
    if (phase === 'stopped' || phase === 'broken') return;
    seal();
    if (lastPostedSeq <= lastDoneSeq) return;
    await new Promise<void>((resolve) => flushWaiters.push({ seq: lastPostedSeq, resolve }));
  };

  const retentionStep = async (step: RetentionStep): Promise<RetentionStepResult> => {
    if (phase !== 'running') throw new Error(`flow writer is ${phase}: retention step not run`);
    const seq = nextSeq++;
    const result = new Promise<RetentionStepResult>((resolve, reject) =>
      retentionWaiters.set(seq, { resolve, reject }),
    );
    channel!.post({ type: 'retention', seq, step });
    return result;
  };

  const stop = (): Promise<void> => {
    if (stopPromise !== null) return stopPromise;
    stopPromise = (async () => {
      const hadWork = encoder.rows > 0 || state.length > 0 || backlog.length > 0;
      if (phase === 'created' && hadWork) await start().catch(() => undefined);
      if (phase === 'starting') await startPromise?.catch(() => undefined);
      if (phase === 'running') {
        phase = 'stopping';
        // Said first, so that a host retrying a lost connection knows it may give up.
        channel?.post({ type: 'stopping' });
        await flushAll();
      }
      if (timer !== null) clearInterval(timer);
      const open = channel;
      channel = null;
      phase = 'stopped';
      for (const wake of roomWaiters.splice(0)) wake();
      // The checkpointer goes first: the writer's close ends with a full checkpoint.
      await checkpointer?.stop();
      checkpointer = null;
      if (open !== null) await open.terminate();
    })();
    return stopPromise;
  };

  // flush() refuses to run while stopping; this is its unconditional form.
  const flushAll = async (): Promise<void> => {
    seal();
    if (lastPostedSeq <= lastDoneSeq) return;
    await new Promise<void>((resolve) => flushWaiters.push({ seq: lastPostedSeq, resolve }));
  };

  const stats = (): FlowWriterStats => ({
    written,
    dropped,
    pending: pendingRows(),
    batches,
    lastCommitMs,
    rejected,
    failed,
    transactions,
    lastError,
    failing,
  });

  return { start, offer, write, submit, retentionStep, flush, stop, stats };
}

/** The writer's worker thread (writer-worker.ts) and the channel to it. */
async function openWorkerChannel(
  init: WriterHostInit,
  onReply: (reply: FromHost) => void,
  onBroken: (reason: string) => void,
  onWorker: FlowWriterDeps['onWorker'],
): Promise<HostChannel> {
  const worker = spawnWorker(new URL('./writer-worker', import.meta.url), init);
  onWorker?.(worker);
  let closing = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (reply: FromHost): void => {
      if (reply.type === 'ready') {
        worker.off('message', onMessage);
        worker.off('error', onError);
        resolve();
      } else if (reply.type === 'open-failed') {
        worker.off('message', onMessage);
        reject(new Error(`flow writer cannot open the database: ${reply.error}`));
      }
    };
    const onError = (error: Error): void => reject(error);
    worker.on('message', onMessage);
    worker.once('error', onError);
  });
  worker.on('message', onReply);
  worker.on('error', (error) => onBroken(`writer worker crashed: ${error.message}`));
  worker.on('exit', (code) => {
    if (!closing) onBroken(`writer worker exited with code ${code}`);
  });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer ?? []),
    terminate: async () => {
      closing = true;
      worker.postMessage({ type: 'close' } satisfies ToHost);
      await exited;
    },
  };
}

/**
 * The host on this thread: same messages, handled on a later turn of the event loop
 * (setImmediate), so callers see the same asynchronous behaviour as with a worker.
 */
async function openInlineChannel(
  init: WriterHostInit,
  onReply: (reply: FromHost) => void,
): Promise<HostChannel> {
  const host = await openWriterHost(init, onReply);
  let queue: ToHost[] = [];
  let running: Promise<void> | null = null;
  let closed = false;
  const receive = receiverOfBatches();
  // One handle() at a time, in order, like the worker's loop (writer-worker.ts).
  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const messages = queue;
      queue = [];
      for (const reply of await host.handle(messages)) onReply(reply);
    }
    running = null;
  };
  return {
    post: (message) => {
      if (closed) return;
      if (message.type === 'stopping') host.requestStop?.();
      queue.push(receive(message));
      running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain);
    },
    terminate: async () => {
      closed = true;
      host.requestStop?.();
      await running;
      if (queue.length > 0) await drain();
      await host.close();
    },
  };
}

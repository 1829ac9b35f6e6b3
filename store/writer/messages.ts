import type { ConnectionOptions } from '../connection.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';
import type { EncodedFlows } from './flow-batch-codec.js';
import type { SealedState } from './sealed-state.js';
import type { SinkResult } from './sqlite-sink.js';

/** What the writer's host needs to open its connection (worker data). */
export interface WriterHostInit {
  readonly connection: ConnectionOptions;
  /** Rows the host may merge into one transaction when batches queue up. */
  readonly maxTransactionRows: number;
  /** The write connection's own WAL checkpoint threshold, in pages. */
  readonly walAutocheckpointPages: number;
}

export type ToHost =
  | {
      readonly type: 'batch';
      readonly seq: number;
      readonly flows: EncodedFlows | null;
      readonly state: readonly SealedState[];
    }
  | { readonly type: 'retention'; readonly seq: number; readonly step: RetentionStep }
  | { readonly type: 'close' };

export type FromHost =
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly error: string }
  | {
      readonly type: 'committed';
      readonly seq: number;
      readonly result: SinkResult;
      readonly transaction: number;
    }
  | { readonly type: 'failed'; readonly seq: number; readonly error: string }
  | { readonly type: 'retention-done'; readonly seq: number; readonly result: RetentionStepResult }
  | { readonly type: 'retention-failed'; readonly seq: number; readonly error: string }
  | { readonly type: 'closed' };

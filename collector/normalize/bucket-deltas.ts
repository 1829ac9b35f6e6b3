import type { FlowRecord, LossClearedReason, TunnelDirection } from '../../model/flow.js';
import { newBucketDelta } from '../../model/tunnel-bucket.js';
import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import { computeBucketSpan, createBucketSpan, shareOf } from './apportion.js';
import type { BatchState } from './batch-state.js';
import type { BaseKind } from './classify-kind.js';
import type { LossVerdict } from './loss-validation.js';

/** The per-bucket counters one record adds to besides the ESP ones. */
export type CountField = 'ikePackets' | 'icmpFragNeeded' | 'leakPackets';

/**
 * One batch's bucket deltas, by tunnel, bucket, direction and observation point. A record is
 * apportioned to the buckets it overlaps by time with an exact integer split (apportion.ts),
 * so the buckets of a flow add up to the flow.
 */
export class BucketDeltas {
  #deltas = new Map<string, TunnelBucketDelta>();
  readonly #span = createBucketSpan();
  readonly #bucketMs: number;
  readonly #maxSpanBuckets: number;
  readonly #batch: BatchState;

  constructor(opts: { readonly bucketMs: number; readonly maxFlowSpanBuckets: number }, batch: BatchState) {
    this.#bucketMs = opts.bucketMs;
    this.#maxSpanBuckets = opts.maxFlowSpanBuckets;
    this.#batch = batch;
  }

  /** The batch's deltas, and a fresh start for the next batch. */
  take(): TunnelBucketDelta[] {
    const out = [...this.#deltas.values()];
    this.#deltas = new Map();
    return out;
  }

  /** An ESP-carrying record: packets and octets, fragments apart, flows, and its loss figure. */
  addEsp(
    tunnelId: string,
    direction: TunnelDirection,
    r: FlowRecord,
    kind: BaseKind,
    loss: LossVerdict,
  ): void {
    const span = this.#spanOf(r);
    const isFragment = kind === 'esp-fragment';
    for (let i = 0; i < span.count; i++) {
      const delta = this.#deltaFor(tunnelId, span.firstBucketMs + i * this.#bucketMs, direction, r);
      const packets = shareOf(r.packets, span, i);
      delta.packets += packets;
      delta.octets += shareOf(r.octets, span, i);
      if (isFragment) delta.fragments += packets;
      else delta.espPackets += packets;
      if (i === 0) delta.flows++;
      else delta.carriedIn++;
      if (loss.lost !== null) {
        if (loss.source === 'reported') {
          delta.reportedLost += shareOf(loss.lost, span, i);
          delta.reportedPackets += packets;
        } else {
          delta.sequenceLost += shareOf(loss.lost, span, i);
          delta.sequencePackets += packets;
        }
      } else if (i === 0 && loss.clearedReason !== null) {
        delta.cleared[loss.clearedReason]++;
      }
    }
  }

  /** IKE, ICMP frag-needed or leak packets; a cleared loss value counts in the first bucket. */
  addCount(
    tunnelId: string,
    direction: TunnelDirection,
    r: FlowRecord,
    field: CountField,
    reason: LossClearedReason | null,
  ): void {
    const span = this.#spanOf(r);
    for (let i = 0; i < span.count; i++) {
      const delta = this.#deltaFor(tunnelId, span.firstBucketMs + i * this.#bucketMs, direction, r);
      delta[field] += shareOf(r.packets, span, i);
      if (i === 0 && reason !== null) delta.cleared[reason]++;
    }
  }

  #spanOf(r: FlowRecord) {
    computeBucketSpan(r.startMs, r.endMs, this.#bucketMs, this.#maxSpanBuckets, this.#span);
    if (this.#span.clamped) this.#batch.counters.flowsClamped++;
    return this.#span;
  }

  #deltaFor(
    tunnelId: string,
    bucketStartMs: number,
    direction: TunnelDirection,
    r: FlowRecord,
  ): TunnelBucketDelta {
    const key = `${tunnelId}|${bucketStartMs}|${direction}|${r.exporter}|${r.domainId}`;
    let delta = this.#deltas.get(key);
    if (delta === undefined) {
      delta = newBucketDelta(tunnelId, bucketStartMs, direction, r.exporter, r.domainId);
      this.#deltas.set(key, delta);
    }
    return delta;
  }
}

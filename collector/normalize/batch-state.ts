import { emptyNormalizerCounters } from './normalizer-counters.js';
import type { NormalizerCounters } from './normalizer-counters.js';

/**
 * What one batch (one datagram's records) changes, shared by the registries and the
 * attribution functions and reset by the normalizer before each batch: the batch's counters,
 * the tunnels and SAs to hand to the store, and the tunnels whose SA pairing must be redone.
 */
export class BatchState {
  counters: NormalizerCounters = emptyNormalizerCounters();
  changedTunnels = new Set<string>();
  changedSas = new Set<string>();
  pairingDirty = new Set<string>();

  reset(): void {
    this.counters = emptyNormalizerCounters();
    this.changedTunnels = new Set();
    this.changedSas = new Set();
    this.pairingDirty = new Set();
  }
}

import type { FlowKind } from '../../model/flow.js';
import { emptyClearedCounts, lossClearedReasons } from '../../model/tunnel-bucket.js';
import type { ClearedCounts } from '../../model/tunnel-bucket.js';

/** What the normalizer did, for /metrics and for tests (STYLE.md "Everything that moves gets a counter"). */
export interface NormalizerCounters {
  records: number;
  kinds: Record<FlowKind, number>;
  tunnelsCreated: number;
  /** Tunnels idle longer than `tunnelIdleSeconds`, dropped from memory (not from the store). */
  tunnelsEvicted: number;
  sasCreated: number;
  /** Pairs formed (one per A→B / B→A couple), including re-pairings after a rekey. */
  saPairsFormed: number;
  /** An SA with a new SPI took over its direction. */
  rekeys: number;
  /** SAs ended because they were idle longer than `saIdleSeconds`. */
  sasExpired: number;
  /** Flows that carried a loss figure (reported or sequence numbers). */
  lossChecked: number;
  lossAccepted: number;
  lossCleared: ClearedCounts;
  /** ICMP frag-needed whose target and source are no known tunnel peer. */
  icmpFragNeededUnattributed: number;
  /** Flows longer than `maxFlowSpanBuckets`, apportioned over the last buckets only. */
  flowsClamped: number;
}

const flowKinds: readonly FlowKind[] = [
  'esp',
  'esp-in-udp',
  'ike',
  'esp-fragment',
  'icmp-frag-needed',
  'cleartext-leak',
  'other',
];

export function emptyNormalizerCounters(): NormalizerCounters {
  const kinds = {} as Record<FlowKind, number>;
  for (const kind of flowKinds) kinds[kind] = 0;
  return {
    records: 0,
    kinds,
    tunnelsCreated: 0,
    tunnelsEvicted: 0,
    sasCreated: 0,
    saPairsFormed: 0,
    rekeys: 0,
    sasExpired: 0,
    lossChecked: 0,
    lossAccepted: 0,
    lossCleared: emptyClearedCounts(),
    icmpFragNeededUnattributed: 0,
    flowsClamped: 0,
  };
}

export function addNormalizerCounters(into: NormalizerCounters, from: Readonly<NormalizerCounters>): void {
  into.records += from.records;
  for (const kind of flowKinds) into.kinds[kind] += from.kinds[kind];
  into.tunnelsCreated += from.tunnelsCreated;
  into.tunnelsEvicted += from.tunnelsEvicted;
  into.sasCreated += from.sasCreated;
  into.saPairsFormed += from.saPairsFormed;
  into.rekeys += from.rekeys;
  into.sasExpired += from.sasExpired;
  into.lossChecked += from.lossChecked;
  into.lossAccepted += from.lossAccepted;
  for (const reason of lossClearedReasons) into.lossCleared[reason] += from.lossCleared[reason];
  into.icmpFragNeededUnattributed += from.icmpFragNeededUnattributed;
  into.flowsClamped += from.flowsClamped;
}

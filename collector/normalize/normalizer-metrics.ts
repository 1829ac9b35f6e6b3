import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { NormalizerCounters } from './normalizer-counters.js';

const SCALARS = [
  ['records', 'tunnelflow_normalizer_records_total', 'Flow records normalized.'],
  [
    'tunnelsCreated',
    'tunnelflow_tunnels_created_total',
    'Tunnels seen for the first time (or again after eviction).',
  ],
  [
    'tunnelsEvicted',
    'tunnelflow_tunnels_evicted_total',
    'Idle tunnels dropped from memory (not from the store).',
  ],
  ['sasCreated', 'tunnelflow_sas_created_total', 'Security associations seen.'],
  [
    'saPairsFormed',
    'tunnelflow_sa_pairs_formed_total',
    'A→B / B→A SA pairs formed, re-pairings after rekeys included.',
  ],
  ['rekeys', 'tunnelflow_rekeys_total', 'An SA with a new SPI took over its direction.'],
  ['sasExpired', 'tunnelflow_sas_expired_total', 'SAs ended after being idle.'],
  [
    'lossChecked',
    'tunnelflow_loss_values_checked_total',
    'Flows that carried a loss figure (reported or sequence).',
  ],
  ['lossAccepted', 'tunnelflow_loss_values_accepted_total', 'Loss figures believed.'],
  [
    'icmpFragNeededUnattributed',
    'tunnelflow_icmp_frag_needed_unattributed_total',
    'ICMP frag-needed flows between no known tunnel peers.',
  ],
  [
    'flowsClamped',
    'tunnelflow_flows_clamped_total',
    'Flows longer than maxFlowSpanBuckets, apportioned over the last buckets.',
  ],
] as const;

/**
 * The normalizer's outcomes on /metrics, read from its cumulative counters at scrape time
 * (STYLE.md: everything that moves gets a counter): kinds, tunnels and SAs, and every loss
 * value cleared, by reason.
 */
export function registerNormalizerMetrics(
  registry: Registry,
  counters: () => Readonly<NormalizerCounters>,
): void {
  for (const [field, name, help] of SCALARS) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(counters()[field]);
      },
    });
  }
  new Counter({
    name: 'tunnelflow_flows_by_kind_total',
    help: 'Normalized flows by kind (esp, esp-in-udp, ike, esp-fragment, icmp-frag-needed, cleartext-leak, other).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(counters().kinds)) this.inc({ kind }, n);
    },
  });
  new Counter({
    name: 'tunnelflow_loss_values_cleared_total',
    help: 'Loss values that could not be true, cleared (stored as null), by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(counters().lossCleared)) this.inc({ reason }, n);
    },
  });
}

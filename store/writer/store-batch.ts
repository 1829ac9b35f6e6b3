import type { ExporterBucket } from '../../model/exporter-bucket.js';
import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import type { ExporterCounters } from '../exporters/exporter-counters.js';
import type { CollectorStateEntry } from '../state/collector-state.table.js';
import type { TemplateKey, TemplateSnapshot } from '../templates/template-snapshot.js';

/**
 * State other than flows, written in the same ordered stream of transactions as the
 * flows: what is submitted after a flow is never committed before it. Plain data: it
 * travels to the writer's worker by structured cloning.
 */
export interface StoreBatch {
  /** Templates to save (insert or replace). */
  readonly saveTemplates?: readonly TemplateSnapshot[];
  /** Templates withdrawn (RFC 7011 §8.1) or expired. */
  readonly deleteTemplates?: readonly TemplateKey[];
  /** Absolute exporter counters, upserted. */
  readonly exporters?: readonly ExporterCounters[];
  /** Bucket completeness deltas, added to what is stored. */
  readonly exporterBuckets?: readonly ExporterBucket[];
  /** Tunnels, upserted: first seen only ever falls, last seen only ever rises. */
  readonly tunnels?: readonly Tunnel[];
  /** SAs, upserted like tunnels; end and pairing take the latest value. */
  readonly sas?: readonly SecurityAssociation[];
  /** Tunnel bucket deltas, added into their rows. */
  readonly tunnelBuckets?: readonly TunnelBucketDelta[];
  /** Collector documents (the normalizer's memory), replaced by key. */
  readonly collectorState?: readonly CollectorStateEntry[];
  /**
   * When the records behind this batch's bucket deltas were received (epoch ms); absent:
   * the time the writer commits the batch, which trails receipt by a flush interval.
   * Bucket rows keep the largest (retention counts their age from it).
   */
  readonly receivedMs?: number;
}

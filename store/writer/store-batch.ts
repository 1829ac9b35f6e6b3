import type { ExporterBucket } from '../exporter-buckets/exporter-bucket.js';
import type { ExporterCounters } from '../exporters/exporter-counters.js';
import type { TemplateKey, TemplateSnapshot } from '../templates/template-snapshot.js';

/**
 * State other than flows, written in the same ordered stream of transactions as the
 * flows: what is submitted after a flow is never committed before it.
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
  /**
   * Payloads for store extensions (writer/store-extension.ts), by extension name. They
   * must survive structured cloning (plain data) because they travel to the worker.
   */
  readonly extra?: Readonly<Record<string, unknown>>;
}

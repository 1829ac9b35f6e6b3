/** The `collector_state` table: JSON documents the collector keeps across restarts. */
export interface CollectorStateTable {
  key: string;
  value: string;
  updated_ms: number;
}

/** One document (e.g. the normalizer's memory), as the collector submits it in a StoreBatch. */
export interface CollectorStateEntry {
  readonly key: string;
  /** JSON text. */
  readonly value: string;
  readonly updatedMs: number;
}

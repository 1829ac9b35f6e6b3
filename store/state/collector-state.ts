import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { StoreExtensionWriter } from '../writer/store-extension.js';

/** A JSON document the collector keeps across restarts (e.g. the normalizer's memory). */
export interface CollectorStateEntry {
  readonly key: string;
  /** JSON text. */
  readonly value: string;
  readonly updatedMs: number;
}

export const COLLECTOR_STATE_EXTENSION = 'collector-state';

export interface CollectorStateTable {
  key: string;
  value: string;
  updated_ms: number;
}

/** Writer extension: saved in the same transaction as the flows submitted before it. */
export function createStoreExtension(sqlite: SqliteDatabase): StoreExtensionWriter {
  const save = sqlite.prepare(
    `INSERT INTO collector_state (key, value, updated_ms) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`,
  );
  return {
    apply(payload: unknown) {
      for (const e of payload as readonly CollectorStateEntry[]) save.run(e.key, e.value, e.updatedMs);
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any kysely instance whose database has the table
export async function loadCollectorState(db: Kysely<any>, key: string): Promise<unknown | undefined> {
  const typed = db as Kysely<{ collector_state: CollectorStateTable }>;
  const row = await typed
    .selectFrom('collector_state')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return JSON.parse(row.value) as unknown;
}

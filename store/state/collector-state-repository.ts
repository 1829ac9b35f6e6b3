import type { StoreDb } from '../database.js';

/** The saved document under `key`, parsed; undefined when nothing was saved. */
export async function loadCollectorState(db: StoreDb, key: string): Promise<unknown | undefined> {
  const row = await db
    .selectFrom('collector_state')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return JSON.parse(row.value) as unknown;
}

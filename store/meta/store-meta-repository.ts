import type { StoreDb } from '../database.js';
import { MAX_FLOW_DURATION_KEY } from './store-meta-keys.js';

/** Longest flow duration stored so far, in ms (0 when the store is empty). */
export async function readMaxFlowDuration(db: StoreDb): Promise<number> {
  const row = await db
    .selectFrom('store_meta')
    .select('value')
    .where('key', '=', MAX_FLOW_DURATION_KEY)
    .executeTakeFirst();
  return Math.max(0, row?.value ?? 0);
}

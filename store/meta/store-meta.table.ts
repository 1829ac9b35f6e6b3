import type { Selectable } from 'kysely';

/** The `store_meta` table: small facts about the stored data, keyed by name. */
export interface StoreMetaTable {
  key: string;
  value: number;
}

export type StoreMetaRow = Selectable<StoreMetaTable>;

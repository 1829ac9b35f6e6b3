import type { StoreConfig } from './config.js';
import { parseStoreConfig } from './config.js';
import { openPostgresStore } from './postgres/open-postgres-store.js';
import { openSqliteStore } from './sqlite/open-sqlite-store.js';
import type { Store, StoreDeps } from './store.js';

export type { DatabaseInfo, ErrorWithSql, Store, StoreDeps, StoreEngine } from './store.js';

/**
 * Opens and migrates the store on its engine: PostgreSQL when `url` is set (store.url,
 * or `--db postgresql://...`), else the SQLite file at `path`. Throws StoreOpenError,
 * one clear line, and leaves nothing open when the database cannot be used.
 */
export async function openStore(
  config: Partial<StoreConfig> | StoreConfig,
  deps: StoreDeps = {},
): Promise<Store> {
  const fullConfig = parseStoreConfig(config);
  if (fullConfig.url !== undefined) return openPostgresStore(fullConfig, fullConfig.url, deps);
  return openSqliteStore(fullConfig, deps);
}

// The engine matrix (issue 10): suites that open their store here run on SQLite under
// `npm test`, and on PostgreSQL under `npm run test:postgres`, which sets
// TUNNELFLOW_TEST_ENGINE=postgres and TUNNELFLOW_TEST_PG_URL (test/postgres/global-setup.ts).
// Each store gets a database of its own: a fresh file, or a fresh PostgreSQL database.
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/open-store.js';
import type { StoreConfig } from '../../store/config.js';
import { createFreshDatabase } from '../postgres/fresh-database.js';
import { tempDir } from '../store/temp-store.js';

export type TestEngine = 'sqlite' | 'postgres';

/** The engine this run tests. */
export function testEngine(): TestEngine {
  return process.env['TUNNELFLOW_TEST_ENGINE'] === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * Where a fresh store of this run's engine lives: `{ path }` of a new file, or `{ url }` of
 * a new, empty PostgreSQL database. `cleanup()` removes the file's folder (PostgreSQL
 * databases go with the throwaway cluster).
 */
export async function freshStoreLocation(
  name: string,
): Promise<{ readonly location: Pick<StoreConfig, 'path'> | { url: string }; cleanup(): void }> {
  if (testEngine() === 'sqlite') {
    const tmp = tempDir(`tunnelflow-${name}-`);
    return { location: { path: tmp.path(`${name}.db`) }, cleanup: () => tmp.cleanup() };
  }
  return { location: { url: await createDatabase(name) }, cleanup: () => {} };
}

/** Opens (and migrates) a fresh store of this run's engine; closing it removes what it made. */
export async function openTestStore(name: string, config: Partial<StoreConfig> = {}): Promise<Store> {
  const { location, cleanup } = await freshStoreLocation(name);
  const store = await openStore({ ...config, ...location });
  const close = store.close;
  return Object.assign(store, {
    close: async () => {
      await close();
      cleanup();
    },
  });
}

/** A new database in the test cluster, named after the suite (t_<name>_<hex>); its URL. */
export async function createDatabase(name: string): Promise<string> {
  const prefix = `t_${name
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}`;
  return (await createFreshDatabase(prefix)).url;
}

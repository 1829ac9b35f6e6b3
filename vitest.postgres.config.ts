// `npm run test:postgres`: the tests that need a real PostgreSQL server, and the engine matrix.
// The global setup starts a throwaway cluster for the run (test/postgres/global-setup.ts).
// test/postgres holds the PostgreSQL-only suites; the suites listed in MATRIX open their store
// through test/helpers/test-store.ts and run here a second time, against PostgreSQL
// (TUNNELFLOW_TEST_ENGINE), after `npm test` ran them against SQLite. `npm test`
// (vitest.config.ts) leaves test/postgres out and stays server-free.
import { defineConfig } from 'vitest/config';

/** The store, analysis and API suites that run against both engines. */
export const MATRIX = [
  'test/api/api.test.ts',
  'test/store/flow-query.test.ts',
  'test/reports/corpus-report.test.ts',
];

export default defineConfig({
  test: {
    include: ['test/postgres/**/*.test.ts', ...MATRIX],
    globalSetup: ['test/postgres/global-setup.ts'],
    env: { TUNNELFLOW_TEST_ENGINE: 'postgres' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

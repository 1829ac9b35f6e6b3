// `npm run test:postgres`: the tests that need a real PostgreSQL server. The global setup starts
// a throwaway cluster for the run (test/postgres/global-setup.ts); `npm test` (vitest.config.ts)
// leaves test/postgres out and stays server-free.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/postgres/**/*.test.ts'],
    globalSetup: ['test/postgres/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

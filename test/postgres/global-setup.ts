// vitest globalSetup for `npm run test:postgres`: one throwaway cluster for the whole run
// (test/system/postgres-cluster.ts), one database in it, and its URL handed to the tests, both
// as `inject('TUNNELFLOW_TEST_PG_URL')` and as the environment variable of that name (for
// processes the tests spawn). The teardown stops the server and removes its directory.
import type { TestProject } from 'vitest/node';
import { startPostgresCluster } from '../system/postgres-cluster.js';

export const TEST_DATABASE = 'tunnelflow_test';

declare module 'vitest' {
  export interface ProvidedContext {
    TUNNELFLOW_TEST_PG_URL: string;
    /** The cluster's unix socket directory (local connections there need no password). */
    TUNNELFLOW_TEST_PG_SOCKET_DIR: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const cluster = await startPostgresCluster();
  try {
    cluster.createDatabase(TEST_DATABASE);
  } catch (error) {
    cluster.stop();
    throw error;
  }
  const url = cluster.url(TEST_DATABASE);
  process.env['TUNNELFLOW_TEST_PG_URL'] = url;
  project.provide('TUNNELFLOW_TEST_PG_URL', url);
  project.provide('TUNNELFLOW_TEST_PG_SOCKET_DIR', cluster.dir);
  process.stderr.write(`test/postgres: PostgreSQL on 127.0.0.1:${cluster.port}, data in ${cluster.dir}\n`);
  return () => cluster.stop();
}

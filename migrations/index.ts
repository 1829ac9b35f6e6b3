import type { Migration, MigrationProvider } from 'kysely';
import * as initialSchema from './20251123000000-initial-schema.js';
import * as tunnelKey from './20261123020000-tunnel-key.js';
import * as tunnels from './20261123010000-tunnels.js';
import * as reports from './20261207000000-reports.js';
import * as bucketRollups from './20261207010000-bucket-rollups.js';
import * as reportDaySummaries from './20261207020000-report-day-summaries.js';
import * as flowBlocks from './20261207030000-flow-blocks.js';

/**
 * Every migration, by name. A static list instead of kysely's FileMigrationProvider:
 * it survives bundling and compiling to dist/, and a missing file is a compile error,
 * not a surprise at startup. Names start with a UTC timestamp so they sort in the
 * order they were written; kysely refuses to run a list whose executed prefix changed.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '20251123000000-initial-schema': initialSchema,
  '20261123010000-tunnels': tunnels,
  '20261123020000-tunnel-key': tunnelKey,
  '20261207000000-reports': reports,
  '20261207010000-bucket-rollups': bucketRollups,
  '20261207020000-report-day-summaries': reportDaySummaries,
  '20261207030000-flow-blocks': flowBlocks,
};

/** The provider handed to kysely's Migrator: the static list above. */
export const migrationProvider: MigrationProvider = { getMigrations: async () => migrations };

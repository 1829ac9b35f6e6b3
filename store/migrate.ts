import { Migrator } from 'kysely';
import type { Kysely, MigrationProvider } from 'kysely';
import { migrationProvider } from '../migrations/index.js';
import { StoreOpenError } from './store-open-error.js';

/**
 * Brings the schema to the latest migration. kysely's Migrator never throws: it returns
 * an error and per-migration results, which are checked here so that a half-migrated
 * database stops the process with the name of the migration at fault.
 *
 * Returns the names of the migrations this call executed.
 */
export async function migrateToLatest(
  // Migrations see the database untyped (kysely's guidance), so the migrator does too.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  provider: MigrationProvider = migrationProvider,
): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    const where = failed ? `migration '${failed.migrationName}' failed` : 'migrations could not run';
    throw new StoreOpenError(`${where}: ${messageOf(error)}; the store refuses to start`, {
      cause: error,
      migration: failed?.migrationName ?? null,
    });
  }
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

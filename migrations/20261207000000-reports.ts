import type { Kysely } from 'kysely';
import { int, isPostgres, real } from './dialect.js';

// Typed against Kysely<any> on purpose: a migration is frozen in time (see the initial schema).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

/**
 * SLA reports (reports/): every run stored with its JSON body, and the last scheduled run
 * of each policy, so runs missed while the process was down are caught up at start.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const i = int(db);
  await db.schema
    .createTable('reports')
    // SQLite's AUTOINCREMENT never reuses an id; a PostgreSQL identity column neither.
    .addColumn('id', i, (c) =>
      isPostgres(db) ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('policy', 'text', (c) => c.notNull())
    /** scheduled, catch-up or on-demand. */
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('period_from_ms', i, (c) => c.notNull())
    .addColumn('period_to_ms', i, (c) => c.notNull())
    .addColumn('generated_ms', i, (c) => c.notNull())
    .addColumn('scheduled_ms', i)
    .addColumn('tunnels', i, (c) => c.notNull())
    .addColumn('breaching', i, (c) => c.notNull())
    .addColumn('worst_availability', real(db))
    /** The report as JSON (reports/report.ts SlaReport). */
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reports_policy').on('reports').columns(['policy', 'id']).execute();
  await db.schema
    .createTable('report_schedule')
    .addColumn('policy', 'text', (c) => c.primaryKey())
    .addColumn('last_scheduled_ms', i, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('report_schedule').ifExists().execute();
  await db.schema.dropTable('reports').ifExists().execute();
}

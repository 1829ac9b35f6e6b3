import type { Kysely } from 'kysely';
import { int } from './dialect.js';

// Typed against Kysely<any> on purpose: a migration is frozen in time (see the initial schema).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */

/**
 * Day summaries for SLA reports (reports/window-summary.ts): per tunnel and UTC day, what a
 * report needs of that day as one small JSON body, under the analysis options it was
 * computed with (`basis`). A month's report of a thousand tunnels reads 30,000 of these
 * instead of 86 million bucket rows. The writer deletes a tunnel's day when a bucket row of
 * that day changes after the day ended.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const i = int(db);
  await db.schema
    .createTable('report_day_summaries')
    .addColumn('tunnel_id', 'text', (c) => c.notNull())
    .addColumn('day_start_ms', i, (c) => c.notNull())
    .addColumn('basis', 'text', (c) => c.notNull())
    .addColumn('built_ms', i, (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('report_day_summaries_pk', ['tunnel_id', 'day_start_ms'])
    .execute();
  await db.schema
    .createIndex('report_day_summaries_day')
    .on('report_day_summaries')
    .columns(['day_start_ms'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('report_day_summaries').ifExists().execute();
}

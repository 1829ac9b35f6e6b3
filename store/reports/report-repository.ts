import type { StoreDb } from '../database.js';
import type { Selectable } from 'kysely';
import type { ReportTable } from './report.table.js';

/** What started a report run: its schedule, the catch-up at start, or a request (API, CLI). */
export type ReportTrigger = 'scheduled' | 'catch-up' | 'on-demand';

/** A stored report as the store keeps it: figures to list by, and the body as JSON text. */
export interface StoredReportRecord {
  readonly id: number;
  readonly policy: string;
  readonly trigger: ReportTrigger;
  readonly fromMs: number;
  readonly toMs: number;
  readonly generatedMs: number;
  readonly scheduledMs: number | null;
  readonly tunnels: number;
  readonly breaching: number;
  readonly worstAvailability: number | null;
  readonly body: string;
}

export type StoredReportListing = Omit<StoredReportRecord, 'body'>;

/** Stores a run; returns its id. */
export async function insertReport(db: StoreDb, r: Omit<StoredReportRecord, 'id'>): Promise<number> {
  const row = await db
    .insertInto('reports')
    .values({
      policy: r.policy,
      trigger: r.trigger,
      period_from_ms: r.fromMs,
      period_to_ms: r.toMs,
      generated_ms: r.generatedMs,
      scheduled_ms: r.scheduledMs,
      tunnels: r.tunnels,
      breaching: r.breaching,
      worst_availability: r.worstAvailability,
      body: r.body,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const listed = [
  'id',
  'policy',
  'trigger',
  'period_from_ms',
  'period_to_ms',
  'generated_ms',
  'scheduled_ms',
  'tunnels',
  'breaching',
  'worst_availability',
] as const;

type ListedRow = Omit<Selectable<ReportTable>, 'body'>;

function fromRow(row: ListedRow): StoredReportListing {
  return {
    id: row.id,
    policy: row.policy,
    trigger: row.trigger as ReportTrigger,
    fromMs: row.period_from_ms,
    toMs: row.period_to_ms,
    generatedMs: row.generated_ms,
    scheduledMs: row.scheduled_ms,
    tunnels: row.tunnels,
    breaching: row.breaching,
    worstAvailability: row.worst_availability,
  };
}

/** Newest first; `beforeId` is the id of the last item of the previous page. */
export async function listReports(
  db: StoreDb,
  opts: { readonly limit: number; readonly beforeId?: number | null; readonly policy?: string },
): Promise<StoredReportListing[]> {
  let q = db.selectFrom('reports').select(listed);
  if (opts.policy !== undefined) q = q.where('policy', '=', opts.policy);
  if (opts.beforeId != null) q = q.where('id', '<', opts.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
  return rows.map(fromRow);
}

export async function getReport(db: StoreDb, id: number): Promise<StoredReportRecord | undefined> {
  const row = await db
    .selectFrom('reports')
    .select([...listed, 'body'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row === undefined ? undefined : { ...fromRow(row), body: row.body };
}

/** The last scheduled run of a policy (ms), or null when it never ran. */
export async function lastScheduledRun(db: StoreDb, policy: string): Promise<number | null> {
  const row = await db
    .selectFrom('report_schedule')
    .select('last_scheduled_ms')
    .where('policy', '=', policy)
    .executeTakeFirst();
  return row?.last_scheduled_ms ?? null;
}

export async function setLastScheduledRun(db: StoreDb, policy: string, scheduledMs: number): Promise<void> {
  await db
    .insertInto('report_schedule')
    .values({ policy, last_scheduled_ms: scheduledMs })
    .onConflict((oc) => oc.column('policy').doUpdateSet({ last_scheduled_ms: scheduledMs }))
    .execute();
}

import type { StoreDb } from '../database.js';

/** The length of a summarized day (UTC days: a day starts at a multiple of it). */
export const SUMMARY_DAY_MS = 86_400_000;

/** One stored day of one tunnel; the body is the reports layer's JSON, opaque here. */
export interface DaySummaryRecord {
  readonly tunnelId: string;
  readonly dayStartMs: number;
  readonly body: string;
}

/** Tunnel ids per query: far under SQLite's bound-parameter limit. */
const CHUNK = 500;

/** `${tunnelId}|${dayStartMs}` of the stored days in [fromDayMs, toDayMs) with this basis. */
export async function storedDaySummaryKeys(
  db: StoreDb,
  tunnelIds: readonly string[],
  fromDayMs: number,
  toDayMs: number,
  basis: string,
): Promise<Set<string>> {
  const keys = new Set<string>();
  for (let i = 0; i < tunnelIds.length; i += CHUNK) {
    const rows = await db
      .selectFrom('report_day_summaries')
      .select(['tunnel_id', 'day_start_ms'])
      .where('tunnel_id', 'in', tunnelIds.slice(i, i + CHUNK))
      .where('day_start_ms', '>=', fromDayMs)
      .where('day_start_ms', '<', toDayMs)
      .where('basis', '=', basis)
      .execute();
    for (const r of rows) keys.add(`${r.tunnel_id}|${r.day_start_ms}`);
  }
  return keys;
}

/** One tunnel's stored days of [fromDayMs, toDayMs) with this basis, by day start. */
export async function loadDaySummaries(
  db: StoreDb,
  tunnelId: string,
  fromDayMs: number,
  toDayMs: number,
  basis: string,
): Promise<Map<number, string>> {
  const rows = await db
    .selectFrom('report_day_summaries')
    .select(['day_start_ms', 'body'])
    .where('tunnel_id', '=', tunnelId)
    .where('day_start_ms', '>=', fromDayMs)
    .where('day_start_ms', '<', toDayMs)
    .where('basis', '=', basis)
    .execute();
  return new Map(rows.map((r) => [r.day_start_ms, r.body]));
}

/** Stores days (replacing any stored for the same tunnel and day), in one transaction. */
export async function saveDaySummaries(
  db: StoreDb,
  days: readonly DaySummaryRecord[],
  basis: string,
  builtMs: number,
): Promise<void> {
  if (days.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < days.length; i += CHUNK) {
      await trx
        .insertInto('report_day_summaries')
        .values(
          days.slice(i, i + CHUNK).map((d) => ({
            tunnel_id: d.tunnelId,
            day_start_ms: d.dayStartMs,
            basis,
            built_ms: builtMs,
            body: d.body,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['tunnel_id', 'day_start_ms']).doUpdateSet((eb) => ({
            basis: eb.ref('excluded.basis'),
            built_ms: eb.ref('excluded.built_ms'),
            body: eb.ref('excluded.body'),
          })),
        )
        .execute();
    }
  });
}

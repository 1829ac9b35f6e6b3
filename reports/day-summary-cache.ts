import type { StoreDb } from '../store/database.js';
import {
  loadDaySummaries,
  saveDaySummaries,
  storedDaySummaryKeys,
} from '../store/reports/day-summary-repository.js';
import type { DaySummaryCache } from './build-report.js';
import type { WindowSummary } from './window-summary.js';

/** Day summaries kept in the store's `report_day_summaries` table, as JSON. */
export function createDaySummaryCache(db: StoreDb): DaySummaryCache {
  return {
    storedKeys: (ids, from, to, basis) => storedDaySummaryKeys(db, ids, from, to, basis),
    async load(id, from, to, basis) {
      const bodies = await loadDaySummaries(db, id, from, to, basis);
      return new Map([...bodies].map(([day, body]) => [day, JSON.parse(body) as WindowSummary]));
    },
    save: (days, basis, builtMs) =>
      saveDaySummaries(
        db,
        days.map((d) => ({
          tunnelId: d.tunnelId,
          dayStartMs: d.dayStartMs,
          body: JSON.stringify(d.summary),
        })),
        basis,
        builtMs,
      ),
  };
}

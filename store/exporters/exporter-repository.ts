import type { StoreDb } from '../database.js';
import type { ExportVersion } from '../../model/flow.js';
import type { ExporterCounters } from './exporter-counters.js';
import type { ExporterRow, NewExporterRow } from './exporter.table.js';

/** Every exporter and domain with its counters, ordered by exporter then domain. */
export async function loadExporterCounters(db: StoreDb): Promise<ExporterCounters[]> {
  const rows = await db
    .selectFrom('exporters')
    .selectAll()
    .orderBy('exporter')
    .orderBy('domain_id')
    .execute();
  return rows.map(toExporterCounters);
}

/**
 * Upserts absolute counters through kysely. The collector's live path goes through the
 * flow writer instead (same SQL, prepared, in the writer's transactions); this one is for
 * tools and tests that have no writer.
 */
export async function upsertExporterCounters(db: StoreDb, counters: ExporterCounters): Promise<void> {
  const row = toExporterRow(counters);
  await db
    .insertInto('exporters')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['exporter', 'domain_id']).doUpdateSet((eb) => ({
        version: eb.fn.coalesce(eb.ref('excluded.version'), eb.ref('exporters.version')),
        datagrams: eb.ref('excluded.datagrams'),
        records: eb.ref('excluded.records'),
        templates: eb.ref('excluded.templates'),
        options_records: eb.ref('excluded.options_records'),
        malformed: eb.ref('excluded.malformed'),
        missing_template_records: eb.ref('excluded.missing_template_records'),
        sequence_gaps: eb.ref('excluded.sequence_gaps'),
        dropped: eb.ref('excluded.dropped'),
        issues: eb.ref('excluded.issues'),
        first_seen_ms: eb.fn('min', [eb.ref('exporters.first_seen_ms'), eb.ref('excluded.first_seen_ms')]),
        last_seen_ms: eb.fn('max', [eb.ref('exporters.last_seen_ms'), eb.ref('excluded.last_seen_ms')]),
      })),
    )
    .execute();
}

export function toExporterCounters(row: ExporterRow): ExporterCounters {
  return {
    exporter: row.exporter,
    domainId: row.domain_id,
    version: (row.version ?? null) as ExportVersion | null,
    datagrams: row.datagrams,
    records: row.records,
    templates: row.templates,
    optionsRecords: row.options_records,
    malformed: row.malformed,
    missingTemplateRecords: row.missing_template_records,
    sequenceGaps: row.sequence_gaps,
    dropped: row.dropped,
    issues: parseIssues(row.issues),
    firstSeenMs: row.first_seen_ms,
    lastSeenMs: row.last_seen_ms,
  };
}

export function toExporterRow(counters: ExporterCounters): NewExporterRow {
  return {
    exporter: counters.exporter,
    domain_id: counters.domainId,
    version: counters.version,
    datagrams: counters.datagrams,
    records: counters.records,
    templates: counters.templates,
    options_records: counters.optionsRecords,
    malformed: counters.malformed,
    missing_template_records: counters.missingTemplateRecords,
    sequence_gaps: counters.sequenceGaps,
    dropped: counters.dropped,
    issues: JSON.stringify(counters.issues ?? {}),
    first_seen_ms: counters.firstSeenMs,
    last_seen_ms: counters.lastSeenMs,
  };
}

// A hand-edited or truncated value must not make the exporters list unreadable.
function parseIssues(json: string): Record<string, number> {
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const issues: Record<string, number> = {};
    for (const [kind, count] of Object.entries(parsed)) if (typeof count === 'number') issues[kind] = count;
    return issues;
  } catch {
    return {};
  }
}

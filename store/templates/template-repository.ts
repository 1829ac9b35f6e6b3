import type { StoreDb } from '../database.js';
import type { TemplateKey, TemplateSnapshot } from './template-snapshot.js';
import type { TemplateRow } from './template.table.js';

/** Every stored template, for the decoder's cache at startup. A body that is not JSON is skipped. */
export async function loadTemplates(db: StoreDb): Promise<TemplateSnapshot[]> {
  const rows = await db
    .selectFrom('templates')
    .selectAll()
    .orderBy('exporter')
    .orderBy('domain_id')
    .orderBy('template_id')
    .execute();
  const snapshots: TemplateSnapshot[] = [];
  for (const row of rows) {
    const snapshot = toTemplateSnapshot(row);
    if (snapshot !== null) snapshots.push(snapshot);
  }
  return snapshots;
}

/** Saves (inserts or replaces) one template through kysely; the collector uses the writer instead. */
export async function saveTemplate(db: StoreDb, template: TemplateSnapshot): Promise<void> {
  const row = {
    exporter: template.exporter,
    domain_id: template.domainId,
    template_id: template.templateId,
    version: template.version,
    body: JSON.stringify(template.body),
    updated_ms: template.updatedMs,
  };
  await db
    .insertInto('templates')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['exporter', 'domain_id', 'template_id']).doUpdateSet({
        version: row.version,
        body: row.body,
        updated_ms: row.updated_ms,
      }),
    )
    .execute();
}

/** Deletes one template (withdrawal, RFC 7011 §8.1); returns whether it existed. */
export async function deleteTemplate(db: StoreDb, key: TemplateKey): Promise<boolean> {
  const result = await db
    .deleteFrom('templates')
    .where('exporter', '=', key.exporter)
    .where('domain_id', '=', key.domainId)
    .where('template_id', '=', key.templateId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

function toTemplateSnapshot(row: TemplateRow): TemplateSnapshot | null {
  let body: unknown;
  try {
    body = JSON.parse(row.body);
  } catch {
    return null;
  }
  return {
    exporter: row.exporter,
    domainId: row.domain_id,
    templateId: row.template_id,
    version: row.version,
    body,
    updatedMs: row.updated_ms,
  };
}

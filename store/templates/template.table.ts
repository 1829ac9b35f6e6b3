import type { Insertable, Selectable } from 'kysely';

/** The `templates` table: one opaque snapshot per (exporter, domain, template id). */
export interface TemplateTable {
  exporter: string;
  domain_id: number;
  template_id: number;
  version: number;
  /** JSON text of the decoder's template cache entry; the store never looks inside. */
  body: string;
  updated_ms: number;
}

export type TemplateRow = Selectable<TemplateTable>;
export type NewTemplateRow = Insertable<TemplateTable>;

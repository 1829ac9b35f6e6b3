import { storedTemplateId } from '../store/templates/template-snapshot.js';
import type {
  TemplateKey,
  TemplateSnapshot as StoredTemplate,
} from '../store/templates/template-snapshot.js';
import type { TemplateCache, TemplateCacheChange, TemplateSnapshot } from './wire/template-cache.js';

/**
 * The template cache's changes since the last flush (the latest per template), turned into
 * what the store saves and deletes. The cache's snapshots are persisted whole, as the
 * store's opaque `body`, under the store's template key.
 */
export class PendingTemplates {
  readonly #cache: TemplateCache;
  readonly #changes = new Map<string, TemplateCacheChange>();

  constructor(cache: TemplateCache) {
    this.#cache = cache;
  }

  /** Takes what the cache changed (call after each datagram: the cache queues by key). */
  collect(): void {
    for (const change of this.#cache.drainChanges()) {
      this.#changes.set(change.type === 'upsert' ? change.snapshot.key : change.key, change);
    }
  }

  take(): { saveTemplates: StoredTemplate[]; deleteTemplates: TemplateKey[] } {
    const saveTemplates: StoredTemplate[] = [];
    const deleteTemplates: TemplateKey[] = [];
    for (const change of this.#changes.values()) {
      if (change.type === 'upsert') saveTemplates.push(toStoredTemplate(change.snapshot));
      else
        deleteTemplates.push({
          exporter: change.exporter,
          domainId: change.domainId,
          templateId: storedTemplateId(change.version, change.templateId),
        });
    }
    this.#changes.clear();
    return { saveTemplates, deleteTemplates };
  }
}

function toStoredTemplate(snapshot: TemplateSnapshot): StoredTemplate {
  const isTemplate = snapshot.kind === 'template';
  return {
    exporter: snapshot.exporter,
    domainId: snapshot.domainId,
    templateId: storedTemplateId(snapshot.version, isTemplate ? snapshot.templateId : null),
    version: snapshot.version,
    body: snapshot,
    updatedMs: isTemplate ? snapshot.refreshedMs : snapshot.updatedMs,
  };
}

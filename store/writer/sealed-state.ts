import type { ExporterBucket } from '../../model/exporter-bucket.js';
import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import type { ExporterCounters } from '../exporters/exporter-counters.js';
import type { CollectorStateEntry } from '../state/collector-state.table.js';
import type { TemplateKey, TemplateSnapshot } from '../templates/template-snapshot.js';
import type { StoreBatch } from './store-batch.js';

/** A StoreBatch made ready for the sink: JSON serialised, every list present. */
export interface SealedState {
  readonly saveTemplates: ReadonlyArray<Omit<TemplateSnapshot, 'body'> & { readonly bodyJson: string }>;
  readonly deleteTemplates: readonly TemplateKey[];
  readonly exporters: ReadonlyArray<Omit<ExporterCounters, 'issues'> & { readonly issuesJson: string }>;
  readonly exporterBuckets: readonly ExporterBucket[];
  readonly tunnels: readonly Tunnel[];
  readonly sas: readonly SecurityAssociation[];
  readonly tunnelBuckets: readonly TunnelBucketDelta[];
  readonly collectorState: readonly CollectorStateEntry[];
  /** StoreBatch.receivedMs, or null for the commit time. */
  readonly receivedMs: number | null;
}

export interface SealOutcome {
  readonly state: SealedState;
  /** Items left out because they could not be serialised. */
  readonly rejected: number;
  readonly firstRejection: string | null;
}

/**
 * Serialises the JSON columns on the caller's side, where a template body that
 * JSON cannot represent is refused alone instead of failing a whole transaction later.
 * 64-bit values given as BigInt become decimal strings (store/bigint-policy.ts).
 */
export function sealStoreBatch(batch: StoreBatch): SealOutcome {
  let rejected = 0;
  let firstRejection: string | null = null;
  const refuse = (reason: string): void => {
    rejected += 1;
    firstRejection ??= reason;
  };
  const saveTemplates: Array<SealedState['saveTemplates'][number]> = [];
  for (const template of listOf(batch.saveTemplates)) {
    const bodyJson = toJson(template?.body);
    if (bodyJson === null) refuse('template body is not JSON-serialisable');
    else
      saveTemplates.push({
        ...pickTemplateKey(template),
        version: template.version,
        updatedMs: template.updatedMs,
        bodyJson,
      });
  }
  const exporters: Array<SealedState['exporters'][number]> = [];
  for (const counters of listOf(batch.exporters)) {
    const issuesJson = toJson(counters?.issues ?? {});
    if (issuesJson === null || counters === null || typeof counters !== 'object') {
      refuse('exporter issues are not JSON-serialisable');
      continue;
    }
    const { issues: _issues, ...rest } = counters;
    exporters.push({ ...rest, version: rest.version ?? null, issuesJson });
  }
  return {
    state: {
      saveTemplates,
      deleteTemplates: listOf(batch.deleteTemplates).map(pickTemplateKey),
      exporters,
      exporterBuckets: listOf(batch.exporterBuckets).map((b) => ({ ...b })),
      tunnels: listOf(batch.tunnels),
      sas: listOf(batch.sas),
      tunnelBuckets: listOf(batch.tunnelBuckets),
      collectorState: listOf(batch.collectorState),
      receivedMs:
        typeof batch.receivedMs === 'number' && Number.isFinite(batch.receivedMs) ? batch.receivedMs : null,
    },
    rejected,
    firstRejection,
  };
}

/** True when the sealed state has nothing to write. */
export function isEmptyState(state: SealedState): boolean {
  return (
    state.saveTemplates.length === 0 &&
    state.deleteTemplates.length === 0 &&
    state.exporters.length === 0 &&
    state.exporterBuckets.length === 0 &&
    state.tunnels.length === 0 &&
    state.sas.length === 0 &&
    state.tunnelBuckets.length === 0 &&
    state.collectorState.length === 0
  );
}

function pickTemplateKey(key: TemplateKey): TemplateKey {
  return { exporter: key?.exporter, domainId: key?.domainId, templateId: key?.templateId };
}

function listOf<T>(value: readonly T[] | undefined): readonly T[] {
  return Array.isArray(value) ? value : [];
}

function toJson(value: unknown): string | null {
  try {
    const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return json === undefined ? null : json;
  } catch {
    return null;
  }
}

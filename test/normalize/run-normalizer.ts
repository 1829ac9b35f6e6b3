import { parseNormalizeConfig } from '../../collector/normalize/config.js';
import type { NormalizeConfigInput } from '../../collector/normalize/config.js';
import { createNormalizer } from '../../collector/normalize/normalizer.js';
import type { Normalizer, NormalizerChanges } from '../../collector/normalize/normalizer.js';
import type { FlowRecord, NormalizedFlow } from '../../model/flow.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import { addBucketCounts, emptyBucketCounts } from '../../model/tunnel-bucket.js';
import type { TunnelBucket, TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import { viewTunnel } from '../../analysis/tunnel-view.js';
import type { TunnelView } from '../../analysis/tunnel-view.js';

export interface NormalizerRun {
  readonly normalizer: Normalizer;
  readonly flows: NormalizedFlow[];
  /** Bucket deltas summed per key, as the store's additive upsert leaves them. */
  readonly rows: TunnelBucket[];
  /** Tunnels and SAs as upserted from each batch's `tunnels` / `sas` (min first, max last seen). */
  readonly tunnels: Map<string, Tunnel>;
  readonly sas: Map<string, SecurityAssociation>;
  view(tunnelId: string, fromMs: number, toMs: number, stepMs?: number): TunnelView;
}

/**
 * Feeds batches through one normalizer and keeps what the store would keep. By default each
 * batch's changes are taken with it (`process`); with `takeEvery` the changes are kept over
 * that many batches and taken then (`normalize` + `takeChanges`, as the live pipeline does
 * once per flush), and at the end.
 */
export function runNormalizer(
  batches: readonly (readonly FlowRecord[])[],
  configInput: NormalizeConfigInput = {},
  options: { readonly takeEvery?: number } = {},
): NormalizerRun {
  const config = parseNormalizeConfig(configInput);
  const normalizer = createNormalizer(config);
  const flows: NormalizedFlow[] = [];
  const rowMap = new Map<string, TunnelBucketDelta>();
  const tunnels = new Map<string, Tunnel>();
  const sas = new Map<string, SecurityAssociation>();
  const changes = (batch: readonly FlowRecord[], index: number): NormalizerChanges | null => {
    if (options.takeEvery === undefined) {
      const result = normalizer.process(batch);
      flows.push(...result.flows);
      return result;
    }
    flows.push(...normalizer.normalize(batch));
    const last = index === batches.length - 1;
    return last || (index + 1) % options.takeEvery === 0 ? normalizer.takeChanges() : null;
  };
  for (const [index, batch] of batches.entries()) {
    const result = changes(batch, index);
    if (result === null) continue;
    for (const delta of result.buckets) {
      const key = `${delta.tunnelId}|${delta.bucketStartMs}|${delta.direction}|${delta.exporter}|${delta.domainId}`;
      let row = rowMap.get(key);
      if (row === undefined) {
        row = {
          tunnelId: delta.tunnelId,
          bucketStartMs: delta.bucketStartMs,
          direction: delta.direction,
          exporter: delta.exporter,
          domainId: delta.domainId,
          ...emptyBucketCounts(),
        };
        rowMap.set(key, row);
      }
      addBucketCounts(row, delta);
    }
    for (const t of result.tunnels) {
      const old = tunnels.get(t.id);
      tunnels.set(
        t.id,
        old === undefined
          ? t
          : {
              ...t,
              firstSeenMs: Math.min(old.firstSeenMs, t.firstSeenMs),
              lastSeenMs: Math.max(old.lastSeenMs, t.lastSeenMs),
            },
      );
    }
    for (const sa of result.sas) {
      const old = sas.get(sa.id);
      sas.set(
        sa.id,
        old === undefined
          ? sa
          : {
              ...sa,
              firstSeenMs: Math.min(old.firstSeenMs, sa.firstSeenMs),
              lastSeenMs: Math.max(old.lastSeenMs, sa.lastSeenMs),
            },
      );
    }
  }
  const rows = [...rowMap.values()];
  return {
    normalizer,
    flows,
    rows,
    tunnels,
    sas,
    view(tunnelId: string, fromMs: number, toMs: number, stepMs?: number): TunnelView {
      const tunnel = tunnels.get(tunnelId);
      if (tunnel === undefined) throw new Error(`no tunnel ${tunnelId}`);
      return viewTunnel(tunnel, [...sas.values()], rows, {
        fromMs,
        toMs,
        bucketMs: config.bucketSeconds * 1000,
        ...(stepMs === undefined ? {} : { stepMs }),
        observationPoints: config.observationPoints,
        ceilingRatio: config.loss.ceilingRatio,
      });
    },
  };
}

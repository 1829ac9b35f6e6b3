import type { FlowRecord, NormalizedFlow } from '../../model/flow.js';
import type { Encapsulation } from '../../model/tunnel.js';
import { carriesLoss, checkLoss, noLoss, normalizedFlow } from './attribution.js';
import type { Attribution } from './attribution.js';
import type { BaseKind } from './classify-kind.js';
import type { LossVerdict } from './loss-validation.js';
import type { TunnelState } from './normalizer-state.js';
import { directionOf } from './tunnel-registry.js';

/**
 * ESP, ESP-in-UDP and ESP fragments: the tunnel of the peer pair (created on first sight),
 * the SA, the loss check and the bucket counters. The flow's `validatedLoss` is the
 * exporter's own loss value after validation or, when the record has none, the loss from its
 * ESP sequence numbers; a loss value beside first/last sequence numbers is a probe's window
 * count and goes with the sequence loss (loss-validation.ts, README "Loss"); the bucket keeps
 * the two apart (`reportedLost` / `sequenceLost`). `tunnel` is given when the
 * caller has found it already (attribute-fragment.ts: fragments join an existing tunnel).
 */
export function attributeEsp(
  ctx: Attribution,
  r: FlowRecord,
  kind: BaseKind,
  tunnel?: TunnelState,
): NormalizedFlow {
  const encapsulation: Encapsulation = r.proto === 17 ? 'esp-in-udp' : 'esp';
  const t =
    tunnel ??
    ctx.tunnels.find(r.src, r.dst, encapsulation, r.srcIpv4, r.dstIpv4) ??
    ctx.tunnels.create(r.src, r.dst, encapsulation, r.startMs, r.endMs);
  ctx.tunnels.touch(t, r.startMs, r.endMs);
  if (t.lastEspMs === null || r.endMs > t.lastEspMs) t.lastEspMs = r.endMs;
  const direction = directionOf(t, r.src);
  // A fragment flow without SPI cannot name its SA; it belongs to the direction's current one.
  const sa =
    kind === 'esp-fragment' && r.spi === null
      ? ctx.sas.current(t, direction)
      : ctx.sas.saFor(r, t, direction);
  let loss: LossVerdict | null = null;
  if (carriesLoss(r)) {
    const across = r.spi === null && ctx.sas.changedDuring(t, direction, sa, r.startMs, r.endMs);
    loss = checkLoss(ctx, r, kind, across);
  }
  ctx.buckets.addEsp(t.id, direction, r, kind, loss ?? noLoss);
  return normalizedFlow(ctx, r, kind, t.id, sa === null ? null : sa.id, direction, loss);
}

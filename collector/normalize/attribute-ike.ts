import type { FlowRecord, NormalizedFlow } from '../../model/flow.js';
import type { Encapsulation } from '../../model/tunnel.js';
import { carriesLoss, checkLoss, normalizedFlow } from './attribution.js';
import type { Attribution } from './attribution.js';
import { directionOf } from './tunnel-registry.js';

/**
 * IKE joins the tunnel of its peer pair. IKE from or to a port other than 500 went through
 * a NAT, so the peers will talk NAT-T: such IKE prefers the pair's ESP-in-UDP tunnel and
 * creates one if the pair has none; plain 500↔500 IKE prefers (or creates) the ESP tunnel.
 */
export function attributeIke(ctx: Attribution, r: FlowRecord): NormalizedFlow {
  const natHint = (r.srcPort ?? 500) !== 500 || (r.dstPort ?? 500) !== 500;
  const preferred: Encapsulation = natHint ? 'esp-in-udp' : 'esp';
  const other: Encapsulation = natHint ? 'esp' : 'esp-in-udp';
  const t =
    ctx.tunnels.find(r.src, r.dst, preferred, r.srcIpv4, r.dstIpv4) ??
    ctx.tunnels.find(r.src, r.dst, other, r.srcIpv4, r.dstIpv4) ??
    ctx.tunnels.create(r.src, r.dst, preferred, r.startMs, r.endMs);
  ctx.tunnels.touch(t, r.startMs, r.endMs);
  const direction = directionOf(t, r.src);
  const loss = carriesLoss(r) ? checkLoss(ctx, r, 'ike', false) : null;
  ctx.buckets.addCount(t.id, direction, r, 'ikePackets', loss?.clearedReason ?? null);
  return normalizedFlow(ctx, r, 'ike', t.id, null, direction, loss);
}

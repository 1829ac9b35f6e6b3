import type { FlowRecord, NormalizedFlow } from '../../model/flow.js';
import { carriesLoss, checkLoss, normalizedFlow } from './attribution.js';
import type { Attribution } from './attribution.js';
import type { TunnelState } from './normalizer-state.js';
import { directionOf } from './tunnel-registry.js';

/**
 * An ICMP frag-needed belongs to the tunnel of the peer it is sent to (the peer whose
 * ESP was too big) or, failing that, the peer that sends it. The quoted packet (which
 * names the SA) is not in a flow record, so for a hub with several tunnels the one
 * towards the ICMP's other end wins, else the one with the latest ESP (ties by id).
 * The direction is the one the affected ESP travels: from that peer to the other.
 */
export function attributeIcmpFragNeeded(ctx: Attribution, r: FlowRecord): NormalizedFlow {
  let peer = r.dst;
  let ids = ctx.tunnels.ofPeer(r.dst);
  if (ids === undefined || ids.length === 0) {
    peer = r.src;
    ids = ctx.tunnels.ofPeer(r.src);
  }
  const loss = carriesLoss(r) ? checkLoss(ctx, r, 'icmp-frag-needed', false) : null;
  const otherEnd = peer === r.dst ? r.src : r.dst;
  let best: TunnelState | undefined;
  for (const id of ids ?? []) {
    const t = ctx.tunnels.get(id);
    if (t === undefined) continue;
    if (t.peerA === otherEnd || t.peerB === otherEnd) {
      best = t;
      break;
    }
    if (best === undefined || (t.lastEspMs ?? -1) > (best.lastEspMs ?? -1)) best = t;
    else if ((t.lastEspMs ?? -1) === (best.lastEspMs ?? -1) && t.id < best.id) best = t;
  }
  if (best === undefined) {
    ctx.batch.counters.icmpFragNeededUnattributed++;
    return normalizedFlow(ctx, r, 'icmp-frag-needed', null, null, null, loss);
  }
  const direction = directionOf(best, peer);
  ctx.buckets.addCount(best.id, direction, r, 'icmpFragNeeded', loss?.clearedReason ?? null);
  return normalizedFlow(ctx, r, 'icmp-frag-needed', best.id, null, direction, loss);
}

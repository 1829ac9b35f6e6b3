import type { FlowKind, FlowRecord, NormalizedFlow, TunnelDirection } from '../../model/flow.js';
import { carriesLoss, checkLoss, normalizedFlow } from './attribution.js';
import type { Attribution } from './attribution.js';
import { isIcmpError } from './classify-kind.js';
import type { TunnelState } from './normalizer-state.js';
import { parseAddress } from './subnet-matcher.js';
import { directionOf } from './tunnel-registry.js';

/**
 * Everything else, checked for leaks: traffic between the two peers of a known tunnel
 * (ICMP errors excepted, see classify-kind.ts), or between the protected subnets of a
 * configured tunnel (which need not have been seen yet: the configuration names it).
 */
export function attributeOther(ctx: Attribution, r: FlowRecord): NormalizedFlow {
  let t: TunnelState | undefined;
  let direction: TunnelDirection = 'a-b';
  if (!isIcmpError(r)) {
    t = ctx.tunnels.latestBetween(r.src, r.dst, r.srcIpv4, r.dstIpv4);
    if (t !== undefined) direction = directionOf(t, r.src);
  }
  if (t === undefined && ctx.configured.length > 0) {
    const src = parseAddress(r.src);
    const dst = src === null ? null : parseAddress(r.dst);
    if (src !== null && dst !== null && ctx.anyProtected.contains(src) && ctx.anyProtected.contains(dst)) {
      for (const c of ctx.configured) {
        let fromPeer: string | null = null;
        if (c.a.contains(src) && c.b.contains(dst)) fromPeer = c.peerA;
        else if (c.b.contains(src) && c.a.contains(dst)) fromPeer = c.peerB;
        if (fromPeer === null) continue;
        t =
          ctx.tunnels.latestBetween(c.peerA, c.peerB) ??
          ctx.tunnels.create(c.peerA, c.peerB, 'esp', r.startMs, r.endMs);
        direction = directionOf(t, fromPeer);
        break;
      }
    }
  }
  const kind: FlowKind = t === undefined ? 'other' : 'cleartext-leak';
  const loss = carriesLoss(r) ? checkLoss(ctx, r, kind, false) : null;
  if (t === undefined) return normalizedFlow(ctx, r, kind, null, null, null, loss);
  ctx.buckets.addCount(t.id, direction, r, 'leakPackets', loss?.clearedReason ?? null);
  return normalizedFlow(ctx, r, kind, t.id, null, direction, loss);
}

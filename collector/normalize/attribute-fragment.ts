import type { FlowRecord, NormalizedFlow } from '../../model/flow.js';
import { attributeEsp } from './attribute-esp.js';
import type { Attribution } from './attribution.js';
import { isBareFragmentShape } from './classify-kind.js';
import type { TunnelState } from './normalizer-state.js';

/**
 * The tunnel whose ESP a fragment-shaped record (classify-kind.ts `isBareFragmentShape`) is
 * part of, or undefined. An exporter that meters fragments as flows of their own (softflowd)
 * shows the non-first fragments of a tunnel's packets without transport header: for NAT-T as
 * IPv4 `proto 17, ports 0/0` beside the UDP 4500 flow, for IPv6 ESP as next header 44 (or 0).
 * Between the two peers of a known tunnel they are that tunnel's ESP, not cleartext: IPv4 UDP
 * fragments belong to the pair's ESP-in-UDP tunnel (ESP fragments keep protocol 50, so a plain
 * ESP tunnel never sees this shape); IPv6 fragments to the pair's latest tunnel.
 */
export function fragmentTunnel(ctx: Attribution, r: FlowRecord): TunnelState | undefined {
  if (!isBareFragmentShape(r)) return undefined;
  if (r.ipVersion === 4) return ctx.tunnels.find(r.src, r.dst, 'esp-in-udp', r.srcIpv4, r.dstIpv4);
  return ctx.tunnels.latestBetween(r.src, r.dst, r.srcIpv4, r.dstIpv4);
}

/** A fragment-shaped record between the peers of `t`: an `esp-fragment` flow of the tunnel. */
export function attributeFragment(ctx: Attribution, r: FlowRecord, t: TunnelState): NormalizedFlow {
  return attributeEsp(ctx, r, 'esp-fragment', t);
}

/**
 * Tunnel health from what was seen (the runbook in seeds/, DESIGN.md "Tunnels and security
 * associations"): ESP both ways is `up`, one way `one-way`; without ESP, IKE both ways is
 * `negotiating`, from one peer only `ike-one-sided`; nothing is `idle`.
 */
export type TunnelHealth = 'up' | 'one-way' | 'negotiating' | 'ike-one-sided' | 'idle';

/** Conditions shown next to the state; several can hold at once. */
export type TunnelFlag = 'fragmenting' | 'mtu-blackhole-risk' | 'leaking';

/** What health is decided on, per direction (A→B, B→A) and for the tunnel. */
export interface HealthEvidence {
  readonly espAToB: number;
  readonly espBToA: number;
  readonly ikeAToB: number;
  readonly ikeBToA: number;
  readonly fragments: number;
  readonly icmpFragNeeded: number;
  readonly leakPackets: number;
}

export function healthState(e: HealthEvidence): TunnelHealth {
  if (e.espAToB > 0 && e.espBToA > 0) return 'up';
  if (e.espAToB > 0 || e.espBToA > 0) return 'one-way';
  if (e.ikeAToB > 0 && e.ikeBToA > 0) return 'negotiating';
  if (e.ikeAToB > 0 || e.ikeBToA > 0) return 'ike-one-sided';
  return 'idle';
}

/** Flags in a fixed order, so responses and tests compare as arrays. */
export function healthFlags(e: HealthEvidence): TunnelFlag[] {
  const flags: TunnelFlag[] = [];
  if (e.fragments > 0) flags.push('fragmenting');
  if (e.icmpFragNeeded > 0) flags.push('mtu-blackhole-risk');
  if (e.leakPackets > 0) flags.push('leaking');
  return flags;
}

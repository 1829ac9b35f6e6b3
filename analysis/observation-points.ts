import type { TunnelDirection } from '../model/flow.js';

/** An observation point as configured (DESIGN.md `observationPoints`); the store's own copy of the shape. */
export interface ObservationPointSpec {
  readonly exporter: string;
  readonly domain?: number | undefined;
  readonly near: string;
}

/** Where an observation point sits relative to one tunnel. */
export interface PointPlacement {
  readonly exporter: string;
  readonly domainId: number;
  /** The peer it sees first-hand: `a`, `b`, or unknown. */
  readonly near: 'a' | 'b' | null;
  /** `config` (observationPoints), `inferred` (the exporter's address is a peer) or `unknown`. */
  readonly placedBy: 'config' | 'inferred' | 'unknown';
}

export function pointKey(exporter: string, domainId: number): string {
  return `${exporter}|${domainId}`;
}

/**
 * Places each observation point that exported records of the tunnel. A configured entry
 * (matching exporter, and domain when the entry names one) wins; otherwise an exporter
 * whose own address is one of the peers is taken to sit at that peer (a router exporting
 * its own traffic). A configured `near` that is neither peer says the point is elsewhere
 * for this tunnel, so it stays unplaced rather than guessed.
 */
export function placeObservationPoints(
  peerA: string,
  peerB: string,
  points: readonly { readonly exporter: string; readonly domainId: number }[],
  config: readonly ObservationPointSpec[],
): PointPlacement[] {
  return points.map(({ exporter, domainId }) => {
    const spec =
      config.find((c) => c.exporter === exporter && c.domain === domainId) ??
      config.find((c) => c.exporter === exporter && c.domain === undefined);
    if (spec !== undefined) {
      const near = spec.near === peerA ? 'a' : spec.near === peerB ? 'b' : null;
      return { exporter, domainId, near, placedBy: 'config' as const };
    }
    if (exporter === peerA) return { exporter, domainId, near: 'a' as const, placedBy: 'inferred' as const };
    if (exporter === peerB) return { exporter, domainId, near: 'b' as const, placedBy: 'inferred' as const };
    return { exporter, domainId, near: null, placedBy: 'unknown' as const };
  });
}

/** The side a direction's traffic leaves from (`a-b` is sent by peer A). */
export function senderSide(direction: TunnelDirection): 'a' | 'b' {
  return direction === 'a-b' ? 'a' : 'b';
}

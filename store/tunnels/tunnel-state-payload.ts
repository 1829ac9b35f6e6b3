import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';

/** What the collector submits to the writer's `tunnels` extension after normalizing. */
export interface TunnelStatePayload {
  readonly tunnels: readonly Tunnel[];
  readonly sas: readonly SecurityAssociation[];
  readonly buckets: readonly TunnelBucketDelta[];
}

/** The extension's name in StoreBatch.extra. */
export const TUNNELS_EXTENSION = 'tunnels';

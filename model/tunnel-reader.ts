import type { ExporterBucket } from './exporter-bucket.js';
import type { TunnelBucket } from './tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from './tunnel.js';

/** An observation point: one exporter and observation domain. */
export interface PointRef {
  readonly exporter: string;
  readonly domainId: number;
}

/**
 * What the analysis reads, in domain types. A storage engine implements it (SQLite:
 * store/tunnels/tunnel-repository.ts); the analysis never sees an engine's own types, so
 * the same tunnel figures, loss and reports come out of any engine.
 */
export interface TunnelReader {
  /** Tunnels seen at some point of [fromMs, toMs), in peer order. */
  listTunnels(fromMs: number, toMs: number): Promise<Tunnel[]>;
  /** Tunnels by id (any order); unknown ids are left out. */
  getTunnels(ids: readonly string[]): Promise<Tunnel[]>;
  /** SAs of the given tunnels alive at some point of [fromMs, toMs), oldest first. */
  listSas(tunnelIds: readonly string[], fromMs: number, toMs: number): Promise<SecurityAssociation[]>;
  /** Bucket rows with a start in [fromMs, toMs), of one tunnel or (null) of every tunnel. */
  loadBuckets(tunnelId: string | null, fromMs: number, toMs: number): Promise<TunnelBucket[]>;
  /** Completeness rows of the given observation points with a bucket start in [fromMs, toMs). */
  loadCompleteness(points: readonly PointRef[], fromMs: number, toMs: number): Promise<ExporterBucket[]>;
}

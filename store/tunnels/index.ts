// Tunnels, SAs and tunnel buckets: domain types, table rows and the view the API serves.
export type { Encapsulation, SaEndReason, SecurityAssociation, Tunnel } from './tunnel.js';
export {
  addBucketCounts,
  emptyBucketCounts,
  emptyClearedCounts,
  lossClearedReasons,
} from './tunnel-bucket.js';
export type {
  ClearedCounts,
  TunnelBucket,
  TunnelBucketCounts,
  TunnelBucketDelta,
  TunnelBucketKey,
} from './tunnel-bucket.js';
export { rowToTunnel, tunnelToRow } from './tunnel.table.js';
export type { NewTunnelRow, TunnelRow, TunnelTable } from './tunnel.table.js';
export { rowToSa, saToRow } from './sa.table.js';
export type { NewSaRow, SaRow, SaTable } from './sa.table.js';
export { bucketDeltaToRow, rowToBucket, tunnelBucketCounterColumns } from './tunnel-bucket.table.js';
export type { NewTunnelBucketRow, TunnelBucketRow, TunnelBucketTable } from './tunnel-bucket.table.js';
export { healthFlags, healthState } from './health.js';
export type { HealthEvidence, TunnelFlag, TunnelHealth } from './health.js';
export { placeObservationPoints } from './observation-points.js';
export type { ObservationPointSpec, PointPlacement } from './observation-points.js';
export { twoPointSegments } from './two-point-loss.js';
export type { TwoPointBucket, TwoPointSegment } from './two-point-loss.js';
export { viewTunnel } from './tunnel-view.js';
export type { TunnelView, TunnelViewOptions } from './tunnel-view.js';
export type {
  BucketDirectionFigures,
  DirectionFigures,
  LossSpan,
  ObservationPointView,
  ObservedBy,
  SaView,
  TunnelBucketView,
  TunnelSummary,
} from './tunnel-api-shapes.js';

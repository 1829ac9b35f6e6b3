import type { PointRef, TunnelReader } from '../../model/tunnel-reader.js';
import type { ExporterBucket } from '../../model/exporter-bucket.js';
import type { TunnelBucket } from '../../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import type { StoreDb } from '../database.js';
import { ROLLUP_BUCKET_MS } from '../../model/tunnel-bucket.js';
import { hourlyRowToExporterBucket, rowToExporterBucket } from '../exporter-buckets/exporter-bucket.table.js';
import { rowToSa } from './sa.table.js';
import { rowToBucket } from './tunnel-bucket.table.js';
import { rowToTunnel } from './tunnel.table.js';

/** Tunnels seen at some point of [fromMs, toMs), in peer order. */
export async function listTunnels(db: StoreDb, fromMs: number, toMs: number): Promise<Tunnel[]> {
  const rows = await db
    .selectFrom('tunnels')
    .selectAll()
    .where('first_seen_ms', '<', toMs)
    .where('last_seen_ms', '>=', fromMs)
    .orderBy('peer_a')
    .orderBy('peer_b')
    .orderBy('encapsulation')
    .execute();
  return rows.map(rowToTunnel);
}

/** Tunnels by id. */
export async function getTunnels(db: StoreDb, ids: readonly string[]): Promise<Tunnel[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('tunnels').selectAll().where('id', 'in', ids).execute();
  return rows.map(rowToTunnel);
}

/** SAs of the given tunnels alive at some point of [fromMs, toMs). */
export async function listSas(
  db: StoreDb,
  tunnelIds: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<SecurityAssociation[]> {
  if (tunnelIds.length === 0) return [];
  const rows = await db
    .selectFrom('security_associations')
    .selectAll()
    .where('tunnel_id', 'in', tunnelIds)
    .where('first_seen_ms', '<', toMs)
    .where('last_seen_ms', '>=', fromMs)
    .orderBy('first_seen_ms')
    .orderBy('id')
    .execute();
  return rows.map(rowToSa);
}

/**
 * Bucket rows with a start in [fromMs, toMs) — of one tunnel, or of every tunnel when
 * `tunnelId` is null (the loss page): rows of the configured size and rows rolled up to
 * an hour (spanMs ROLLUP_BUCKET_MS), by tunnel then start.
 */
export async function loadBuckets(
  db: StoreDb,
  tunnelId: string | null,
  fromMs: number,
  toMs: number,
): Promise<TunnelBucket[]> {
  const read = async (table: 'tunnel_buckets' | 'tunnel_buckets_hourly') => {
    let q = db
      .selectFrom(table)
      .selectAll()
      .where('bucket_start_ms', '>=', fromMs)
      .where('bucket_start_ms', '<', toMs);
    if (tunnelId !== null) q = q.where('tunnel_id', '=', tunnelId);
    return q.orderBy('tunnel_id').orderBy('bucket_start_ms').execute();
  };
  const hourly = (await read('tunnel_buckets_hourly')).map((r) => rowToBucket(r, ROLLUP_BUCKET_MS));
  const native = (await read('tunnel_buckets')).map((r) => rowToBucket(r));
  return withHours(hourly, native);
}

/** Hour rows merged into the native ones, by tunnel then start. */
export function withHours(hourly: TunnelBucket[], native: TunnelBucket[]): TunnelBucket[] {
  if (hourly.length === 0) return native;
  return [...hourly, ...native].sort(
    (x, y) =>
      (x.tunnelId < y.tunnelId ? -1 : x.tunnelId > y.tunnelId ? 1 : 0) || x.bucketStartMs - y.bucketStartMs,
  );
}

/**
 * Completeness rows of several observation points at once (one query, whatever the number
 * of tunnels asked about): selected by exporter address in SQL, by domain here.
 */
export async function loadCompleteness(
  db: StoreDb,
  points: readonly PointRef[],
  fromMs: number,
  toMs: number,
): Promise<ExporterBucket[]> {
  if (points.length === 0) return [];
  const exporters = [...new Set(points.map((p) => p.exporter))];
  const wanted = new Set(points.map((p) => `${p.exporter}|${p.domainId}`));
  const read = (table: 'exporter_buckets' | 'exporter_buckets_hourly') =>
    db
      .selectFrom(table)
      .selectAll()
      .where('exporter', 'in', exporters)
      .where('bucket_start_ms', '>=', fromMs)
      .where('bucket_start_ms', '<', toMs)
      .orderBy('bucket_start_ms')
      .execute();
  const ofPoints = <R extends { exporter: string; domain_id: number }>(rows: R[]) =>
    rows.filter((r) => wanted.has(`${r.exporter}|${r.domain_id}`));
  const native = ofPoints(await read('exporter_buckets')).map(rowToExporterBucket);
  const hourlyRows = await read('exporter_buckets_hourly');
  if (hourlyRows.length === 0) return native;
  const hourly = ofPoints(hourlyRows).map(hourlyRowToExporterBucket);
  return [...hourly, ...native].sort((x, y) => x.bucketStartMs - y.bucketStartMs);
}

/**
 * The store's TunnelReader: the functions above, bound to one database. An engine may
 * bring a faster bucket loader of its own (SQLite's reads bucket rows in raw mode).
 */
export function createTunnelReader(
  db: StoreDb,
  options: { readonly loadBuckets?: TunnelReader['loadBuckets'] } = {},
): TunnelReader {
  return {
    listTunnels: (fromMs, toMs) => listTunnels(db, fromMs, toMs),
    getTunnels: (ids) => getTunnels(db, ids),
    listSas: (ids, fromMs, toMs) => listSas(db, ids, fromMs, toMs),
    loadBuckets: options.loadBuckets ?? ((tunnelId, fromMs, toMs) => loadBuckets(db, tunnelId, fromMs, toMs)),
    loadCompleteness: (points, fromMs, toMs) => loadCompleteness(db, points, fromMs, toMs),
  };
}

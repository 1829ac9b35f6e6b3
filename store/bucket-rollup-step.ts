import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { ROLLUP_BUCKET_MS } from '../model/tunnel-bucket.js';
import { tunnelBucketCounterColumns } from './tunnels/tunnel-bucket.table.js';

/** The bucket aggregates' part of a retention step (cutoffs are receipt times). */
export interface BucketRetentionCutoffs {
  /** Rows received before this are rolled up to one row per hour; null: no rollup. */
  readonly rollupCutoffMs: number | null;
  /** Rows (native or hourly) received before this are deleted; null: kept. */
  readonly deleteCutoffMs: number | null;
}

export interface BucketRetentionResult {
  /** Native rows summed into hour rows (and deleted) by this step. */
  readonly rolledUp: number;
  /** Rows deleted for age. */
  readonly deleted: number;
  /** True when the step used its whole row budget: there is more to do right away. */
  readonly more: boolean;
}

const TUNNEL_KEY = ['tunnel_id', 'bucket_start_ms', 'direction', 'exporter', 'domain_id'] as const;
const TUNNEL_SUMMED = tunnelBucketCounterColumns.filter((c) => c !== 'carried_in');

type Row = Record<string, number | string>;

/**
 * Rolls bucket aggregates up to hours and deletes them by receipt age (DESIGN.md "Time
 * buckets"), a bounded number of rows per call, inside the caller's transaction:
 *
 * - native rows (tunnel_buckets, exporter_buckets) received before the rollup cutoff are
 *   added into the row of their hour in the `*_hourly` table and deleted, in the same
 *   transaction, so a step cut short (a kill) either happened whole or not at all and the
 *   hour never counts a minute twice. Every counter is additive, so the sums are exact;
 *   an hour's carried_in is that of its first bucket (what crossed the hour's start), and
 *   its received_ms the largest of its rows.
 * - rows received before the delete cutoff go, native and hourly alike.
 *
 * Rows are found through their received_ms index, oldest first; at most `budget` rows
 * are read or deleted per call, whatever the backlog.
 */
export class BucketRollup {
  readonly #dueTunnel: Statement<[number, number], Row>;
  readonly #addTunnelHour: Statement<Row>;
  readonly #deleteTunnelRow: Statement<unknown[]>;
  readonly #dueExporter: Statement<[number, number], Row>;
  readonly #addExporterHour: Statement<unknown[]>;
  readonly #deleteExporterRow: Statement<[number]>;
  readonly #deleteOld: ReadonlyArray<Statement<[number, number]>>;

  constructor(sqlite: SqliteDatabase) {
    const key = TUNNEL_KEY.join(', ');
    this.#dueTunnel = sqlite.prepare(
      `SELECT * FROM tunnel_buckets WHERE received_ms < ? ORDER BY received_ms LIMIT ?`,
    );
    const columns = [...TUNNEL_KEY, ...tunnelBucketCounterColumns, 'received_ms'];
    this.#addTunnelHour = sqlite.prepare(`
      INSERT INTO tunnel_buckets_hourly (${columns.join(', ')})
      VALUES (${columns.map((c) => `@${c}`).join(', ')})
      ON CONFLICT (${key}) DO UPDATE SET
        ${TUNNEL_SUMMED.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')},
        carried_in = carried_in + excluded.carried_in,
        received_ms = max(received_ms, excluded.received_ms)`);
    this.#deleteTunnelRow = sqlite.prepare(
      `DELETE FROM tunnel_buckets WHERE ${TUNNEL_KEY.map((c) => `${c} = ?`).join(' AND ')}`,
    );
    this.#dueExporter = sqlite.prepare(
      'SELECT rowid AS row_id, * FROM exporter_buckets WHERE received_ms < ? ORDER BY received_ms LIMIT ?',
    );
    this.#addExporterHour = sqlite.prepare(`
      INSERT INTO exporter_buckets_hourly
        (exporter, domain_id, bucket_start_ms, records, datagrams, issues, sequence_gaps, active_buckets, received_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (exporter, domain_id, bucket_start_ms) DO UPDATE SET
        records = records + excluded.records, datagrams = datagrams + excluded.datagrams,
        issues = issues + excluded.issues, sequence_gaps = sequence_gaps + excluded.sequence_gaps,
        active_buckets = active_buckets + excluded.active_buckets,
        received_ms = max(received_ms, excluded.received_ms)`);
    this.#deleteExporterRow = sqlite.prepare('DELETE FROM exporter_buckets WHERE rowid = ?');
    const deleteOld = (table: string, pk: string) =>
      sqlite.prepare<[number, number]>(
        `DELETE FROM ${table} WHERE (${pk}) IN (SELECT ${pk} FROM ${table} WHERE received_ms < ? ORDER BY received_ms LIMIT ?)`,
      );
    this.#deleteOld = [
      deleteOld('tunnel_buckets', key),
      deleteOld('exporter_buckets', 'rowid'),
      deleteOld('tunnel_buckets_hourly', key),
      deleteOld('exporter_buckets_hourly', 'rowid'),
    ];
  }

  /** One bounded step of at most `budget` rows; call it inside a write transaction. */
  run(cutoffs: BucketRetentionCutoffs, budget: number): BucketRetentionResult {
    let left = Math.max(0, Math.trunc(budget));
    let deleted = 0;
    let rolledUp = 0;
    // Deletes first: a row past both cutoffs is not worth rolling up.
    if (cutoffs.deleteCutoffMs !== null) {
      for (const statement of this.#deleteOld) {
        if (left <= 0) break;
        const n = statement.run(cutoffs.deleteCutoffMs, left).changes;
        deleted += n;
        left -= n;
      }
    }
    if (cutoffs.rollupCutoffMs !== null && left > 0) {
      const tunnelRows = this.#dueTunnel.all(cutoffs.rollupCutoffMs, left);
      for (const row of tunnelRows) this.#rollTunnelRow(row);
      rolledUp += tunnelRows.length;
      left -= tunnelRows.length;
    }
    if (cutoffs.rollupCutoffMs !== null && left > 0) {
      const exporterRows = this.#dueExporter.all(cutoffs.rollupCutoffMs, left);
      for (const row of exporterRows) this.#rollExporterRow(row);
      rolledUp += exporterRows.length;
      left -= exporterRows.length;
    }
    return { rolledUp, deleted, more: left <= 0 };
  }

  #rollTunnelRow(row: Row): void {
    const start = row['bucket_start_ms'] as number;
    const hour = hourOf(start);
    this.#addTunnelHour.run({
      ...row,
      bucket_start_ms: hour,
      carried_in: start === hour ? row['carried_in']! : 0,
    });
    this.#deleteTunnelRow.run(...TUNNEL_KEY.map((c) => row[c]));
  }

  #rollExporterRow(row: Row): void {
    const records = row['records'] as number;
    const datagrams = row['datagrams'] as number;
    this.#addExporterHour.run(
      row['exporter'],
      row['domain_id'],
      hourOf(row['bucket_start_ms'] as number),
      records,
      datagrams,
      row['issues'],
      row['sequence_gaps'],
      records > 0 || datagrams > 0 ? 1 : 0,
      row['received_ms'],
    );
    this.#deleteExporterRow.run(row['row_id'] as number);
  }
}

function hourOf(ms: number): number {
  return Math.floor(ms / ROLLUP_BUCKET_MS) * ROLLUP_BUCKET_MS;
}

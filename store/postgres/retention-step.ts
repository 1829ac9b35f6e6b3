// One bounded retention step on PostgreSQL (issue 10), with the semantics of the SQLite
// stepper (store/retention-step.ts, bucket-rollup-step.ts) where the engines allow, and whole
// day partitions for raw flows where they do not.
import { sql } from 'kysely';
import type { Kysely, RawBuilder, Transaction } from 'kysely';
import { ROLLUP_BUCKET_MS } from '../../model/tunnel-bucket.js';
import type { Database } from '../database.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';
import { tunnelBucketCounterColumns } from '../tunnels/tunnel-bucket.table.js';

/**
 * The advisory lock every retention step takes first (pg_advisory_xact_lock's two-key form:
 * tunnelflow's class, then the lock's number), so that two collectors on one database run
 * their steps one after the other: the second one then lists the partitions the first one
 * left. Held until the step's transaction ends.
 */
export const TUNNELFLOW_LOCK_CLASS = 0x74666c77; // 'tflw'
export const RETENTION_LOCK = 2;

/**
 * How long dropping a partition may wait for its locks. DROP TABLE of a partition takes an
 * ACCESS EXCLUSIVE lock on the partitioned parents too, so it waits for every query running on
 * `flows` (a long report, say), and every insert queued behind it waits with it; after this
 * long the drops give up for this step (the bucket work of the step is kept) and the next
 * retention run tries again.
 */
export const DEFAULT_PARTITION_LOCK_TIMEOUT_MS = 5_000;

export interface PostgresRetentionOptions {
  readonly partitionLockTimeoutMs?: number;
}

/** The two retention classes are the two LIST partitions of `flows` (migrations/). */
type FlowClass = 'flows_other' | 'flows_tunnel';

/** One day partition of a retention class, with its range of received_ms. */
export interface FlowDayPartition {
  readonly schema: string;
  readonly name: string;
  readonly parent: FlowClass;
  readonly fromMs: number;
  readonly toMs: number;
}

const TUNNEL_KEY = ['tunnel_id', 'bucket_start_ms', 'direction', 'exporter', 'domain_id'] as const;
const EXPORTER_KEY = ['exporter', 'domain_id', 'bucket_start_ms'] as const;
const TUNNEL_SUMMED = tunnelBucketCounterColumns.filter((c) => c !== 'carried_in');

/** The start of a bucket's hour (floor division, also for times before 1970). */
const HOUR = `(bucket_start_ms - ((bucket_start_ms % ${ROLLUP_BUCKET_MS}) + ${ROLLUP_BUCKET_MS}) % ${ROLLUP_BUCKET_MS})`;
const FIRST_OF_HOUR = `bucket_start_ms % ${ROLLUP_BUCKET_MS} = 0`;

/**
 * The oldest `limit` rows received before the cutoff, deleted, and what they held added into
 * the rows of their hours — one statement, so the hour receives exactly the rows the delete
 * took: DELETE … RETURNING hands the INSERT the row versions it deleted. FOR UPDATE makes a
 * writer's upsert into one of those minutes wait until this step commits (then it inserts a
 * new minute row, rolled up in turn by a later step); SKIP LOCKED passes over a minute a
 * writer holds (its delta makes the row young anyway), so the step never waits for a writer
 * and the two can never deadlock. Nothing is counted twice or lost.
 */
function rollupStatement(
  table: 'tunnel_buckets' | 'exporter_buckets',
  cutoffMs: number,
  limit: number,
): RawBuilder<{ n: number }> {
  const key = (table === 'tunnel_buckets' ? TUNNEL_KEY : EXPORTER_KEY).join(', ');
  const hourly = `${table}_hourly`;
  const due = sql`DELETE FROM ${sql.table(table)} WHERE (${sql.raw(key)}) IN (
      SELECT ${sql.raw(key)} FROM ${sql.table(table)} WHERE received_ms < ${cutoffMs}
      ORDER BY received_ms, ${sql.raw(key)} LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING *`;
  const added = (columns: readonly string[]) =>
    columns.map((c) => `${c} = ${hourly}.${c} + excluded.${c}`).join(', ');
  const insert =
    table === 'tunnel_buckets'
      ? sql.raw(`
      INSERT INTO tunnel_buckets_hourly
        (${[...TUNNEL_KEY, ...TUNNEL_SUMMED, 'carried_in', 'received_ms'].join(', ')})
      SELECT tunnel_id, ${HOUR} AS hour_ms, direction, exporter, domain_id,
        ${TUNNEL_SUMMED.map((c) => `sum(${c})`).join(', ')},
        sum(CASE WHEN ${FIRST_OF_HOUR} THEN carried_in ELSE 0 END), max(received_ms)
      FROM due GROUP BY tunnel_id, hour_ms, direction, exporter, domain_id
      ON CONFLICT (${TUNNEL_KEY.join(', ')}) DO UPDATE SET ${added([...TUNNEL_SUMMED, 'carried_in'])},
        received_ms = greatest(${hourly}.received_ms, excluded.received_ms)`)
      : sql.raw(`
      INSERT INTO exporter_buckets_hourly
        (exporter, domain_id, bucket_start_ms, records, datagrams, issues, sequence_gaps, active_buckets, received_ms)
      SELECT exporter, domain_id, ${HOUR} AS hour_ms, sum(records), sum(datagrams), sum(issues),
        sum(sequence_gaps), sum(CASE WHEN records > 0 OR datagrams > 0 THEN 1 ELSE 0 END), max(received_ms)
      FROM due GROUP BY exporter, domain_id, hour_ms
      ON CONFLICT (${EXPORTER_KEY.join(', ')}) DO UPDATE SET
        ${added(['records', 'datagrams', 'issues', 'sequence_gaps', 'active_buckets'])},
        received_ms = greatest(${hourly}.received_ms, excluded.received_ms)`);
  return sql<{ n: number }>`WITH due AS (${due}), rolled AS (${insert}) SELECT count(*) AS n FROM due`;
}

/**
 * Deletes at most `limit` rows of `table` whose `age` column is below the cutoff, oldest first;
 * rows a writer holds locked are left for a later step (SKIP LOCKED: never wait for a writer).
 */
async function deleteOlder(
  trx: Transaction<Database>,
  table: string,
  key: readonly string[],
  age: string,
  cutoffMs: number,
  limit: number,
): Promise<number> {
  if (limit <= 0) return 0;
  const pk = sql.raw(key.join(', '));
  const result = await sql`DELETE FROM ${sql.table(table)} WHERE (${pk}) IN (
      SELECT ${pk} FROM ${sql.table(table)} WHERE ${sql.ref(age)} < ${cutoffMs} ORDER BY ${sql.ref(age)} LIMIT ${limit} FOR UPDATE SKIP LOCKED)`.execute(
    trx,
  );
  return Number(result.numAffectedRows ?? 0n);
}

const BOUND = /^FOR VALUES FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)$/;

/**
 * The day partitions of both retention classes, oldest first, with their bounds as PostgreSQL
 * prints them (`FOR VALUES FROM ('…') TO ('…')`). A partition with another bound (a DEFAULT
 * or MINVALUE one someone added by hand) is not a day and is never dropped.
 */
export async function listFlowDayPartitions(
  db: Kysely<Database> | Transaction<Database>,
): Promise<FlowDayPartition[]> {
  const { rows } = await sql<{ schema: string; name: string; parent: FlowClass; bound: string }>`
    SELECT n.nspname AS schema, c.relname AS name, p.relname AS parent, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE i.inhparent IN (to_regclass('flows_other'), to_regclass('flows_tunnel')) AND c.relkind IN ('r', 'p')`.execute(
    db,
  );
  const days: FlowDayPartition[] = [];
  for (const row of rows) {
    const bound = BOUND.exec(row.bound);
    if (bound === null) continue;
    days.push({
      schema: row.schema,
      name: row.name,
      parent: row.parent,
      fromMs: Number(bound[1]),
      toMs: Number(bound[2]),
    });
  }
  // Oldest first; on the same day `other` before the tunnel kinds (it is kept shorter).
  return days.sort((a, b) => a.fromMs - b.fromMs || a.parent.localeCompare(b.parent));
}

/** Counts a partition's rows (exactly: count(*), not reltuples, which is an estimate) and drops it. */
async function dropPartition(trx: Transaction<Database>, partition: FlowDayPartition): Promise<number> {
  const table = sql.id(partition.schema, partition.name);
  const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM ${table}`.execute(trx);
  // IF EXISTS: harmless under the advisory lock, and a guard if someone dropped it by hand.
  await sql`DROP TABLE IF EXISTS ${table}`.execute(trx);
  return rows[0]?.n ?? 0;
}

function isLockTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '55P03';
}

/**
 * One retention step on PostgreSQL, in one transaction, under an advisory lock (so two
 * collectors on one database can both run retention):
 *
 * - exporter buckets by bucket start (`exporterBucketCutoffMs`), bucket aggregates by receipt
 *   (`bucketAggregateCutoffMs`, report_day_summaries by built_ms with them), rollups of the
 *   minutes received before `bucketRollupCutoffMs` into the `*_hourly` tables, and stored
 *   reports (`reportCutoffMs`): as on SQLite, at most `stepRows` bucket rows per step.
 * - raw flows by whole UTC day partitions: a day partition of `flows_other` whose day ends at
 *   or before `otherCutoffMs` is dropped, of `flows_tunnel` at or before `tunnelCutoffMs`. A
 *   partition that straddles the cutoff is kept until its whole day is past, so PostgreSQL
 *   keeps raw flows up to one day longer than SQLite's per-row deletes. `deletedByAge` counts
 *   the rows of the dropped partitions exactly (count(*) before the drop). Each class drops at
 *   least its oldest due partition per step, then more while the rows counted stay below
 *   `stepRows`.
 * - the size cap: when pg_database_size(current_database()) exceeds `maxDatabaseBytes`, the
 *   oldest day partition of either class goes (`deletedBySize`), one per step: the files of a
 *   dropped table go at commit, so the size is measured again by the next step (`more`). The
 *   partition of the current day (the one `nowMs` falls in, or later) is never dropped, since
 *   the writers are inserting into it; a cap that today's flows alone exceed stays exceeded.
 */
export async function runPostgresRetentionStep(
  db: Kysely<Database>,
  step: RetentionStep,
  nowMs: number = Date.now(),
  options: PostgresRetentionOptions = {},
): Promise<RetentionStepResult> {
  const limit = Math.max(1, Math.trunc(step.stepRows));
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${sql.lit(TUNNELFLOW_LOCK_CLASS)}, ${sql.lit(RETENTION_LOCK)})`.execute(
      trx,
    );

    // exporterBucketsMs, by bucket start: native and hourly rows alike.
    let bucketsDeleted = 0;
    const exporterCutoff = step.exporterBucketCutoffMs ?? null;
    if (exporterCutoff !== null) {
      for (const table of ['exporter_buckets', 'exporter_buckets_hourly']) {
        bucketsDeleted += await deleteOlder(
          trx,
          table,
          EXPORTER_KEY,
          'bucket_start_ms',
          exporterCutoff,
          limit - bucketsDeleted,
        );
      }
    }

    // Bucket rows share one budget of `limit` per step, whichever rule removes them; deletes
    // first (a row past both cutoffs is not worth rolling up).
    let left = limit - bucketsDeleted;
    let aggregatesDeleted = 0;
    const deleteCutoff = step.bucketAggregateCutoffMs ?? null;
    if (deleteCutoff !== null) {
      const rules: ReadonlyArray<readonly [string, readonly string[], string]> = [
        ['tunnel_buckets', TUNNEL_KEY, 'received_ms'],
        ['exporter_buckets', EXPORTER_KEY, 'received_ms'],
        ['tunnel_buckets_hourly', TUNNEL_KEY, 'received_ms'],
        ['exporter_buckets_hourly', EXPORTER_KEY, 'received_ms'],
        // Reports' day summaries go with the aggregates they were made of.
        ['report_day_summaries', ['tunnel_id', 'day_start_ms'], 'built_ms'],
      ];
      for (const [table, key, age] of rules) {
        if (left <= 0) break;
        const n = await deleteOlder(trx, table, key, age, deleteCutoff, left);
        aggregatesDeleted += n;
        left -= n;
      }
    }
    let rolledUp = 0;
    const rollupCutoff = step.bucketRollupCutoffMs ?? null;
    for (const table of ['tunnel_buckets', 'exporter_buckets'] as const) {
      if (rollupCutoff === null || left <= 0) break;
      const { rows } = await rollupStatement(table, rollupCutoff, left).execute(trx);
      const n = rows[0]?.n ?? 0;
      rolledUp += n;
      left -= n;
    }
    const bucketsMore = left <= 0;

    const reportCutoff = step.reportCutoffMs ?? null;
    if (reportCutoff !== null) await deleteOlder(trx, 'reports', ['id'], 'generated_ms', reportCutoff, limit);

    const flows = await dropFlowPartitions(trx, step, limit, nowMs, options);
    return {
      deletedByAge: flows.deletedByAge,
      deletedBySize: flows.deletedBySize,
      rolledUpBuckets: rolledUp,
      deletedBuckets: bucketsDeleted + aggregatesDeleted,
      more: bucketsMore || flows.more,
    };
  });
}

/**
 * The raw flows' part of a step, last in the transaction and inside a savepoint: a drop that
 * cannot get its lock in time is undone alone, and the step's bucket work still commits.
 */
async function dropFlowPartitions(
  trx: Transaction<Database>,
  step: RetentionStep,
  limit: number,
  nowMs: number,
  options: PostgresRetentionOptions,
): Promise<{ deletedByAge: number; deletedBySize: number; more: boolean }> {
  const lockTimeoutMs = Math.max(
    1,
    Math.trunc(options.partitionLockTimeoutMs ?? DEFAULT_PARTITION_LOCK_TIMEOUT_MS),
  );
  await sql`SAVEPOINT flow_partitions`.execute(trx);
  try {
    await sql`SELECT set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`.execute(trx);
    let partitions = await listFlowDayPartitions(trx);
    let deletedByAge = 0;
    let droppedByAge = 0;
    let more = false;
    const cutoffs: Readonly<Record<FlowClass, number>> = {
      flows_other: step.otherCutoffMs,
      flows_tunnel: step.tunnelCutoffMs,
    };
    for (const parent of ['flows_other', 'flows_tunnel'] as const) {
      const due = partitions.filter((p) => p.parent === parent && p.toMs <= cutoffs[parent]);
      let counted = 0;
      let dropped = 0;
      for (const partition of due) {
        if (dropped > 0 && counted >= limit) break;
        counted += await dropPartition(trx, partition);
        dropped += 1;
      }
      deletedByAge += counted;
      droppedByAge += dropped;
      if (dropped < due.length) more = true;
      const gone = new Set(due.slice(0, dropped));
      partitions = partitions.filter((p) => !gone.has(p));
    }

    let deletedBySize = 0;
    if (step.maxDatabaseBytes !== null) {
      const { rows } = await sql<{
        bytes: number;
      }>`SELECT pg_database_size(current_database()) AS bytes`.execute(trx);
      const over = (rows[0]?.bytes ?? 0) > step.maxDatabaseBytes;
      const oldest = partitions.find((p) => p.toMs <= nowMs);
      if (over && droppedByAge > 0) {
        // What this step dropped is still counted in the size until it commits.
        more = true;
      } else if (over && oldest !== undefined) {
        deletedBySize = await dropPartition(trx, oldest);
        more = true;
      }
    }
    await sql`RELEASE SAVEPOINT flow_partitions`.execute(trx);
    return { deletedByAge, deletedBySize, more };
  } catch (error) {
    if (!isLockTimeout(error)) throw error;
    await sql`ROLLBACK TO SAVEPOINT flow_partitions`.execute(trx);
    return { deletedByAge: 0, deletedBySize: 0, more: false };
  }
}

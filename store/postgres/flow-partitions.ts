// The day partitions of `flows` on PostgreSQL, created on demand by the writer before it
// inserts rows of a day (the schema: /work/briefs/pg-common-schema.md, migrations/).
//
// `flows` is LIST-partitioned by kind into `flows_other` ('other') and `flows_tunnel`
// (DEFAULT: every other kind), retention's two classes; each of those is RANGE-partitioned by
// received_ms into one partition per UTC day, so retention drops whole days per class.
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';

export const FLOW_DAY_MS = 86_400_000;

/** Retention's two classes and the LIST partition of `flows` that holds each. */
export const FLOW_PARTITION_CLASSES = ['other', 'tunnel'] as const;
export type FlowPartitionClass = (typeof FLOW_PARTITION_CLASSES)[number];

/**
 * Key of the transaction-level advisory lock taken around partition creation: two collectors
 * starting the same day at once would otherwise race between IF NOT EXISTS and CREATE
 * (IF NOT EXISTS is not atomic against a concurrent creation of the same name).
 * Fixed, arbitrary: the ASCII of "tflwpart".
 */
export const FLOW_PARTITION_LOCK_KEY = 0x74666c7770617274n;

/** Latest day a partition name can spell (dYYYYMMDD): 9999-12-31. */
const LAST_DAY_MS = Date.UTC(9999, 11, 31);

/** UTC start of the day holding `ms`. */
export function flowDayStart(ms: number): number {
  return Math.floor(ms / FLOW_DAY_MS) * FLOW_DAY_MS;
}

/** `flows_other_d20261207` / `flows_tunnel_d20261207` for the day starting at dayStartMs. */
export function flowPartitionName(kindClass: FlowPartitionClass, dayStartMs: number): string {
  const day = new Date(dayStartMs).toISOString().slice(0, 10).replaceAll('-', '');
  return `flows_${kindClass}_d${day}`;
}

/**
 * Days this process has created (or found) both partitions of, by database: the common case
 * (a day already there) costs a Set lookup and no round trip. Keyed by a name the caller
 * chooses (PostgresSink uses its connection's target), so that two databases in one process
 * do not share entries.
 */
const created = new Map<string, Set<number>>();

/**
 * Forgets what this process knows of existing partitions (all databases, or one): retention
 * calls it after dropping a day, and the writer when an insert finds no partition for a row.
 */
export function forgetFlowPartitions(database?: string): void {
  if (database === undefined) created.clear();
  else created.delete(database);
}

type Executor<DB> = Kysely<DB> | Transaction<DB>;

/**
 * Makes sure both classes' partitions exist for every UTC day of `receivedMsValues`. Values
 * that are no time a partition name can spell (not finite, before 1970 or after 9999) are
 * skipped: their rows then find no partition and are refused one by one by the writer.
 *
 * Given the database, the creation runs in a short transaction of its own (what the writer
 * does: CREATE TABLE … PARTITION OF locks the class's parent table until commit, which must
 * not wait for a whole write transaction); given a transaction, it runs in it and the lock
 * is held until that transaction ends (should that transaction roll back, call
 * forgetFlowPartitions: the cache already counts its days).
 *
 * Returns the days it had to ask the server about (empty when the cache knew them all).
 */
export async function ensureFlowPartitions<DB>(
  executor: Executor<DB>,
  receivedMsValues: Iterable<number>,
  database = 'default',
): Promise<number[]> {
  let known = created.get(database);
  if (known === undefined) {
    known = new Set();
    created.set(database, known);
  }
  const missing = new Set<number>();
  for (const ms of receivedMsValues) {
    if (!Number.isFinite(ms)) continue;
    const day = flowDayStart(ms);
    if (day < 0 || day > LAST_DAY_MS || known.has(day)) continue;
    missing.add(day);
  }
  if (missing.size === 0) return [];
  const days = [...missing].sort((a, b) => a - b);
  const create = async (trx: Executor<DB>): Promise<void> => {
    await sql`SELECT pg_advisory_xact_lock(${FLOW_PARTITION_LOCK_KEY})`.execute(trx);
    for (const day of days) {
      for (const kindClass of FLOW_PARTITION_CLASSES) {
        // Identifiers from flowPartitionName (digits and fixed words); bounds are integers.
        await sql`CREATE TABLE IF NOT EXISTS ${sql.table(flowPartitionName(kindClass, day))}
          PARTITION OF ${sql.table(`flows_${kindClass}`)}
          FOR VALUES FROM (${sql.lit(day)}) TO (${sql.lit(day + FLOW_DAY_MS)})`.execute(trx);
      }
    }
  };
  if (executor.isTransaction) await create(executor);
  else await executor.transaction().execute(create);
  // Only once the creation is in (committed, or part of the caller's transaction): a failed
  // or rolled back attempt leaves the days unknown and the next call tries again.
  for (const day of days) known.add(day);
  return days;
}

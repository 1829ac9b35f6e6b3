// The writer's sink on PostgreSQL: what SqliteSink does for one group of batches (flows and
// state items in one transaction), in statements that suit a server: flows as multi-row
// INSERT … SELECT FROM unnest(arrays) in bounded chunks, bucket deltas as one multi-row upsert
// per group that adds, tunnels and SAs as one upsert per group.
import { sql } from 'kysely';
import type { Kysely, RawBuilder, Transaction } from 'kysely';
import { toStoredInteger as int } from '../bigint-policy.js';
import type { Database } from '../database.js';
import {
  END_MS_INDEX,
  FLOW_INTEGER_COLUMNS,
  FLOW_KEY_COLUMNS,
  FLOW_TEXT_COLUMNS,
  INTEGER_COUNT,
  START_MS_INDEX,
  TEXT_COUNT,
  TUNNEL_TEXT_INDEX,
} from '../flows/flow-columns.js';
import { tunnelKey } from '../flows/tunnel-key.js';
import { MAX_FLOW_DURATION_KEY } from '../meta/store-meta-keys.js';
import { SUMMARY_DAY_MS } from '../reports/day-summary-repository.js';
import { saToRow } from '../tunnels/sa.table.js';
import type { NewSaRow } from '../tunnels/sa.table.js';
import { bucketDeltaToRow, tunnelBucketCounterColumns } from '../tunnels/tunnel-bucket.table.js';
import type { NewTunnelBucketRow } from '../tunnels/tunnel-bucket.table.js';
import { tunnelToRow } from '../tunnels/tunnel.table.js';
import type { NewTunnelRow } from '../tunnels/tunnel.table.js';
import { encodedText } from '../writer/flow-batch-codec.js';
import type { EncodedFlows } from '../writer/flow-batch-codec.js';
import type { SealedState } from '../writer/sealed-state.js';
import type { SinkResult } from '../writer/messages.js';
import { emptyOutcome, messageOf, missingRequired, reject } from '../writer/sink-outcome.js';
import type { Outcome } from '../writer/sink-outcome.js';
import { ensureFlowPartitions, flowDayStart, forgetFlowPartitions } from './flow-partitions.js';

/**
 * Flow rows per INSERT at most: each column travels as one array parameter, so a chunk is
 * one round trip whatever its size; the bound keeps one statement's parameters (and the
 * work lost when a bad value fails it) in proportion.
 */
export const FLOW_ROWS_PER_STATEMENT = 5_000;

/** A group hit by a deadlock or a serialization failure is run again this often before the error goes up. */
const CONFLICT_RETRIES = 3;

export interface SinkBatch {
  readonly flows: EncodedFlows | null;
  readonly state: readonly SealedState[];
}

const RECEIVED_MS_INDEX = FLOW_INTEGER_COLUMNS.indexOf('received_ms');
const INET_TEXT_COLUMNS: ReadonlySet<string> = new Set(['src', 'dst']);

/** `INSERT INTO flows (…) SELECT * FROM unnest($1::bigint[], …)`: columns and array types from the closed lists. */
const FLOW_COLUMN_LIST = [...FLOW_INTEGER_COLUMNS, ...FLOW_TEXT_COLUMNS, ...FLOW_KEY_COLUMNS].join(', ');
const FLOW_ARRAY_TYPES = [
  ...FLOW_INTEGER_COLUMNS.map(() => 'bigint[]'),
  ...FLOW_TEXT_COLUMNS.map((c) => (INET_TEXT_COLUMNS.has(c) ? 'inet[]' : 'text[]')),
  ...FLOW_KEY_COLUMNS.map(() => 'bigint[]'),
];

const BUCKET_KEY = ['tunnel_id', 'bucket_start_ms', 'direction', 'exporter', 'domain_id'] as const;
const BUCKET_COLUMNS = [...BUCKET_KEY, ...tunnelBucketCounterColumns, 'received_ms'] as const;
const BUCKET_TYPES: Readonly<Record<string, string>> = {
  tunnel_id: 'text[]',
  direction: 'text[]',
  exporter: 'text[]',
};

const EXPORTER_BUCKET_COLUMNS = [
  'exporter',
  'domain_id',
  'bucket_start_ms',
  'records',
  'datagrams',
  'issues',
  'sequence_gaps',
  'received_ms',
] as const;

const TUNNEL_COLUMNS = [
  'id',
  'name',
  'peer_a',
  'peer_b',
  'encapsulation',
  'ip_version',
  'first_seen_ms',
  'last_seen_ms',
] as const satisfies readonly (keyof NewTunnelRow)[];
const SA_COLUMNS = [
  'id',
  'tunnel_id',
  'direction',
  'src',
  'dst',
  'spi',
  'generation',
  'first_seen_ms',
  'last_seen_ms',
  'ended_ms',
  'end_reason',
  'paired_sa_id',
] as const satisfies readonly (keyof NewSaRow)[];
const TEXT_STATE_COLUMNS: ReadonlySet<string> = new Set([
  'id',
  'name',
  'peer_a',
  'peer_b',
  'encapsulation',
  'tunnel_id',
  'direction',
  'src',
  'dst',
  'end_reason',
  'paired_sa_id',
  'exporter',
]);

type Trx = Transaction<Database>;
type Row = Readonly<Record<string, string | number | null | undefined>>;

/**
 * Writes groups of batches into PostgreSQL with SqliteSink's semantics (store/writer/
 * sqlite-sink.ts): one transaction per group; a row or state item with a bad value is refused
 * and counted, its neighbours kept; a failure of the transaction itself (connection lost,
 * server gone) throws, nothing of the group is committed, and the caller may run it again.
 *
 * Two passes. The first runs every statement bare: no SAVEPOINT, so no subtransaction (each
 * written subtransaction takes an xid that every snapshot on the server must consider, and
 * past 64 in one transaction they overflow to pg_subtrans and slow every reader down). When a
 * statement fails on data (SQLSTATE class 22 or 23) the transaction is rolled back and the
 * group runs once more in the careful pass: each flow chunk and each state item inside a
 * SAVEPOINT, a failed chunk retried row by row, so only the bad rows and items are refused.
 * A deadlock or serialization failure (40P01, 40001) reruns the group as it was, up to
 * CONFLICT_RETRIES times.
 *
 * Several collectors may write one database: bucket deltas add (`t.col + excluded.col`),
 * tunnels and SAs widen their first/last seen with LEAST/GREATEST. In the bare pass the
 * group's state is written after its flows, once for the whole group, in one fixed order of
 * tables and of keys within each (templates, exporter counters and documents one statement
 * each; completeness, tunnels, SAs, tunnel buckets and day-summary drops one statement per
 * table, rows merged by key): two writers lock the rows they share in the same order and do
 * not deadlock on each other (the test's two collectors writing the same batches in opposite
 * orders: 0 deadlocks, where batch order had 1-2 per run, each costing deadlock_timeout).
 */
export class PostgresSink {
  readonly #db: Kysely<Database>;
  /** Names this database in the partition cache (flow-partitions.ts). */
  readonly #database: string;
  #maxDurationMs: number;

  private constructor(db: Kysely<Database>, database: string, maxDurationMs: number) {
    this.#db = db;
    this.#database = database;
    this.#maxDurationMs = maxDurationMs;
  }

  /** A sink on `db` (migrated): reads the longest flow stored and which server and database it is. */
  static async open(db: Kysely<Database>): Promise<PostgresSink> {
    const { rows } = await sql<{ name: string }>`SELECT concat_ws('|', current_database(),
        inet_server_addr(), inet_server_port(), pg_postmaster_start_time()) AS name`.execute(db);
    const stored = await db
      .selectFrom('store_meta')
      .select('value')
      .where('key', '=', MAX_FLOW_DURATION_KEY)
      .executeTakeFirst();
    return new PostgresSink(db, rows[0]?.name ?? 'default', stored?.value ?? 0);
  }

  /** Commits one batch (see applyMany). */
  async apply(flows: EncodedFlows | null, state: readonly SealedState[]): Promise<SinkResult> {
    return (await this.applyMany([{ flows, state }]))[0]!;
  }

  /** Commits several batches in one transaction (group commit); one result per batch. */
  async applyMany(batches: readonly SinkBatch[]): Promise<SinkResult[]> {
    await ensureFlowPartitions(this.#db, receivedDays(batches), this.#database);
    const commitMs = Date.now();
    let careful = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const { results, maxDurationMs } = await this.#db
          .transaction()
          .execute((trx) => this.#write(trx, batches, careful, commitMs));
        this.#maxDurationMs = Math.max(this.#maxDurationMs, maxDurationMs);
        return results;
      } catch (error) {
        if (!careful && isDataError(error)) {
          // A partition retention dropped while this process still counted it would fail
          // the rows of its day: ask the server again before going row by row.
          forgetFlowPartitions(this.#database);
          await ensureFlowPartitions(this.#db, receivedDays(batches), this.#database);
          careful = true;
          continue;
        }
        if (isConflict(error) && attempt < CONFLICT_RETRIES) continue;
        throw error;
      }
    }
  }

  /** Nothing to release: the pool under the database belongs to whoever opened it. */
  async close(): Promise<void> {}

  async #write(
    trx: Trx,
    batches: readonly SinkBatch[],
    careful: boolean,
    commitMs: number,
  ): Promise<{ results: SinkResult[]; maxDurationMs: number }> {
    const results: Array<Outcome & { ms: number }> = [];
    let maxDurationMs = this.#maxDurationMs;
    const group = emptyGroupRows();
    for (const batch of batches) {
      const started = performance.now();
      const outcome: Outcome = emptyOutcome();
      if (batch.flows !== null && batch.flows.rows > 0) {
        const longest = await insertFlows(trx, batch.flows, outcome, careful);
        if (longest > maxDurationMs) {
          await sql`INSERT INTO store_meta (key, value) VALUES (${MAX_FLOW_DURATION_KEY}, ${longest})
            ON CONFLICT (key) DO UPDATE SET value = GREATEST(store_meta.value, excluded.value)`.execute(trx);
          maxDurationMs = longest;
        }
      }
      for (const item of batch.state) await applyState(trx, item, outcome, careful, commitMs, group);
      results.push({ ...outcome, ms: performance.now() - started });
    }
    // The group's merged lists: their time counts to the last batch.
    const started = performance.now();
    await writeGroupRows(trx, group);
    const last = results[results.length - 1];
    if (last !== undefined) last.ms += performance.now() - started;
    return { results, maxDurationMs };
  }
}

/** Every received_ms of the group's flow rows (one value per run of a day, enough for the cache). */
function receivedDays(batches: readonly SinkBatch[]): number[] {
  const days: number[] = [];
  let last = NaN;
  for (const { flows } of batches) {
    if (flows === null) continue;
    for (let row = 0; row < flows.rows; row += 1) {
      const ms = flows.integers[row * INTEGER_COUNT + RECEIVED_MS_INDEX]!;
      if (Number.isNaN(ms)) continue;
      const day = flowDayStart(ms);
      if (day !== last) days.push(day);
      last = day;
    }
  }
  return days;
}

/** Inserts a batch's flows in chunks; returns the longest duration among the rows offered. */
async function insertFlows(
  trx: Trx,
  flows: EncodedFlows,
  outcome: Outcome,
  careful: boolean,
): Promise<number> {
  const valid: number[] = [];
  let longest = -1;
  for (let row = 0; row < flows.rows; row += 1) {
    const problem = missingRequired(flows, row);
    if (problem !== null) {
      reject(outcome, problem);
      continue;
    }
    valid.push(row);
    const base = row * INTEGER_COUNT;
    const duration = flows.integers[base + END_MS_INDEX]! - flows.integers[base + START_MS_INDEX]!;
    if (duration > longest) longest = duration;
  }
  const keys = new Map<number, number>();
  for (let start = 0; start < valid.length; start += FLOW_ROWS_PER_STATEMENT) {
    const rows = valid.slice(start, start + FLOW_ROWS_PER_STATEMENT);
    if (!careful) {
      await flowInsert(flows, rows, keys).execute(trx);
      outcome.rows += rows.length;
      continue;
    }
    if (await inSavepoint(trx, flowInsert(flows, rows, keys))) {
      outcome.rows += rows.length;
      continue;
    }
    for (const row of rows) {
      const error = await inSavepoint(trx, flowInsert(flows, [row], keys), true);
      if (error === true) outcome.rows += 1;
      else reject(outcome, `flow row refused: ${messageOf(error)}`);
    }
  }
  return longest;
}

/** The INSERT of some rows of a batch: one array per column. */
function flowInsert(
  flows: EncodedFlows,
  rows: readonly number[],
  keys: Map<number, number>,
): RawBuilder<unknown> {
  const arrays: Array<Array<number | string | null>> = [];
  for (let i = 0; i < INTEGER_COUNT; i += 1) {
    const values = new Array<number | null>(rows.length);
    for (let r = 0; r < rows.length; r += 1) {
      const value = flows.integers[rows[r]! * INTEGER_COUNT + i]!;
      values[r] = Number.isNaN(value) ? null : value;
    }
    arrays.push(values);
  }
  for (let j = 0; j < TEXT_COUNT; j += 1) {
    const values = new Array<string | null>(rows.length);
    for (let r = 0; r < rows.length; r += 1) {
      values[r] = encodedText(flows, rows[r]!, j);
    }
    arrays.push(values);
  }
  const tunnelKeys = new Array<number | null>(rows.length);
  for (let r = 0; r < rows.length; r += 1) {
    const index = flows.texts[rows[r]! * TEXT_COUNT + TUNNEL_TEXT_INDEX]!;
    if (index < 0) {
      tunnelKeys[r] = null;
      continue;
    }
    let key = keys.get(index);
    if (key === undefined) {
      key = tunnelKey(flows.strings[index]!);
      keys.set(index, key);
    }
    tunnelKeys[r] = key;
  }
  arrays.push(tunnelKeys);
  return sql`INSERT INTO flows (${sql.raw(FLOW_COLUMN_LIST)}) SELECT * FROM unnest(${unnestArgs(
    arrays,
    FLOW_ARRAY_TYPES,
  )})`;
}

/** `$1::bigint[], $2::text[], …`: each array one parameter, cast to its column's array type. */
function unnestArgs(
  arrays: ReadonlyArray<readonly unknown[]>,
  types: readonly string[],
): RawBuilder<unknown> {
  return sql.join(arrays.map((values, i) => sql`${values}::${sql.raw(types[i]!)}`));
}

/** The group's rows of the lists merged by key, written once after all its batches (bare pass). */
interface GroupRows {
  /** Templates, exporter counters and collector documents, one statement each, with their sort keys. */
  readonly ordered: Array<{ readonly key: string; readonly statement: RawBuilder<unknown> }>;
  readonly exporterBuckets: Row[];
  readonly tunnels: NewTunnelRow[];
  readonly sas: NewSaRow[];
  readonly tunnelBuckets: NewTunnelBucketRow[];
  readonly lateDays: LateDay[];
}

interface LateDay {
  readonly tunnelId: string;
  readonly day: number;
}

function emptyGroupRows(): GroupRows {
  return { ordered: [], exporterBuckets: [], tunnels: [], sas: [], tunnelBuckets: [], lateDays: [] };
}

/**
 * The group's state in one fixed order of tables, rows in key order within each, whatever
 * order the batches brought them in: two collectors writing the same rows lock them in the
 * same order and never deadlock on each other.
 */
async function writeGroupRows(trx: Trx, group: GroupRows): Promise<void> {
  // Stable: the statements of one key keep the order they were submitted in.
  const ordered = [...group.ordered].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { statement } of ordered) await statement.execute(trx);
  for (const statement of [
    upsertExporterBuckets(group.exporterBuckets),
    upsertTunnels(group.tunnels),
    upsertSas(group.sas),
    upsertTunnelBuckets(group.tunnelBuckets),
    dropDaySummaries(group.lateDays),
  ]) {
    if (statement !== null) await statement.execute(trx);
  }
}

function dropDaySummaries(days: readonly LateDay[]): RawBuilder<unknown> | null {
  if (days.length === 0) return null;
  return sql`DELETE FROM report_day_summaries WHERE (tunnel_id, day_start_ms) IN
    (SELECT * FROM unnest(${days.map((d) => d.tunnelId)}::text[], ${days.map((d) => int(d.day))}::bigint[]))`;
}

async function applyState(
  trx: Trx,
  item: SealedState,
  outcome: Outcome,
  careful: boolean,
  commitMs: number,
  group: GroupRows,
): Promise<void> {
  const receivedMs = item.receivedMs ?? commitMs;
  // Careful: each item alone in a savepoint. Bare: one statement per list where rows can be
  // merged by key first (bucket deltas add, tunnels and SAs widen), one per item elsewhere.
  const each = async <T>(what: string, items: readonly T[], one: (item: T) => RawBuilder<unknown>) => {
    for (const x of items) {
      {
        const result = await inSavepoint(trx, one(x), true);
        if (result !== true) {
          outcome.rejectedItems += 1;
          outcome.firstRejection ??= `${what}: ${messageOf(result)}`;
        }
      }
    }
  };
  // Statements one per item, by key: bare, they join the group's list, run after its batches
  // in key order (stable: one key's statements keep their order); careful, each alone now.
  const ordered = async <T>(
    what: string,
    items: readonly T[],
    one: (item: T) => RawBuilder<unknown>,
    keyOf: (item: T) => string,
  ) => {
    if (careful) await each(what, items, one);
    else for (const x of items) group.ordered.push({ key: keyOf(x), statement: one(x) });
  };
  // Rows that merge by key go into the group's lists (bare pass: one statement per list for
  // the whole group, after its batches), or each item alone (careful pass).
  const merged = async <T, R>(
    what: string,
    items: readonly T[],
    toRows: (items: readonly T[]) => R[],
    statement: (rows: readonly R[]) => RawBuilder<unknown> | null,
    into: R[],
  ) => {
    if (!careful) into.push(...toRows(items));
    else await each(what, items, (x) => statement(toRows([x]))!);
  };

  const templateKey = (k: { exporter: string; domainId: number; templateId: number }) =>
    `1|${k.exporter}|${k.domainId}|${k.templateId}`;
  await ordered(
    'template refused',
    item.saveTemplates,
    (t) =>
      sql`INSERT INTO templates (exporter, domain_id, template_id, version, body, updated_ms)
      VALUES (${t.exporter}, ${int(t.domainId)}, ${int(t.templateId)}, ${int(t.version)}, ${t.bodyJson},
        ${int(t.updatedMs)})
      ON CONFLICT (exporter, domain_id, template_id) DO UPDATE SET
        version = excluded.version, body = excluded.body, updated_ms = excluded.updated_ms`,
    templateKey,
  );
  await ordered(
    'template delete refused',
    item.deleteTemplates,
    (k) =>
      sql`DELETE FROM templates
        WHERE exporter = ${k.exporter} AND domain_id = ${int(k.domainId)} AND template_id = ${int(k.templateId)}`,
    templateKey,
  );
  // Counters are absolute (each collector owns its exporters); first/last seen only widen.
  await ordered(
    'exporter counters refused',
    item.exporters,
    (c) =>
      sql`INSERT INTO exporters (exporter, domain_id, version, datagrams, records, templates, options_records,
        malformed, missing_template_records, sequence_gaps, dropped, issues, first_seen_ms, last_seen_ms)
      VALUES (${c.exporter}, ${int(c.domainId)}, ${int(c.version)}, ${int(c.datagrams)}, ${int(c.records)},
        ${int(c.templates)}, ${int(c.optionsRecords)}, ${int(c.malformed)}, ${int(c.missingTemplateRecords)},
        ${int(c.sequenceGaps)}, ${int(c.dropped)}, ${c.issuesJson}, ${int(c.firstSeenMs)}, ${int(c.lastSeenMs)})
      ON CONFLICT (exporter, domain_id) DO UPDATE SET
        version = coalesce(excluded.version, exporters.version),
        datagrams = excluded.datagrams, records = excluded.records, templates = excluded.templates,
        options_records = excluded.options_records, malformed = excluded.malformed,
        missing_template_records = excluded.missing_template_records,
        sequence_gaps = excluded.sequence_gaps, dropped = excluded.dropped, issues = excluded.issues,
        first_seen_ms = LEAST(exporters.first_seen_ms, excluded.first_seen_ms),
        last_seen_ms = GREATEST(exporters.last_seen_ms, excluded.last_seen_ms)`,
    (c) => `2|${c.exporter}|${c.domainId}`,
  );
  await merged(
    'exporter bucket refused',
    item.exporterBuckets,
    (list) =>
      list.map((b) => ({
        exporter: b.exporter,
        domain_id: b.domainId,
        bucket_start_ms: b.bucketStartMs,
        records: b.records,
        datagrams: b.datagrams,
        issues: b.issues,
        sequence_gaps: b.sequenceGaps,
        received_ms: receivedMs,
      })),
    upsertExporterBuckets,
    group.exporterBuckets,
  );
  await merged('tunnel refused', item.tunnels, (list) => list.map(tunnelToRow), upsertTunnels, group.tunnels);
  await merged('security association refused', item.sas, (list) => list.map(saToRow), upsertSas, group.sas);
  await merged(
    'tunnel bucket refused',
    item.tunnelBuckets,
    (list) => list.map((b) => bucketDeltaToRow(b, receivedMs)),
    upsertTunnelBuckets,
    group.tunnelBuckets,
  );
  // A bucket of a day that has ended: a report's summary of that day is stale.
  const lateDays = new Map<string, LateDay>();
  for (const b of item.tunnelBuckets) {
    const day = b.bucketStartMs - (b.bucketStartMs % SUMMARY_DAY_MS);
    if (day + SUMMARY_DAY_MS <= receivedMs)
      lateDays.set(`${day}|${b.tunnelId}`, { tunnelId: b.tunnelId, day });
  }
  await merged(
    'day summary drop refused',
    [...lateDays.values()],
    (list) => [...list],
    dropDaySummaries,
    group.lateDays,
  );
  await ordered(
    'collector state refused',
    item.collectorState,
    (e) =>
      sql`INSERT INTO collector_state (key, value, updated_ms) VALUES (${e.key}, ${e.value}, ${int(e.updatedMs)})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`,
    (e) => `3|${e.key}`,
  );
}

/**
 * Rows of one list merged by key in list order (one INSERT … ON CONFLICT may not touch a row
 * twice), then sorted by key: two writers lock the rows they share in the same order.
 */
function mergeByKey(
  rows: readonly Row[],
  keyOf: (row: Row) => string,
  fold: (into: Record<string, unknown>, next: Row) => void,
): Row[] {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const row of rows) {
    const key = keyOf(row);
    const into = byKey.get(key);
    if (into === undefined) byKey.set(key, { ...row });
    else fold(into, row);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row as Row);
}

/**
 * One array per column and its array type: text columns as they are, the others bigint,
 * their values as the store keeps integers (store/bigint-policy.ts: rounded, saturated).
 */
function unnestColumns(
  rows: readonly Row[],
  columns: readonly string[],
  texts: ReadonlySet<string> | Readonly<Record<string, string>>,
): RawBuilder<unknown> {
  const isText = (c: string) => (texts instanceof Set ? texts.has(c) : c in texts);
  return unnestArgs(
    columns.map((c) =>
      isText(c) ? rows.map((r) => r[c] ?? null) : rows.map((r) => int(r[c] as number | null | undefined)),
    ),
    columns.map((c) => (isText(c) ? 'text[]' : 'bigint[]')),
  );
}

const num = (v: unknown): number => v as number;

function upsertTunnelBuckets(rows: readonly NewTunnelBucketRow[]): RawBuilder<unknown> | null {
  if (rows.length === 0) return null;
  const merged = mergeByKey(
    rows as readonly Row[],
    (r) => BUCKET_KEY.map((c) => String(r[c])).join('\u0000'),
    (into, next) => {
      for (const c of tunnelBucketCounterColumns) into[c] = num(into[c]) + num(next[c]);
      into['received_ms'] = Math.max(num(into['received_ms']), num(next['received_ms']));
    },
  );
  return sql`INSERT INTO tunnel_buckets (${sql.raw(BUCKET_COLUMNS.join(', '))})
    SELECT * FROM unnest(${unnestColumns(merged, BUCKET_COLUMNS, BUCKET_TYPES)})
    ON CONFLICT (${sql.raw(BUCKET_KEY.join(', '))}) DO UPDATE SET
      ${sql.raw(tunnelBucketCounterColumns.map((c) => `${c} = tunnel_buckets.${c} + excluded.${c}`).join(', '))},
      received_ms = GREATEST(tunnel_buckets.received_ms, excluded.received_ms)`;
}

function upsertExporterBuckets(rows: readonly Row[]): RawBuilder<unknown> | null {
  if (rows.length === 0) return null;
  const additive = ['records', 'datagrams', 'issues', 'sequence_gaps'] as const;
  const merged = mergeByKey(
    rows,
    (r) => `${r['exporter']}\u0000${r['domain_id']}\u0000${r['bucket_start_ms']}`,
    (into, next) => {
      for (const c of additive) into[c] = num(into[c]) + num(next[c]);
      into['received_ms'] = Math.max(num(into['received_ms']), num(next['received_ms']));
    },
  );
  return sql`INSERT INTO exporter_buckets (${sql.raw(EXPORTER_BUCKET_COLUMNS.join(', '))})
    SELECT * FROM unnest(${unnestColumns(merged, EXPORTER_BUCKET_COLUMNS, TEXT_STATE_COLUMNS)})
    ON CONFLICT (exporter, domain_id, bucket_start_ms) DO UPDATE SET
      ${sql.raw(additive.map((c) => `${c} = exporter_buckets.${c} + excluded.${c}`).join(', '))},
      received_ms = GREATEST(exporter_buckets.received_ms, excluded.received_ms)`;
}

function upsertTunnels(rows: readonly NewTunnelRow[]): RawBuilder<unknown> | null {
  if (rows.length === 0) return null;
  // As the statements one after the other would leave it: the latest name given, the
  // widest first/last seen; the other columns are the row's first (never updated).
  const merged = mergeByKey(
    rows as readonly Row[],
    (r) => String(r['id']),
    (into, next) => {
      if (next['name'] !== null && next['name'] !== undefined) into['name'] = next['name'];
      into['first_seen_ms'] = Math.min(num(into['first_seen_ms']), num(next['first_seen_ms']));
      into['last_seen_ms'] = Math.max(num(into['last_seen_ms']), num(next['last_seen_ms']));
    },
  );
  return sql`INSERT INTO tunnels (${sql.raw(TUNNEL_COLUMNS.join(', '))})
    SELECT * FROM unnest(${unnestColumns(merged, TUNNEL_COLUMNS, TEXT_STATE_COLUMNS)})
    ON CONFLICT (id) DO UPDATE SET
      name = coalesce(excluded.name, tunnels.name),
      first_seen_ms = LEAST(tunnels.first_seen_ms, excluded.first_seen_ms),
      last_seen_ms = GREATEST(tunnels.last_seen_ms, excluded.last_seen_ms)`;
}

function upsertSas(rows: readonly NewSaRow[]): RawBuilder<unknown> | null {
  if (rows.length === 0) return null;
  // The widest first/last seen; end and pairing the latest values.
  const merged = mergeByKey(
    rows as readonly Row[],
    (r) => String(r['id']),
    (into, next) => {
      into['first_seen_ms'] = Math.min(num(into['first_seen_ms']), num(next['first_seen_ms']));
      into['last_seen_ms'] = Math.max(num(into['last_seen_ms']), num(next['last_seen_ms']));
      into['ended_ms'] = next['ended_ms'];
      into['end_reason'] = next['end_reason'];
      into['paired_sa_id'] = next['paired_sa_id'];
    },
  );
  return sql`INSERT INTO security_associations (${sql.raw(SA_COLUMNS.join(', '))})
    SELECT * FROM unnest(${unnestColumns(merged, SA_COLUMNS, TEXT_STATE_COLUMNS)})
    ON CONFLICT (id) DO UPDATE SET
      first_seen_ms = LEAST(security_associations.first_seen_ms, excluded.first_seen_ms),
      last_seen_ms = GREATEST(security_associations.last_seen_ms, excluded.last_seen_ms),
      ended_ms = excluded.ended_ms,
      end_reason = excluded.end_reason,
      paired_sa_id = excluded.paired_sa_id`;
}

/**
 * Runs a statement inside a SAVEPOINT. On a data error rolls back to it and returns false
 * (or, with `withError`, the error); any other error (connection lost, deadlock) goes up,
 * failing the whole transaction.
 */
async function inSavepoint(trx: Trx, statement: RawBuilder<unknown>): Promise<boolean>;
async function inSavepoint(
  trx: Trx,
  statement: RawBuilder<unknown>,
  withError: true,
): Promise<true | unknown>;
async function inSavepoint(trx: Trx, statement: RawBuilder<unknown>, withError = false): Promise<unknown> {
  await sql`SAVEPOINT tunnelflow_item`.execute(trx);
  try {
    await statement.execute(trx);
  } catch (error) {
    if (!isDataError(error)) throw error;
    await sql`ROLLBACK TO SAVEPOINT tunnelflow_item`.execute(trx);
    await sql`RELEASE SAVEPOINT tunnelflow_item`.execute(trx);
    return withError ? error : false;
  }
  await sql`RELEASE SAVEPOINT tunnelflow_item`.execute(trx);
  return true;
}

function sqlState(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.length === 5 ? code : null;
}

/** A value the server refused (data exception, constraint): the row or item's fault, not the transaction's. */
function isDataError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== null && (state.startsWith('22') || state.startsWith('23'));
}

function isConflict(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40P01' || state === '40001';
}

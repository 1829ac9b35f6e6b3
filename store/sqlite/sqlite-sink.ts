import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { END_MS_INDEX, INTEGER_COUNT, START_MS_INDEX, TEXT_COUNT } from '../flows/flow-columns.js';
import { MAX_FLOW_DURATION_KEY } from '../meta/store-meta-keys.js';
import { RetentionStepper } from './retention-stepper.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';
import type { EncodedFlows } from '../writer/flow-batch-codec.js';
import {
  fillRow,
  fillShared,
  insertSql,
  KIND_SHARED,
  KIND_TEXT_INDEX,
  planFor,
  rowShape,
  sameShared,
} from './insert-plan.js';
import type { InsertPlan, Value } from './insert-plan.js';
import type { SealedState } from '../writer/sealed-state.js';
import type { SinkResult } from '../writer/messages.js';
import { emptyOutcome, messageOf, missingRequired, reject } from '../writer/sink-outcome.js';
import type { Outcome } from '../writer/sink-outcome.js';
import { saToRow } from '../tunnels/sa.table.js';
import { SUMMARY_DAY_MS } from '../reports/day-summary-repository.js';
import { bucketDeltaToRow, tunnelBucketCounterColumns } from '../tunnels/tunnel-bucket.table.js';
import { tunnelToRow } from '../tunnels/tunnel.table.js';

/**
 * Rows per INSERT statement at most. Binding happens per value either way, but each
 * statement call crosses from JavaScript into SQLite once: 32 rows per call measured
 * ~1.25x the throughput of one; 64 or 128 measured no better.
 */
const ROWS_PER_STATEMENT = 32;

/** Distinct row shapes kept prepared (each with up to ROWS_PER_STATEMENT statements). */
const SHAPE_CACHE_LIMIT = 64;
/** Distinct kinds per batch bound once per statement; more than this is garbage input. */
const MANY_KINDS = 2047;

interface PreparedShape {
  readonly plan: InsertPlan;
  readonly statements: Array<Statement | undefined>;
}

/**
 * Writes batches on one better-sqlite3 connection: prepared statements inside one
 * synchronous transaction per batch (better-sqlite3's recommended shape; an async
 * transaction would let other work interleave with an open write lock).
 */
export class SqliteSink {
  readonly #sqlite: SqliteDatabase;
  readonly #saveTemplate: Statement;
  readonly #deleteTemplate: Statement;
  readonly #upsertExporter: Statement;
  readonly #addBucket: Statement;
  readonly #upsertTunnel: Statement;
  readonly #upsertSa: Statement;
  readonly #addTunnelBucket: Statement;
  readonly #dropDaySummary: Statement<[string, number]>;
  readonly #saveCollectorState: Statement;
  readonly #raiseMaxDuration: Statement<[string, number]>;
  readonly #totalChanges: Statement<[], number>;
  readonly #retention: RetentionStepper;
  readonly #args: Value[] = [];
  readonly #shapes = new Map<number, PreparedShape>();
  #maxDurationMs: number;

  constructor(sqlite: SqliteDatabase) {
    this.#sqlite = sqlite;
    this.#saveTemplate = sqlite.prepare(
      `INSERT INTO templates (exporter, domain_id, template_id, version, body, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (exporter, domain_id, template_id) DO UPDATE SET
         version = excluded.version, body = excluded.body, updated_ms = excluded.updated_ms`,
    );
    this.#deleteTemplate = sqlite.prepare(
      'DELETE FROM templates WHERE exporter = ? AND domain_id = ? AND template_id = ?',
    );
    // Counters are absolute (the collector owns them); first/last seen only ever widen.
    this.#upsertExporter = sqlite.prepare(
      `INSERT INTO exporters (exporter, domain_id, version, datagrams, records, templates, options_records,
         malformed, missing_template_records, sequence_gaps, dropped, issues, first_seen_ms, last_seen_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (exporter, domain_id) DO UPDATE SET
         version = coalesce(excluded.version, version),
         datagrams = excluded.datagrams, records = excluded.records, templates = excluded.templates,
         options_records = excluded.options_records, malformed = excluded.malformed,
         missing_template_records = excluded.missing_template_records,
         sequence_gaps = excluded.sequence_gaps, dropped = excluded.dropped, issues = excluded.issues,
         first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
         last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`,
    );
    // Bucket rows are deltas: add them up.
    this.#addBucket = sqlite.prepare(
      `INSERT INTO exporter_buckets
         (exporter, domain_id, bucket_start_ms, records, datagrams, issues, sequence_gaps, received_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (exporter, domain_id, bucket_start_ms) DO UPDATE SET
         records = records + excluded.records, datagrams = datagrams + excluded.datagrams,
         issues = issues + excluded.issues, sequence_gaps = sequence_gaps + excluded.sequence_gaps,
         received_ms = max(received_ms, excluded.received_ms)`,
    );
    // Tunnels and SAs: first seen keeps the minimum, last seen the maximum, the rest the
    // latest value (a tunnel evicted from the normalizer's memory comes back with its id).
    this.#upsertTunnel = sqlite.prepare(`
      INSERT INTO tunnels (id, name, peer_a, peer_b, encapsulation, ip_version, first_seen_ms, last_seen_ms)
      VALUES (@id, @name, @peer_a, @peer_b, @encapsulation, @ip_version, @first_seen_ms, @last_seen_ms)
      ON CONFLICT (id) DO UPDATE SET
        name = coalesce(excluded.name, tunnels.name),
        first_seen_ms = min(tunnels.first_seen_ms, excluded.first_seen_ms),
        last_seen_ms = max(tunnels.last_seen_ms, excluded.last_seen_ms)`);
    this.#upsertSa = sqlite.prepare(`
      INSERT INTO security_associations
        (id, tunnel_id, direction, src, dst, spi, generation, first_seen_ms, last_seen_ms, ended_ms, end_reason, paired_sa_id)
      VALUES
        (@id, @tunnel_id, @direction, @src, @dst, @spi, @generation, @first_seen_ms, @last_seen_ms, @ended_ms, @end_reason, @paired_sa_id)
      ON CONFLICT (id) DO UPDATE SET
        first_seen_ms = min(security_associations.first_seen_ms, excluded.first_seen_ms),
        last_seen_ms = max(security_associations.last_seen_ms, excluded.last_seen_ms),
        ended_ms = excluded.ended_ms,
        end_reason = excluded.end_reason,
        paired_sa_id = excluded.paired_sa_id`);
    // Tunnel bucket rows are deltas too; the receipt time keeps the latest.
    const bucketKey = ['tunnel_id', 'bucket_start_ms', 'direction', 'exporter', 'domain_id'];
    const bucketColumns = [...bucketKey, ...tunnelBucketCounterColumns, 'received_ms'];
    this.#addTunnelBucket = sqlite.prepare(`
      INSERT INTO tunnel_buckets (${bucketColumns.join(', ')})
      VALUES (${bucketColumns.map((c) => `@${c}`).join(', ')})
      ON CONFLICT (${bucketKey.join(', ')}) DO UPDATE SET
        ${tunnelBucketCounterColumns.map((c) => `${c} = ${c} + excluded.${c}`).join(',\n        ')},
        received_ms = max(received_ms, excluded.received_ms)`);
    this.#dropDaySummary = sqlite.prepare(
      'DELETE FROM report_day_summaries WHERE tunnel_id = ? AND day_start_ms = ?',
    );
    this.#saveCollectorState = sqlite.prepare(
      `INSERT INTO collector_state (key, value, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`,
    );
    this.#raiseMaxDuration = sqlite.prepare(
      `INSERT INTO store_meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
    );
    this.#totalChanges = sqlite.prepare<[], number>('SELECT total_changes()').pluck();
    const stored = sqlite
      .prepare<[string], { value: number }>('SELECT value FROM store_meta WHERE key = ?')
      .get(MAX_FLOW_DURATION_KEY);
    this.#maxDurationMs = stored?.value ?? 0;
    this.#retention = new RetentionStepper(sqlite);
  }

  /** Commits one batch: its flows, then its state items in submission order, in one transaction. */
  apply(flows: EncodedFlows | null, state: readonly SealedState[]): SinkResult {
    return this.applyMany([{ flows, state }])[0]!;
  }

  /** Commits several batches in one transaction (group commit); one result per batch. */
  applyMany(
    batches: ReadonlyArray<{ readonly flows: EncodedFlows | null; readonly state: readonly SealedState[] }>,
  ): SinkResult[] {
    const results: SinkResult[] = [];
    const commitMs = Date.now();
    this.#sqlite
      .transaction(() => {
        for (const batch of batches) {
          const started = performance.now();
          const outcome: Outcome = emptyOutcome();
          if (batch.flows !== null && batch.flows.rows > 0) this.#insertFlows(batch.flows, outcome);
          for (const item of batch.state) this.#applyState(item, outcome, commitMs);
          results.push({ ...outcome, ms: performance.now() - started });
        }
      })
      .immediate();
    return results;
  }

  retentionStep(step: RetentionStep): RetentionStepResult {
    return this.#retention.run(step);
  }

  close(): void {
    // Prepared statements need no closing; the host closes the connection.
  }

  #insertFlows(flows: EncodedFlows, outcome: Outcome): void {
    const tunnelKeys: Array<number | undefined> = [];
    // Rows are grouped by shape and kind (writer/insert-plan.ts) so that each statement
    // binds as few values as possible; within a group rows keep their order.
    type Group = { readonly key: number; readonly shape: number; readonly rows: number[] };
    const groups: Group[] = [];
    let last: Group | undefined;
    // Kinds get small codes per batch; past MANY_KINDS distinct values (garbage input)
    // the kind is bound per row instead.
    const kindCodes = new Int32Array(flows.strings.length).fill(-1);
    let nextKindCode = 0;
    let batchMaxDuration = -1;
    for (let row = 0; row < flows.rows; row += 1) {
      const problem = missingRequired(flows, row);
      if (problem !== null) {
        reject(outcome, problem);
        continue;
      }
      const kindIndex = flows.texts[row * TEXT_COUNT + KIND_TEXT_INDEX]!;
      let code = kindCodes[kindIndex]!;
      if (code < 0) {
        code = nextKindCode < MANY_KINDS ? nextKindCode++ : MANY_KINDS;
        kindCodes[kindIndex] = code;
      }
      const shape = rowShape(flows, row) + (code === MANY_KINDS ? 0 : KIND_SHARED);
      const key = shape * (MANY_KINDS + 1) + code;
      if (last === undefined || last.key !== key) {
        // A handful of groups per batch: a list with a last-hit shortcut beats a Map
        // keyed by a 53-bit double.
        last = groups.find((g) => g.key === key);
        if (last === undefined) {
          last = { key, shape, rows: [] };
          groups.push(last);
        }
      }
      last.rows.push(row);
      const base = row * INTEGER_COUNT;
      const duration = flows.integers[base + END_MS_INDEX]! - flows.integers[base + START_MS_INDEX]!;
      if (duration > batchMaxDuration) batchMaxDuration = duration;
    }
    const args = this.#args;
    // Rows this connection has inserted, by SQLite's count: after a failed statement,
    // the difference says how many of its rows are in (INSERT OR FAIL keeps them).
    let changesBefore = this.#totalChanges.get()!;
    for (const { shape, rows } of groups) {
      const prepared = this.#preparedFor(shape);
      const plan = prepared.plan;
      let start = 0;
      while (start < rows.length) {
        const first = rows[start]!;
        let end = start + 1;
        while (
          end < rows.length &&
          end - start < ROWS_PER_STATEMENT &&
          sameShared(flows, plan, first, rows[end]!)
        ) {
          end += 1;
        }
        let o = fillShared(args, 0, flows, plan, first);
        for (let i = start; i < end; i += 1) o = fillRow(args, o, flows, plan, rows[i]!, tunnelKeys);
        args.length = o;
        try {
          // Spread, not the array: better-sqlite3 then reads arguments instead of array
          // elements through property lookups, ~25% less per row (test/bench/store.ts).
          this.#statement(prepared, end - start).run(...args);
          outcome.rows += end - start;
          changesBefore += end - start;
        } catch (error) {
          // Without a transaction (SQLITE_FULL, I/O error: SQLite rolled it all back)
          // there is nothing to go on with: the whole batch fails.
          if (!this.#sqlite.inTransaction) throw error;
          // One bad value fails the statement; the rows before it are in (OR FAIL, or
          // none when binding failed). Retry the others row by row to keep the good ones.
          const kept = Math.max(0, Math.min(end - start, this.#totalChanges.get()! - changesBefore));
          outcome.rows += kept;
          for (let i = start + kept; i < end; i += 1)
            this.#insertSingle(flows, rows[i]!, tunnelKeys, outcome);
          changesBefore = this.#totalChanges.get()!;
        }
        start = end;
      }
    }
    if (batchMaxDuration > this.#maxDurationMs) {
      this.#raiseMaxDuration.run(MAX_FLOW_DURATION_KEY, batchMaxDuration);
      this.#maxDurationMs = batchMaxDuration;
    }
  }

  #insertSingle(
    flows: EncodedFlows,
    row: number,
    tunnelKeys: Array<number | undefined>,
    outcome: Outcome,
  ): void {
    const prepared = this.#preparedFor(rowShape(flows, row));
    const args = this.#args;
    args.length = fillRow(
      args,
      fillShared(args, 0, flows, prepared.plan, row),
      flows,
      prepared.plan,
      row,
      tunnelKeys,
    );
    try {
      this.#statement(prepared, 1).run(...args);
      outcome.rows += 1;
    } catch (error) {
      reject(outcome, `flow row refused: ${messageOf(error)}`);
    }
  }

  /** The plan of a shape and its statements by row count, kept while shapes stay few. */
  #preparedFor(shape: number): PreparedShape {
    let prepared = this.#shapes.get(shape);
    if (prepared === undefined) {
      if (this.#shapes.size >= SHAPE_CACHE_LIMIT) this.#shapes.clear();
      prepared = { plan: planFor(shape), statements: [] };
      this.#shapes.set(shape, prepared);
    }
    return prepared;
  }

  #statement(prepared: PreparedShape, rows: number): Statement {
    let statement = prepared.statements[rows];
    if (statement === undefined) {
      statement = this.#sqlite.prepare(insertSql(prepared.plan, rows));
      prepared.statements[rows] = statement;
    }
    return statement;
  }

  #applyState(item: SealedState, outcome: Outcome, commitMs: number): void {
    const receivedMs = item.receivedMs ?? commitMs;
    for (const template of item.saveTemplates) {
      this.#guard(outcome, 'template refused', () =>
        this.#saveTemplate.run(
          template.exporter,
          template.domainId,
          template.templateId,
          template.version,
          template.bodyJson,
          template.updatedMs,
        ),
      );
    }
    for (const key of item.deleteTemplates) {
      this.#guard(outcome, 'template delete refused', () =>
        this.#deleteTemplate.run(key.exporter, key.domainId, key.templateId),
      );
    }
    for (const c of item.exporters) {
      this.#guard(outcome, 'exporter counters refused', () =>
        this.#upsertExporter.run(
          c.exporter,
          c.domainId,
          c.version,
          c.datagrams,
          c.records,
          c.templates,
          c.optionsRecords,
          c.malformed,
          c.missingTemplateRecords,
          c.sequenceGaps,
          c.dropped,
          c.issuesJson,
          c.firstSeenMs,
          c.lastSeenMs,
        ),
      );
    }
    for (const b of item.exporterBuckets) {
      this.#guard(outcome, 'exporter bucket refused', () =>
        this.#addBucket.run(
          b.exporter,
          b.domainId,
          b.bucketStartMs,
          b.records,
          b.datagrams,
          b.issues,
          b.sequenceGaps,
          receivedMs,
        ),
      );
    }
    for (const t of item.tunnels) {
      this.#guard(outcome, 'tunnel refused', () => this.#upsertTunnel.run(tunnelToRow(t)));
    }
    for (const sa of item.sas) {
      this.#guard(outcome, 'security association refused', () => this.#upsertSa.run(saToRow(sa)));
    }
    let lateDays: Set<string> | undefined;
    for (const b of item.tunnelBuckets) {
      this.#guard(outcome, 'tunnel bucket refused', () =>
        this.#addTunnelBucket.run(bucketDeltaToRow(b, receivedMs)),
      );
      // A bucket of a day that has ended: a report's summary of that day is stale.
      const day = b.bucketStartMs - (b.bucketStartMs % SUMMARY_DAY_MS);
      if (day + SUMMARY_DAY_MS <= receivedMs) (lateDays ??= new Set()).add(`${day}|${b.tunnelId}`);
    }
    for (const key of lateDays ?? []) {
      const bar = key.indexOf('|');
      this.#guard(outcome, 'day summary drop refused', () =>
        this.#dropDaySummary.run(key.slice(bar + 1), Number(key.slice(0, bar))),
      );
    }
    for (const e of item.collectorState) {
      this.#guard(outcome, 'collector state refused', () =>
        this.#saveCollectorState.run(e.key, e.value, e.updatedMs),
      );
    }
  }

  #guard(outcome: Outcome, what: string, action: () => unknown): void {
    try {
      action();
    } catch (error) {
      outcome.rejectedItems += 1;
      outcome.firstRejection ??= `${what}: ${messageOf(error)}`;
    }
  }
}

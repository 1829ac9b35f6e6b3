import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { addressKey } from '../address-key.js';
import type { AddressKey } from '../address-key.js';
import {
  END_MS_INDEX,
  FLOW_INTEGER_COLUMNS,
  FLOW_REQUIRED_INTEGER_COLUMNS,
  FLOW_REQUIRED_TEXT_COLUMNS,
  FLOW_TEXT_COLUMNS,
  INTEGER_COUNT,
  START_MS_INDEX,
  TEXT_COUNT,
} from '../flows/flow-columns.js';
import { MAX_FLOW_DURATION_KEY } from '../meta/store-meta-keys.js';
import { RetentionStepper } from '../retention-step.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';
import type { EncodedFlows } from './flow-batch-codec.js';
import { fillRow, fillShared, insertSql, planFor, presentMask, sameShared } from './insert-plan.js';
import type { InsertPlan, Value } from './insert-plan.js';
import type { SealedState } from './sealed-state.js';
import type { StoreExtensionWriter } from './store-extension.js';

/** What one committed batch did. */
export interface SinkResult {
  readonly rows: number;
  /** Rows refused one by one (a NOT NULL column missing, a value SQLite would not bind). */
  readonly rejectedRows: number;
  /** State items (template, counter, extension payload) refused one by one. */
  readonly rejectedItems: number;
  /** The first refusal's reason, for the log. */
  readonly firstRejection: string | null;
  readonly ms: number;
}

/**
 * Rows per INSERT statement at most. Binding happens per value either way, but each
 * statement call crosses from JavaScript into SQLite once: 32 rows per call measured
 * ~1.25x the throughput of one; 64 or 128 measured no better.
 */
const ROWS_PER_STATEMENT = 32;
/** Address keys remembered across batches: the same peers come back all the time. */
const KEY_CACHE_LIMIT = 100_000;

const REQUIRED_INTEGERS = FLOW_REQUIRED_INTEGER_COLUMNS.map((c) => FLOW_INTEGER_COLUMNS.indexOf(c));
const REQUIRED_TEXTS = FLOW_REQUIRED_TEXT_COLUMNS.map((c) => FLOW_TEXT_COLUMNS.indexOf(c));
/** Distinct (null pattern, row count) statements kept prepared. */
const STATEMENT_CACHE_LIMIT = 256;

/**
 * Writes batches on one better-sqlite3 connection: prepared statements inside one
 * synchronous transaction per batch (better-sqlite3's recommended shape; an async
 * transaction would let other work interleave with an open write lock).
 */
export class SqliteSink {
  readonly #sqlite: SqliteDatabase;
  readonly #extensions: ReadonlyMap<string, StoreExtensionWriter>;
  readonly #saveTemplate: Statement;
  readonly #deleteTemplate: Statement;
  readonly #upsertExporter: Statement;
  readonly #addBucket: Statement;
  readonly #raiseMaxDuration: Statement<[string, number]>;
  readonly #retention: RetentionStepper;
  readonly #keyCache = new Map<string, AddressKey | null>();
  readonly #args: Value[] = [];
  readonly #statements = new Map<number, Statement>();
  readonly #plans = new Map<number, InsertPlan>();
  #maxDurationMs: number;

  constructor(sqlite: SqliteDatabase, extensions: ReadonlyMap<string, StoreExtensionWriter> = new Map()) {
    this.#sqlite = sqlite;
    this.#extensions = extensions;
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
      `INSERT INTO exporter_buckets (exporter, domain_id, bucket_start_ms, records, datagrams, issues, sequence_gaps)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (exporter, domain_id, bucket_start_ms) DO UPDATE SET
         records = records + excluded.records, datagrams = datagrams + excluded.datagrams,
         issues = issues + excluded.issues, sequence_gaps = sequence_gaps + excluded.sequence_gaps`,
    );
    this.#raiseMaxDuration = sqlite.prepare(
      `INSERT INTO store_meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
    );
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
    this.#sqlite
      .transaction(() => {
        for (const batch of batches) {
          const started = performance.now();
          const outcome: Outcome = { rows: 0, rejectedRows: 0, rejectedItems: 0, firstRejection: null };
          if (batch.flows !== null && batch.flows.rows > 0) this.#insertFlows(batch.flows, outcome);
          for (const item of batch.state) this.#applyState(item, outcome);
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
    for (const extension of this.#extensions.values()) extension.close?.();
  }

  #insertFlows(flows: EncodedFlows, outcome: Outcome): void {
    const keys = this.#keysFor(flows.strings);
    // Rows are grouped by which columns they leave null (in practice one group per
    // exporter template and kind), so that each statement binds only the columns its
    // rows use, and runs of rows sharing exporter, domain, template and kind bind those
    // once (writer/insert-plan.ts). Within a group rows keep their order.
    // A handful of patterns per batch: a list with a last-hit shortcut beats a Map
    // keyed by a 40-bit double.
    const groups: Array<{ readonly mask: number; readonly rows: number[] }> = [];
    let last: { readonly mask: number; readonly rows: number[] } | undefined;
    let batchMaxDuration = -1;
    for (let row = 0; row < flows.rows; row += 1) {
      const problem = missingRequired(flows, row);
      if (problem !== null) {
        reject(outcome, problem);
        continue;
      }
      const mask = presentMask(flows, row);
      if (last === undefined || last.mask !== mask) {
        last = groups.find((g) => g.mask === mask);
        if (last === undefined) {
          last = { mask, rows: [] };
          groups.push(last);
        }
      }
      last.rows.push(row);
      const base = row * INTEGER_COUNT;
      const duration = flows.integers[base + END_MS_INDEX]! - flows.integers[base + START_MS_INDEX]!;
      if (duration > batchMaxDuration) batchMaxDuration = duration;
    }
    const args = this.#args;
    for (const { mask, rows } of groups) {
      const plan = this.#planFor(mask);
      let start = 0;
      while (start < rows.length) {
        const first = rows[start]!;
        let end = start + 1;
        while (
          end < rows.length &&
          end - start < ROWS_PER_STATEMENT &&
          sameShared(flows, plan, first, rows[end]!)
        )
          end += 1;
        let o = fillShared(args, 0, flows, plan, first);
        for (let i = start; i < end; i += 1) o = fillRow(args, o, flows, plan, rows[i]!, keys);
        args.length = o;
        try {
          // Spread, not the array: better-sqlite3 then reads arguments instead of array
          // elements through property lookups, ~25% less per row (test/bench/store.ts).
          this.#statementFor(mask, plan, end - start).run(...args);
          outcome.rows += end - start;
        } catch {
          // One bad value fails the whole statement; retry row by row to keep the others.
          for (let i = start; i < end; i += 1) this.#insertSingle(flows, rows[i]!, keys, outcome);
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
    keys: readonly (AddressKey | null)[],
    outcome: Outcome,
  ): void {
    const mask = presentMask(flows, row);
    const plan = this.#planFor(mask);
    const args = this.#args;
    args.length = fillRow(args, fillShared(args, 0, flows, plan, row), flows, plan, row, keys);
    try {
      this.#statementFor(mask, plan, 1).run(...args);
      outcome.rows += 1;
    } catch (error) {
      reject(outcome, `flow row refused: ${messageOf(error)}`);
    }
  }

  #planFor(mask: number): InsertPlan {
    let plan = this.#plans.get(mask);
    if (plan === undefined) {
      if (this.#plans.size >= STATEMENT_CACHE_LIMIT) this.#plans.clear();
      plan = planFor(mask);
      this.#plans.set(mask, plan);
    }
    return plan;
  }

  /** A prepared INSERT for `rows` rows of a plan, kept while the set of shapes stays small. */
  #statementFor(mask: number, plan: InsertPlan, rows: number): Statement {
    const cacheKey = mask * 64 + rows;
    let statement = this.#statements.get(cacheKey);
    if (statement === undefined) {
      if (this.#statements.size >= STATEMENT_CACHE_LIMIT) this.#statements.clear();
      statement = this.#sqlite.prepare(insertSql(plan, rows));
      this.#statements.set(cacheKey, statement);
    }
    return statement;
  }

  /** Address keys for the batch's dictionary; only src/dst entries are ever read. */
  #keysFor(strings: readonly string[]): (AddressKey | null)[] {
    const keys = new Array<AddressKey | null>(strings.length);
    for (let i = 0; i < strings.length; i += 1) {
      const text = strings[i]!;
      let key = this.#keyCache.get(text);
      if (key === undefined) {
        // Kinds and tunnel ids are in the dictionary too; they are not addresses and
        // cost one failed parse per batch, which is cheaper than tracking columns here.
        key = addressKey(text);
        if (this.#keyCache.size >= KEY_CACHE_LIMIT) this.#keyCache.clear();
        this.#keyCache.set(text, key);
      }
      keys[i] = key;
    }
    return keys;
  }

  #applyState(item: SealedState, outcome: Outcome): void {
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
        ),
      );
    }
    for (const [name, payload] of item.extra) {
      const extension = this.#extensions.get(name);
      if (extension === undefined) {
        reject(outcome, `no store extension named '${name}'`);
        continue;
      }
      // A nested better-sqlite3 transaction is a savepoint: a failing payload is rolled
      // back alone and the rest of the batch still commits.
      this.#guard(outcome, `extension '${name}' refused a payload`, () =>
        this.#sqlite.transaction(() => extension.apply(payload))(),
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

interface Outcome {
  rows: number;
  rejectedRows: number;
  rejectedItems: number;
  firstRejection: string | null;
}

function reject(outcome: Outcome, reason: string): void {
  outcome.rejectedRows += 1;
  outcome.firstRejection ??= reason;
}

function missingRequired(flows: EncodedFlows, row: number): string | null {
  const ibase = row * INTEGER_COUNT;
  for (const i of REQUIRED_INTEGERS) {
    if (Number.isNaN(flows.integers[ibase + i]!))
      return `flow row refused: ${FLOW_INTEGER_COLUMNS[i]} is missing`;
  }
  const tbase = row * TEXT_COUNT;
  for (const j of REQUIRED_TEXTS) {
    if (flows.texts[tbase + j]! < 0) return `flow row refused: ${FLOW_TEXT_COLUMNS[j]} is missing`;
  }
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

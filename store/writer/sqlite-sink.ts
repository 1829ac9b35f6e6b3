import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { addressKey } from '../address-key.js';
import type { AddressKey } from '../address-key.js';
import {
  DST_TEXT_INDEX,
  END_MS_INDEX,
  FLOW_INSERT_COLUMNS,
  FLOW_INTEGER_COLUMNS,
  FLOW_REQUIRED_INTEGER_COLUMNS,
  FLOW_REQUIRED_TEXT_COLUMNS,
  FLOW_TEXT_COLUMNS,
  INTEGER_COUNT,
  SRC_TEXT_INDEX,
  START_MS_INDEX,
  TEXT_COUNT,
} from '../flows/flow-columns.js';
import { MAX_FLOW_DURATION_KEY } from '../meta/store-meta-keys.js';
import { RetentionStepper } from '../retention-step.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';
import type { EncodedFlows } from './flow-batch-codec.js';
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
 * Rows per INSERT statement. Binding happens per value either way, but each statement
 * call crosses from JavaScript into SQLite once: 32 rows per call measured ~1.6x the
 * throughput of one (test/bench/store.ts).
 */
const ROWS_PER_STATEMENT = 32;
/** Address keys remembered across batches: the same peers come back all the time. */
const KEY_CACHE_LIMIT = 100_000;

const REQUIRED_INTEGERS = FLOW_REQUIRED_INTEGER_COLUMNS.map((c) => FLOW_INTEGER_COLUMNS.indexOf(c));
const REQUIRED_TEXTS = FLOW_REQUIRED_TEXT_COLUMNS.map((c) => FLOW_TEXT_COLUMNS.indexOf(c));
const COLUMN_COUNT = FLOW_INSERT_COLUMNS.length;
const ALL_COLUMNS: readonly number[] = FLOW_INSERT_COLUMNS.map((_, c) => c);
const SRC_KEY_COLUMN = FLOW_INSERT_COLUMNS.indexOf('src_key');
/** Distinct (null pattern, row count) statements kept prepared. */
const STATEMENT_CACHE_LIMIT = 256;

type Value = number | string | Buffer | null;

/**
 * Writes batches on one better-sqlite3 connection: prepared statements inside one
 * synchronous transaction per batch (better-sqlite3's recommended shape; an async
 * transaction would let other work interleave with an open write lock).
 */
export class SqliteSink {
  readonly #sqlite: SqliteDatabase;
  readonly #extensions: ReadonlyMap<string, StoreExtensionWriter>;
  readonly #insertOne: Statement;
  readonly #saveTemplate: Statement;
  readonly #deleteTemplate: Statement;
  readonly #upsertExporter: Statement;
  readonly #addBucket: Statement;
  readonly #raiseMaxDuration: Statement<[string, number]>;
  readonly #retention: RetentionStepper;
  readonly #keyCache = new Map<string, AddressKey | null>();
  readonly #args: Value[] = [];
  readonly #statements = new Map<number, Statement>();
  readonly #columnsByMask = new Map<number, readonly number[]>();
  #maxDurationMs: number;

  constructor(sqlite: SqliteDatabase, extensions: ReadonlyMap<string, StoreExtensionWriter> = new Map()) {
    this.#sqlite = sqlite;
    this.#extensions = extensions;
    const columns = FLOW_INSERT_COLUMNS.join(', ');
    const tuple = `(${FLOW_INSERT_COLUMNS.map(() => '?').join(', ')})`;
    this.#insertOne = sqlite.prepare(`INSERT INTO flows (${columns}) VALUES ${tuple}`);
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
    // Rows are inserted grouped by which columns they leave null (mostly: one group per
    // exporter template and kind), so that each multi-row statement binds only the
    // columns its rows use. Binding costs ~65 ns per value whether it is null or not,
    // and a typical flow has a dozen null columns (test/bench/store.ts).
    const groups = new Map<number, number[]>();
    let batchMaxDuration = -1;
    for (let row = 0; row < flows.rows; row += 1) {
      const problem = missingRequired(flows, row);
      if (problem !== null) {
        reject(outcome, problem);
        continue;
      }
      const mask = presentMask(flows, row);
      const group = groups.get(mask);
      if (group === undefined) groups.set(mask, [row]);
      else group.push(row);
      const base = row * INTEGER_COUNT;
      const duration = flows.integers[base + END_MS_INDEX]! - flows.integers[base + START_MS_INDEX]!;
      if (duration > batchMaxDuration) batchMaxDuration = duration;
    }
    const args = this.#args;
    for (const [mask, rows] of groups) {
      const columns = this.#columnsOf(mask);
      for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
        const end = Math.min(rows.length, start + ROWS_PER_STATEMENT);
        const statement = this.#statementFor(mask, columns, end - start);
        let o = 0;
        for (let i = start; i < end; i += 1) o = fillRow(args, o, flows, rows[i]!, keys, columns);
        args.length = o;
        try {
          statement.run(args);
          outcome.rows += end - start;
        } catch {
          // One bad value fails the whole statement; retry row by row to keep the others.
          for (let i = start; i < end; i += 1) this.#insertSingle(flows, rows[i]!, keys, outcome);
        }
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
    const args = this.#args;
    args.length = fillRow(args, 0, flows, row, keys, ALL_COLUMNS);
    try {
      this.#insertOne.run(args);
      outcome.rows += 1;
    } catch (error) {
      reject(outcome, `flow row refused: ${messageOf(error)}`);
    }
  }

  #columnsOf(mask: number): readonly number[] {
    let columns = this.#columnsByMask.get(mask);
    if (columns === undefined) {
      const present: number[] = [];
      for (let c = 0; c < COLUMN_COUNT; c += 1) if (Math.floor(mask / 2 ** c) % 2 === 1) present.push(c);
      columns = present;
      this.#columnsByMask.set(mask, columns);
    }
    return columns;
  }

  /** A prepared INSERT for `rows` rows of these columns, kept while the set of shapes stays small. */
  #statementFor(mask: number, columns: readonly number[], rows: number): Statement {
    const cacheKey = mask * 64 + rows;
    let statement = this.#statements.get(cacheKey);
    if (statement === undefined) {
      if (this.#statements.size >= STATEMENT_CACHE_LIMIT) this.#statements.clear();
      const names = columns.map((c) => FLOW_INSERT_COLUMNS[c]).join(', ');
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      statement = this.#sqlite.prepare(
        `INSERT INTO flows (${names}) VALUES ${new Array<string>(rows).fill(tuple).join(', ')}`,
      );
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

/** Bit c set when insert column c is not null in this row (40 columns fit a double exactly). */
function presentMask(flows: EncodedFlows, row: number): number {
  let mask = 0;
  let bit = 1;
  const integers = flows.integers;
  const ibase = row * INTEGER_COUNT;
  for (let i = 0; i < INTEGER_COUNT; i += 1, bit *= 2)
    if (integers[ibase + i] === integers[ibase + i]) mask += bit;
  const texts = flows.texts;
  const tbase = row * TEXT_COUNT;
  for (let j = 0; j < TEXT_COUNT; j += 1, bit *= 2) if (texts[tbase + j]! >= 0) mask += bit;
  // Keys follow their address, which is required: always present.
  return mask + bit + bit * 2;
}

/** Appends the values of `columns` (insert column positions) for one row at `offset`; returns the new end. */
function fillRow(
  target: Value[],
  offset: number,
  flows: EncodedFlows,
  row: number,
  keys: readonly (AddressKey | null)[],
  columns: readonly number[],
): number {
  const integers = flows.integers;
  const texts = flows.texts;
  const strings = flows.strings;
  const ibase = row * INTEGER_COUNT;
  const tbase = row * TEXT_COUNT;
  let o = offset;
  for (const c of columns) {
    if (c < INTEGER_COUNT) {
      const value = integers[ibase + c]!;
      target[o++] = value === value ? value : null;
    } else if (c < INTEGER_COUNT + TEXT_COUNT) {
      const index = texts[tbase + c - INTEGER_COUNT]!;
      target[o++] = index < 0 ? null : strings[index]!;
    } else {
      const index = texts[tbase + (c === SRC_KEY_COLUMN ? SRC_TEXT_INDEX : DST_TEXT_INDEX)]!;
      target[o++] = index < 0 ? null : (keys[index] ?? null);
    }
  }
  return o;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

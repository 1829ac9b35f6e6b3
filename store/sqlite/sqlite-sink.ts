import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { RetentionStepper } from './retention-stepper.js';
import type { RetentionStep, RetentionStepResult } from '../retention-step.js';
import type { EncodedFlows } from '../writer/flow-batch-codec.js';
import { FlowBlockWriter } from './flow-block-writer.js';
import type { SealedState } from '../writer/sealed-state.js';
import type { SinkResult } from '../writer/messages.js';
import { emptyOutcome, messageOf } from '../writer/sink-outcome.js';
import type { Outcome } from '../writer/sink-outcome.js';
import { saToRow } from '../tunnels/sa.table.js';
import { SUMMARY_DAY_MS } from '../reports/day-summary-repository.js';
import { bucketDeltaToRow, tunnelBucketCounterColumns } from '../tunnels/tunnel-bucket.table.js';
import { tunnelToRow } from '../tunnels/tunnel.table.js';

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
  readonly #retention: RetentionStepper;
  readonly #blocks: FlowBlockWriter;

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
    this.#blocks = new FlowBlockWriter(sqlite);
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
          if (batch.flows !== null && batch.flows.rows > 0) this.#blocks.write(batch.flows, outcome);
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

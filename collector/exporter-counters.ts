import { Counter, type Registry } from 'prom-client';
import type { ExporterCounters as StoredCounters } from '../store/exporters/exporter-counters.js';

/**
 * The store's exporter counters, mutable while the collector counts (ExporterCounters in
 * store/exporters says what each one means).
 */
export type ExporterCounterRow = {
  -readonly [K in keyof StoredCounters]: StoredCounters[K];
} & { issues: Record<string, number> };

const NUMERIC_FIELDS = [
  ['datagrams', 'tunnelflow_datagrams_total', 'Export datagrams (or IPFIX-over-TCP messages) received.'],
  ['records', 'tunnelflow_records_total', 'Flow data records decoded.'],
  ['templates', 'tunnelflow_templates_total', 'Template records received.'],
  ['optionsRecords', 'tunnelflow_options_records_total', 'Options data records received.'],
  ['malformed', 'tunnelflow_malformed_datagrams_total', 'Datagrams with a structural issue.'],
  [
    'missingTemplateRecords',
    'tunnelflow_missing_template_records_total',
    'Data records dropped: no template.',
  ],
  [
    'sequenceGaps',
    'tunnelflow_sequence_gap_total',
    "Export sequence gaps: units of the exporter's sequence number (v9 datagrams or records, IPFIX data records, v5 flows) lost on the way.",
  ],
  [
    'dropped',
    'tunnelflow_store_dropped_records_total',
    'Records dropped because the store could not keep up.',
  ],
] as const;

/**
 * Per-exporter counters, kept as absolute values so that they can be persisted and
 * reloaded (a restart does not reset what `/api/v1/exporters` shows), and exposed on
 * `/metrics` from the same values at scrape time.
 */
export class ExporterCounters {
  private readonly byKey = new Map<string, ExporterCounterRow>();
  private readonly dirty = new Set<string>();

  constructor(registry?: Registry) {
    if (registry) this.register(registry);
  }

  /** The counters of one exporter and domain, created on first sight. Mutate, then `touch`. */
  get(exporter: string, domainId: number, nowMs: number): ExporterCounterRow {
    const key = `${exporter}|${domainId}`;
    let row = this.byKey.get(key);
    if (row === undefined) {
      row = {
        exporter,
        domainId,
        version: null,
        datagrams: 0,
        records: 0,
        templates: 0,
        optionsRecords: 0,
        malformed: 0,
        missingTemplateRecords: 0,
        sequenceGaps: 0,
        dropped: 0,
        issues: {},
        firstSeenMs: nowMs,
        lastSeenMs: nowMs,
      };
      this.byKey.set(key, row);
    }
    row.lastSeenMs = nowMs;
    this.dirty.add(key);
    return row;
  }

  addIssue(row: ExporterCounterRow, kind: string, n = 1): void {
    row.issues[kind] = (row.issues[kind] ?? 0) + n;
  }

  /** Loads persisted values; later increments continue from them. */
  restore(rows: readonly StoredCounters[]): void {
    for (const r of rows) this.byKey.set(`${r.exporter}|${r.domainId}`, { ...r, issues: { ...r.issues } });
  }

  /** Rows changed since the last call, as copies safe to hand to another thread. */
  takeDirty(): ExporterCounterRow[] {
    const out: ExporterCounterRow[] = [];
    for (const key of this.dirty) {
      const row = this.byKey.get(key);
      if (row) out.push({ ...row, issues: { ...row.issues } });
    }
    this.dirty.clear();
    return out;
  }

  all(): ExporterCounterRow[] {
    return [...this.byKey.values()];
  }

  private register(registry: Registry): void {
    const rows = () => this.byKey.values();
    for (const [field, name, help] of NUMERIC_FIELDS) {
      new Counter({
        name,
        help,
        labelNames: ['exporter', 'domain'],
        registers: [registry],
        collect() {
          this.reset();
          for (const r of rows()) this.inc({ exporter: r.exporter, domain: String(r.domainId) }, r[field]);
        },
      });
    }
    new Counter({
      name: 'tunnelflow_decode_issues_total',
      help: 'Decode issues by kind (truncated, template-missing, ...).',
      labelNames: ['exporter', 'domain', 'kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of rows()) {
          for (const [kind, n] of Object.entries(r.issues)) {
            this.inc({ exporter: r.exporter, domain: String(r.domainId), kind }, n);
          }
        }
      },
    });
  }
}

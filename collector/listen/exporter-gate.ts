import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { RefusedSource } from '../../model/refused-source.js';
import { compileSubnets, parseAddress } from '../normalize/subnet-matcher.js';

/** Distinct refused sources tracked by name; past this they are counted under `other`. */
const MAX_SOURCES = 1000;
/** Admission answers kept per source address (a flood of distinct sources only costs a reset). */
const MAX_CACHED = 65_536;

/**
 * The exporter allowlist (`collector.allowedExporters`): datagrams and TCP connections from
 * any other source are refused before anything is decoded, so a stranger creates no template
 * state and no exporter row. Refusals are counted per source, in memory (a refused source is
 * not an exporter), on /metrics and /api/v1/exporters. An empty list admits everyone.
 */
export class ExporterGate {
  readonly #open: boolean;
  readonly #matcher;
  readonly #admitted = new Map<string, boolean>();
  readonly #refused = new Map<string, { datagrams: number; connections: number; lastSeenMs: number }>();
  readonly #datagrams: Counter<'source'>;
  readonly #connections: Counter<'source'>;

  constructor(cidrs: readonly string[], registry: Registry) {
    this.#open = cidrs.length === 0;
    this.#matcher = compileSubnets(cidrs);
    this.#datagrams = new Counter({
      name: 'tunnelflow_refused_datagrams_total',
      help: 'Datagrams and IPFIX-over-TCP messages dropped before decoding: the source is not in collector.allowedExporters',
      labelNames: ['source'],
      registers: [registry],
    });
    this.#connections = new Counter({
      name: 'tunnelflow_refused_connections_total',
      help: 'IPFIX-over-TCP connections closed at once: the source is not in collector.allowedExporters',
      labelNames: ['source'],
      registers: [registry],
    });
  }

  /** True when datagrams from `source` may be decoded; a refusal is counted. */
  admitDatagram(source: string, nowMs: number): boolean {
    if (this.#open || this.#admits(source)) return true;
    const { label, row } = this.#count(source, nowMs);
    this.#datagrams.inc({ source: label });
    row.datagrams += 1;
    return false;
  }

  /** True when a TCP connection from `source` may stay open; a refusal is counted. */
  admitConnection(source: string, nowMs: number): boolean {
    if (this.#open || this.#admits(source)) return true;
    const { label, row } = this.#count(source, nowMs);
    this.#connections.inc({ source: label });
    row.connections += 1;
    return false;
  }

  /** The refused sources, most datagrams first. */
  refused(): RefusedSource[] {
    return [...this.#refused.entries()]
      .map(([source, r]) => ({ source, ...r }))
      .sort((a, b) => b.datagrams - a.datagrams || b.connections - a.connections);
  }

  #admits(source: string): boolean {
    let answer = this.#admitted.get(source);
    if (answer === undefined) {
      const parsed = parseAddress(source);
      answer = parsed !== null && this.#matcher.contains(parsed);
      if (this.#admitted.size >= MAX_CACHED) this.#admitted.clear();
      this.#admitted.set(source, answer);
    }
    return answer;
  }

  #count(source: string, nowMs: number) {
    const label = this.#refused.has(source) || this.#refused.size < MAX_SOURCES ? source : 'other';
    let row = this.#refused.get(label);
    if (row === undefined) {
      row = { datagrams: 0, connections: 0, lastSeenMs: nowMs };
      this.#refused.set(label, row);
    }
    row.lastSeenMs = nowMs;
    return { label, row };
  }
}

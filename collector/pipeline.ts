import type { Logger } from 'pino';
import type { NormalizedFlow } from '../model/flow.js';
import type { StoreBatch } from '../store/writer/store-batch.js';
import { Completeness } from './completeness.js';
import type { ExporterCounters } from './exporter-counters.js';
import type { Normalizer } from './normalize/normalizer.js';
import { PendingTemplates } from './pending-templates.js';
import { produceFlows } from './produce/produce-flows.js';
import type { SequenceTracker } from './produce/sequence-tracker.js';
import type { TemplateCache } from './wire/template-cache.js';

/** Where the pipeline hands what it made; the composition root binds these to the store writer. */
export interface PipelineSink {
  /** Live path: returns how many flows were accepted (the rest were dropped and must be counted). */
  offer(flows: readonly NormalizedFlow[]): number;
  /** Offline path: waits for room, never drops. */
  write(flows: readonly NormalizedFlow[]): Promise<void>;
  submit(batch: StoreBatch): void;
}

export interface PipelineDeps {
  readonly templates: TemplateCache;
  readonly sequence: SequenceTracker;
  readonly normalizer: Normalizer;
  readonly counters: ExporterCounters;
  readonly sink: PipelineSink;
  readonly log: Logger;
  readonly bucketMs: number;
}

export type Transport = 'udp' | 'tcp';

export interface Pipeline {
  /**
   * Live: decode, normalize and offer one datagram (or one IPFIX message from a TCP
   * stream: templates learned over TCP do not expire, RFC 7011 §8); never throws.
   */
  handle(payload: Buffer, exporter: string, receivedMs: number, transport?: Transport): void;
  /** Offline (ingest): the same, waiting for the store instead of dropping. */
  handleOffline(payload: Buffer, exporter: string, receivedMs: number, transport?: Transport): Promise<void>;
  /** Hands accumulated state (templates, counters, completeness, tunnels) to the store. */
  flushState(): void;
}

/**
 * The per-datagram path: decode → FlowRecords → normalize → store, with counters for
 * everything. One safety net per datagram (STYLE.md): an exception escaping the stages is
 * a bug, counted as an `internal-error` issue and logged with a hex prefix of the datagram
 * (rate-limited), and the collector carries on. What is not a flow (template changes,
 * counters, completeness, tunnel changes) accumulates here and goes to the store as one
 * StoreBatch per flush.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { templates, sequence, normalizer, counters, sink, log } = deps;
  const pendingTemplates = new PendingTemplates(templates);
  const completeness = new Completeness(deps.bucketMs);
  let lastErrorLogMs = 0;
  let suppressedErrors = 0;

  function process(
    payload: Buffer,
    exporter: string,
    receivedMs: number,
    transport: Transport,
  ): NormalizedFlow[] {
    const { info, issues, flows } = produceFlows(
      payload,
      exporter,
      receivedMs,
      templates,
      sequence,
      transport,
    );
    const domainId = info.domainId ?? 0;
    const row = counters.get(exporter, domainId, receivedMs);
    if (info.version !== null) row.version = info.version;
    row.datagrams += 1;
    row.records += info.dataRecords;
    row.templates += info.templateRecords;
    row.optionsRecords += info.optionsRecords;
    row.missingTemplateRecords += info.missingTemplateRecords;
    if (info.malformed) row.malformed += 1;
    for (const issue of issues) counters.addIssue(row, issue.kind);
    const gap = info.sequence?.gap ?? 0;
    row.sequenceGaps += gap;
    pendingTemplates.collect();

    const normalized = normalizer.normalize(flows);
    completeness.addDatagram(exporter, domainId, receivedMs, flows, issues.length, gap);
    return normalized;
  }

  function safetyNet(err: unknown, payload: Buffer, exporter: string, receivedMs: number): void {
    const row = counters.get(exporter, 0, receivedMs);
    counters.addIssue(row, 'internal-error');
    const now = Date.now();
    if (now - lastErrorLogMs < 10_000) {
      suppressedErrors += 1;
      return;
    }
    lastErrorLogMs = now;
    log.error(
      {
        err,
        exporter,
        bytes: payload.length,
        hexPrefix: payload.subarray(0, 64).toString('hex'),
        suppressed: suppressedErrors,
      },
      'datagram processing failed; datagram skipped',
    );
    suppressedErrors = 0;
  }

  return {
    handle(payload, exporter, receivedMs, transport = 'udp') {
      try {
        const flows = process(payload, exporter, receivedMs, transport);
        if (flows.length === 0) return;
        const accepted = sink.offer(flows);
        if (accepted < flows.length) {
          counters.get(exporter, flows[0]?.domainId ?? 0, receivedMs).dropped += flows.length - accepted;
        }
      } catch (err) {
        safetyNet(err, payload, exporter, receivedMs);
      }
    },
    async handleOffline(payload, exporter, receivedMs, transport = 'udp') {
      let flows: NormalizedFlow[];
      try {
        flows = process(payload, exporter, receivedMs, transport);
      } catch (err) {
        safetyNet(err, payload, exporter, receivedMs);
        return;
      }
      if (flows.length > 0) await sink.write(flows);
    },
    flushState() {
      const batch: StoreBatch = {
        ...pendingTemplates.take(),
        exporters: counters.takeDirty(),
        exporterBuckets: completeness.take(),
        ...tunnelChanges(normalizer),
      };
      const empty = Object.values(batch).every((list: readonly unknown[]) => list.length === 0);
      if (!empty) sink.submit(batch);
    },
  };
}

/**
 * The tunnels, SAs and bucket deltas of every datagram since the last flush, merged by the
 * normalizer: the store then writes one upsert per tunnel, SA and bucket key per flush
 * instead of one per flow (each is an idempotent max/min or an addition, so merging first
 * gives the same rows).
 */
function tunnelChanges(normalizer: Normalizer): Pick<StoreBatch, 'tunnels' | 'sas' | 'tunnelBuckets'> {
  const { tunnels, sas, buckets } = normalizer.takeChanges();
  return { tunnels, sas, tunnelBuckets: buckets };
}

import type { Logger } from 'pino';
import type { ExporterBucket } from '../store/exporter-buckets/exporter-bucket.js';
import type { NormalizedFlow } from '../model/flow.js';
import type {
  TemplateKey,
  TemplateSnapshot as StoredTemplate,
} from '../store/templates/template-snapshot.js';
import { addBucketCounts } from '../model/tunnel-bucket.js';
import type { TunnelBucketDelta } from '../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../model/tunnel.js';
import { TUNNELS_EXTENSION } from '../store/tunnels/tunnel-state-payload.js';
import type { StoreBatch } from '../store/writer/store-batch.js';
import type { ExporterCounters } from './exporter-counters.js';
import type { Normalizer } from './normalize/normalizer.js';
import { produceFlows } from './produce/produce-flows.js';
import type { SequenceTracker } from './produce/sequence-tracker.js';
import type { TemplateCache, TemplateCacheChange, TemplateSnapshot } from './wire/template-cache.js';

/** A record or datagram counts in at most this many buckets of completeness (bounded work per record). */
const MAX_COMPLETENESS_BUCKETS = 60;

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
 * (rate-limited), and the collector carries on.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { templates, sequence, normalizer, counters, sink, log, bucketMs } = deps;
  const pendingTemplates = new Map<string, TemplateCacheChange>();
  const completeness = new Map<string, { -readonly [K in keyof ExporterBucket]: ExporterBucket[K] }>();
  let tunnelState = emptyTunnelState();
  let lastErrorLogMs = 0;
  let suppressedErrors = 0;

  const bucketOf = (ms: number) => Math.floor(ms / bucketMs) * bucketMs;
  // Per-datagram scratch of process(): record counts by bucket start.
  const recordBuckets: number[] = [];
  const recordCounts: number[] = [];
  const countRecord = (bucket: number): void => {
    for (let i = recordBuckets.length - 1; i >= 0; i -= 1) {
      if (recordBuckets[i] === bucket) {
        recordCounts[i]! += 1;
        return;
      }
    }
    recordBuckets.push(bucket);
    recordCounts.push(1);
  };

  function addCompleteness(
    exporter: string,
    domainId: number,
    bucketStartMs: number,
    records: number,
    datagrams: number,
    issues: number,
    gaps: number,
  ): void {
    const key = `${exporter}|${domainId}|${bucketStartMs}`;
    let row = completeness.get(key);
    if (row === undefined) {
      row = { exporter, domainId, bucketStartMs, records: 0, datagrams: 0, issues: 0, sequenceGaps: 0 };
      completeness.set(key, row);
    }
    row.records += records;
    row.datagrams += datagrams;
    row.issues += issues;
    row.sequenceGaps += gaps;
  }

  function process(
    payload: Buffer,
    exporter: string,
    receivedMs: number,
    transport: Transport,
  ): NormalizedFlow[] {
    const produced = produceFlows(payload, exporter, receivedMs, templates, sequence, transport);
    const { info, issues, flows } = produced;
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

    for (const change of templates.drainChanges()) {
      pendingTemplates.set(change.type === 'upsert' ? change.snapshot.key : change.key, change);
    }

    const result = normalizer.process(flows);
    // Merged until the next flush: the store then writes one upsert per tunnel, SA and
    // bucket key per second instead of one per flow (each is an idempotent max/min or an
    // addition, so merging first gives the same rows).
    for (const t of result.tunnels) mergeSeen(tunnelState.tunnels, t);
    for (const sa of result.sas) mergeSeen(tunnelState.sas, sa);
    for (const d of result.buckets) mergeBucket(tunnelState.buckets, d);

    // Completeness by flow time, the time the loss buckets use: a record counts in every
    // bucket it overlaps (the buckets it was apportioned to), and a datagram's issues and
    // sequence gaps in every bucket its records cover (or, with no record, in the bucket of
    // its receive time: all that is known). Long flows count in their last buckets only.
    // The records of one datagram fall in a bucket or two: count them here and touch the
    // shared map (string keys) once per bucket, not once per record. They all carry the
    // datagram's domain (the decoders give each record its message's).
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    recordBuckets.length = 0;
    recordCounts.length = 0;
    for (const f of flows) {
      const endBucket = bucketOf(f.endMs);
      const startBucket = Math.max(
        bucketOf(f.startMs),
        endBucket - (MAX_COMPLETENESS_BUCKETS - 1) * bucketMs,
      );
      for (let b = startBucket; b <= endBucket; b += bucketMs) countRecord(b);
      if (startBucket < first) first = startBucket;
      if (endBucket > last) last = endBucket;
    }
    for (let i = 0; i < recordBuckets.length; i += 1)
      addCompleteness(exporter, domainId, recordBuckets[i]!, recordCounts[i]!, 0, 0, 0);
    if (first > last) first = last = bucketOf(receivedMs);
    first = Math.max(first, last - (MAX_COMPLETENESS_BUCKETS - 1) * bucketMs);
    for (let b = first; b <= last; b += bucketMs) {
      addCompleteness(exporter, domainId, b, 0, b === last ? 1 : 0, issues.length, gap);
    }
    return result.flows;
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
      const saveTemplates: StoredTemplate[] = [];
      const deleteTemplates: TemplateKey[] = [];
      for (const [key, change] of pendingTemplates) {
        if (change.type === 'upsert') saveTemplates.push(toStoredTemplate(change.snapshot));
        else {
          const parsed = parseTemplateKey(key);
          if (parsed) deleteTemplates.push(parsed);
        }
      }
      pendingTemplates.clear();
      const exporters = counters.takeDirty();
      const exporterBuckets = [...completeness.values()];
      completeness.clear();
      const tunnels = {
        tunnels: [...tunnelState.tunnels.values()],
        sas: [...tunnelState.sas.values()],
        buckets: [...tunnelState.buckets.values()].flat(),
      };
      tunnelState = emptyTunnelState();
      const hasTunnels = tunnels.tunnels.length + tunnels.sas.length + tunnels.buckets.length > 0;
      if (
        saveTemplates.length + deleteTemplates.length + exporters.length + exporterBuckets.length === 0 &&
        !hasTunnels
      ) {
        return;
      }
      sink.submit({
        saveTemplates,
        deleteTemplates,
        exporters,
        exporterBuckets,
        ...(hasTunnels ? { extra: { [TUNNELS_EXTENSION]: tunnels } } : {}),
      });
    },
  };
}

/*
 * The cache's snapshots are persisted whole, as the store's opaque `body`. The store keys
 * templates by exporter, domain and template id; options state (sampling rates, system
 * init time) has no template id, and takes 0, which no template can have (ids < 256 are
 * set ids, RFC 7011 §3.3.2). The version is part of the cache key, so a v9 and an IPFIX
 * template with the same id from one exporter and domain are told apart by adding 0x10000
 * for IPFIX (template ids are 16-bit, so the two ranges cannot meet).
 */
function storedTemplateId(version: number, templateId: number): number {
  return version === 10 ? 0x10000 + templateId : templateId;
}

function toStoredTemplate(snapshot: TemplateSnapshot): StoredTemplate {
  const templateId = snapshot.kind === 'template' ? snapshot.templateId : 0;
  return {
    exporter: snapshot.exporter,
    domainId: snapshot.domainId,
    templateId: storedTemplateId(snapshot.version, templateId),
    version: snapshot.version,
    body: snapshot,
    updatedMs: snapshot.kind === 'template' ? snapshot.refreshedMs : snapshot.updatedMs,
  };
}

/** Cache keys: `t|<version>|<domain>|<template id>|<exporter>` and `o|<version>|<domain>|<exporter>`. */
function parseTemplateKey(key: string): TemplateKey | null {
  const parts = key.split('|');
  if (parts[0] === 't' && parts.length >= 5) {
    return {
      exporter: parts.slice(4).join('|'),
      domainId: Number(parts[2]),
      templateId: storedTemplateId(Number(parts[1]), Number(parts[3])),
    };
  }
  if (parts[0] === 'o' && parts.length >= 4) {
    return {
      exporter: parts.slice(3).join('|'),
      domainId: Number(parts[2]),
      templateId: storedTemplateId(Number(parts[1]), 0),
    };
  }
  return null;
}

/** Keeps the latest version of a tunnel or SA, with the widest first/last seen so far. */
function mergeSeen<
  T extends { readonly id: string; readonly firstSeenMs: number; readonly lastSeenMs: number },
>(into: Map<string, T>, next: T): void {
  const prev = into.get(next.id);
  into.set(
    next.id,
    prev === undefined
      ? next
      : {
          ...next,
          firstSeenMs: Math.min(prev.firstSeenMs, next.firstSeenMs),
          lastSeenMs: Math.max(prev.lastSeenMs, next.lastSeenMs),
        },
  );
}

/**
 * Adds a bucket delta into the pending ones with the same tunnel, bucket, direction and
 * exporter. Grouped by tunnel id (a string the normalizer keeps, so its hash is computed
 * once): between two flushes a tunnel has a handful of deltas, searched in a line,
 * where a composite string key would be built and hashed for every ESP record.
 */
function mergeBucket(into: Map<string, TunnelBucketDelta[]>, d: TunnelBucketDelta): void {
  let list = into.get(d.tunnelId);
  if (list === undefined) {
    list = [];
    into.set(d.tunnelId, list);
  }
  // From the end: records arrive roughly in time order, so the match is nearly always
  // among the last deltas (an ingest covers many buckets between two flushes).
  for (let i = list.length - 1; i >= 0; i -= 1) {
    const prev = list[i]!;
    if (
      prev.bucketStartMs === d.bucketStartMs &&
      prev.direction === d.direction &&
      prev.exporter === d.exporter &&
      prev.domainId === d.domainId
    ) {
      addBucketCounts(prev, d);
      return;
    }
  }
  list.push({ ...d, cleared: { ...d.cleared } });
}

interface PendingTunnelState {
  readonly tunnels: Map<string, Tunnel>;
  readonly sas: Map<string, SecurityAssociation>;
  /** By tunnel id. */
  readonly buckets: Map<string, TunnelBucketDelta[]>;
}

function emptyTunnelState(): PendingTunnelState {
  return { tunnels: new Map(), sas: new Map(), buckets: new Map() };
}

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { loadExporterCounters } from '../store/exporters/exporter-repository.js';
import type { Store } from '../store/open-store.js';
import { loadCollectorState } from '../store/state/collector-state-repository.js';
import { loadTemplates } from '../store/templates/template-repository.js';
import type { CollectorConfig } from './config.js';
import { ExporterCounters } from './exporter-counters.js';
import type { RefusedSource } from '../model/refused-source.js';
import { ExporterGate } from './listen/exporter-gate.js';
import { createTcpListener } from './listen/tcp-listener.js';
import { createUdpListener } from './listen/udp-listener.js';
import type { NormalizeConfig } from './normalize/config.js';
import { createNormalizer } from './normalize/normalizer.js';
import type { Normalizer } from './normalize/normalizer.js';
import { emptyNormalizerCounters } from './normalize/normalizer-counters.js';
import type { NormalizerCounters } from './normalize/normalizer-counters.js';
import { registerNormalizerMetrics } from './normalize/normalizer-metrics.js';
import type { NormalizerSnapshot } from './normalize/normalizer-state.js';
import { createPipeline } from './pipeline.js';
import type { Pipeline, PipelineSink, Transport } from './pipeline.js';
import { SequenceTracker } from './produce/sequence-tracker.js';
import { TemplateCache } from './wire/template-cache.js';
import type { TemplateSnapshot } from './wire/template-cache.js';

/** The collector's settings: its own section, and the normalizer's (top-level) keys. */
export type CollectorComponentConfig = NormalizeConfig & { readonly collector: CollectorConfig };

export interface CollectorDeps {
  /** Read once at start, for what the collector remembers across restarts. */
  readonly store: Store;
  /** Where flows and state go (the store's writer). */
  readonly sink: PipelineSink;
  readonly registry: Registry;
  readonly logger: Logger;
  /** False for `ingest`: no sockets, datagrams come through handleOffline. Default true. */
  readonly listen?: boolean;
}

/** The ports the listeners got (0 in the config means the OS chose). */
export interface CollectorPorts {
  readonly netflowPort: number;
  readonly ipfixPort: number;
  readonly ipfixTcpPort: number;
}

export interface Collector {
  /** Restores templates, counters and the normalizer's memory, then opens the listeners. */
  start(): Promise<CollectorPorts | null>;
  /** Closes the listeners and hands every accepted record's state to the sink (it does not stop the sink). */
  stop(): Promise<void>;
  /** Offline path (ingest): waits for the sink instead of dropping. */
  handleOffline(payload: Buffer, exporter: string, receivedMs: number, transport?: Transport): Promise<void>;
  readonly counters: ExporterCounters;
  /** Sources refused by `collector.allowedExporters`, with what they sent. */
  refusedSources(): RefusedSource[];
  /** The template cache (restored at start). */
  readonly templates: TemplateCache;
  /** The normalizer (tunnels, SAs, counters); throws before start(). */
  normalizer(): Normalizer;
  normalizerCounters(): NormalizerCounters;
}

/** Where the normalizer's memory is kept: one key per named collector (collector.name). */
function normalizerStateKey(name: string | undefined): string {
  return name === undefined ? 'normalizer' : `normalizer:${name}`;
}
/** How often the normalizer's memory is saved (and always at stop). */
const NORMALIZER_SAVE_MS = 10_000;

/**
 * The collector component (STYLE.md "One component shape"): listeners → pipeline
 * (decode, produce, normalize) → sink, plus what it remembers across restarts: templates
 * (so data right after a restart decodes at once), exporter counters, and the
 * normalizer's tunnels and SAs. Inert until start().
 */
export function createCollector(config: CollectorComponentConfig, deps: CollectorDeps): Collector {
  const { store, sink, logger: log } = deps;
  const c = config.collector;
  const stateKey = normalizerStateKey(c.name);
  const counters = new ExporterCounters(deps.registry);
  const gate = new ExporterGate(c.allowedExporters, deps.registry);
  const templates = new TemplateCache({ templateTtlMs: c.templateTimeoutSeconds * 1000 });
  let normalizer: Normalizer | null = null;
  let pipeline: Pipeline | null = null;
  let timers: NodeJS.Timeout[] = [];
  let listeners: Array<{ stop(): Promise<void> }> = [];
  let phase: 'created' | 'running' | 'stopped' = 'created';

  const normalizerCounters = () => normalizer?.counters() ?? emptyNormalizerCounters();
  registerNormalizerMetrics(deps.registry, normalizerCounters);

  function running(): Pipeline {
    if (pipeline === null) throw new Error('the collector is not started');
    return pipeline;
  }

  const saveNormalizer = (n: Normalizer) =>
    sink.submit({
      collectorState: [{ key: stateKey, value: JSON.stringify(n.snapshot()), updatedMs: Date.now() }],
    });

  async function restore(): Promise<Normalizer> {
    const stored = await loadTemplates(store.db);
    const restored = templates.restore(stored.map((t) => t.body as TemplateSnapshot));
    templates.drainChanges();
    if (stored.length > 0)
      log.info({ templates: restored.restored, skipped: restored.skipped }, 'templates reloaded');
    counters.restore(await loadExporterCounters(store.db));
    const saved = (await loadCollectorState(store.db, stateKey)) as NormalizerSnapshot | undefined;
    return createNormalizer(config, saved);
  }

  async function openListeners(p: Pipeline): Promise<CollectorPorts> {
    const udp = (name: string, port: number) =>
      createUdpListener(
        {
          host: c.listen,
          port,
          receiveBufferBytes: c.receiveBufferBytes,
          name,
          admit: (source, now) => gate.admitDatagram(source, now),
        },
        p.handle,
        log,
      );
    const netflowUdp = udp('netflow-udp', c.netflowPort);
    const ipfixUdp = udp('ipfix-udp', c.ipfixPort);
    const ipfixTcp = createTcpListener(
      {
        host: c.listen,
        port: c.ipfixPort,
        name: 'ipfix-tcp',
        admit: (source, now) => gate.admitConnection(source, now),
        onStreamError: (exporter) =>
          counters.addIssue(counters.get(exporter, 0, Date.now()), 'tcp-stream-broken'),
      },
      p.handle,
      log,
    );
    listeners = [netflowUdp, ipfixUdp, ipfixTcp];
    const [nf, ix, tcp] = await Promise.all([netflowUdp.start(), ipfixUdp.start(), ipfixTcp.start()]);
    return { netflowPort: nf.port, ipfixPort: ix.port, ipfixTcpPort: tcp.port };
  }

  return {
    counters,
    refusedSources: () => gate.refused(),
    templates,
    normalizer: () => {
      if (normalizer === null) throw new Error('the collector is not started');
      return normalizer;
    },
    normalizerCounters,
    async start() {
      if (phase !== 'created') throw new Error(`the collector cannot start when ${phase}`);
      phase = 'running';
      const n = (normalizer = await restore());
      const p = (pipeline = createPipeline({
        templates,
        sequence: new SequenceTracker(),
        normalizer: n,
        counters,
        sink,
        log,
        bucketMs: config.bucketSeconds * 1000,
      }));
      timers = [
        setInterval(() => p.flushState(), c.countersFlushMs),
        setInterval(() => saveNormalizer(n), NORMALIZER_SAVE_MS),
      ];
      for (const t of timers) t.unref();
      return deps.listen === false ? null : await openListeners(p);
    },
    async stop() {
      if (phase !== 'running') return;
      phase = 'stopped';
      await Promise.allSettled(listeners.map((l) => l.stop()));
      for (const t of timers) clearInterval(t);
      pipeline?.flushState();
      if (normalizer !== null) saveNormalizer(normalizer);
    },
    handleOffline: (payload, exporter, receivedMs, transport) =>
      running().handleOffline(payload, exporter, receivedMs, transport),
  };
}

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ExporterCounters } from '../collector/exporter-counters.js';
import { createNormalizer } from '../collector/normalize/normalizer.js';
import { registerNormalizerMetrics } from '../collector/normalize/normalizer-metrics.js';
import type { Normalizer } from '../collector/normalize/normalizer.js';
import type { NormalizerSnapshot } from '../collector/normalize/normalizer-state.js';
import { createPipeline } from '../collector/pipeline.js';
import type { Pipeline } from '../collector/pipeline.js';
import { SequenceTracker } from '../collector/produce/sequence-tracker.js';
import { TemplateCache } from '../collector/wire/template-cache.js';
import type { TemplateSnapshot } from '../collector/wire/template-cache.js';
import { loadExporterCounters } from '../store/exporters/exporter-repository.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/open-store.js';
import { COLLECTOR_STATE_EXTENSION, loadCollectorState } from '../store/state/collector-state.js';
import { loadTemplates } from '../store/templates/template-repository.js';
import type { TunnelDb } from '../store/tunnels/tunnel-repository.js';
import { TUNNELS_EXTENSION } from '../store/tunnels/tunnel-state-payload.js';
import { createFlowWriter } from '../store/writer/flow-writer.js';
import type { FlowWriter } from '../store/writer/flow-writer.js';
import type { TunnelflowConfig } from './config-schema.js';

const NORMALIZER_STATE_KEY = 'normalizer';
/** How often the normalizer's memory is saved (and always at stop). */
const NORMALIZER_SAVE_MS = 10_000;

/** Collector core without sockets: what `run` and `ingest` share. */
export interface Core {
  readonly config: TunnelflowConfig;
  readonly store: Store;
  readonly writer: FlowWriter;
  readonly pipeline: Pipeline;
  readonly counters: ExporterCounters;
  readonly normalizer: Normalizer;
  readonly templates: TemplateCache;
  readonly registry: Registry;
  writerStats(): ReturnType<FlowWriter['stats']>;
  /** Saves state, flushes everything accepted, closes the store. */
  stop(): Promise<void>;
}

const moduleUrl = (relative: string) => new URL(relative, import.meta.url).href;

/**
 * The composition root's shared half: store, writer, template cache, normalizer and the
 * pipeline, wired by hand (STYLE.md: no DI container). Everything remembered across
 * restarts is loaded here: templates (so data after a restart decodes at once), exporter
 * counters, and the normalizer's tunnels and SAs.
 */
export async function createCore(config: TunnelflowConfig, log: Logger): Promise<Core> {
  const store = await openStore(config.store, { logger: log });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tunnelflow_process_' });

  const templates = new TemplateCache({ templateTtlMs: config.collector.templateTimeoutSeconds * 1000 });
  const storedTemplates = await loadTemplates(store.db);
  const restored = templates.restore(storedTemplates.map((t) => t.body as TemplateSnapshot));
  templates.drainChanges();
  if (storedTemplates.length > 0)
    log.info({ templates: restored.restored, skipped: restored.skipped }, 'templates reloaded');

  const counters = new ExporterCounters(registry);
  counters.restore(await loadExporterCounters(store.db));

  const tunnelDb = store.db as unknown as TunnelDb;
  const saved = (await loadCollectorState(tunnelDb, NORMALIZER_STATE_KEY)) as NormalizerSnapshot | undefined;
  const normalizer = createNormalizer(config, saved);
  registerNormalizerMetrics(registry, () => normalizer.counters());

  const writer = createFlowWriter(config.store.writer, {
    storeConfig: config.store,
    logger: log,
    extensions: [
      { name: TUNNELS_EXTENSION, module: moduleUrl('../store/tunnels/tunnels-writer-extension.js') },
      { name: COLLECTOR_STATE_EXTENSION, module: moduleUrl('../store/state/collector-state.js') },
    ],
  });
  await writer.start();

  const pipeline = createPipeline({
    templates,
    sequence: new SequenceTracker(),
    normalizer,
    counters,
    sink: writer,
    log,
    bucketMs: config.bucketSeconds * 1000,
  });

  const saveNormalizer = () =>
    writer.submit({
      extra: {
        [COLLECTOR_STATE_EXTENSION]: [
          { key: NORMALIZER_STATE_KEY, value: JSON.stringify(normalizer.snapshot()), updatedMs: Date.now() },
        ],
      },
    });
  const stateTimer = setInterval(() => pipeline.flushState(), config.collector.countersFlushMs);
  const normalizerTimer = setInterval(saveNormalizer, NORMALIZER_SAVE_MS);
  stateTimer.unref();
  normalizerTimer.unref();

  let stopped = false;
  return {
    config,
    store,
    writer,
    pipeline,
    counters,
    normalizer,
    templates,
    registry,
    writerStats: () => writer.stats(),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(stateTimer);
      clearInterval(normalizerTimer);
      pipeline.flushState();
      saveNormalizer();
      await writer.stop();
      await store.close();
    },
  };
}

export type { Kysely };

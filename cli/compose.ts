import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createCollector } from '../collector/collector.js';
import type { Collector, CollectorPorts } from '../collector/collector.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/open-store.js';
import { createFlowWriter } from '../store/writer/flow-writer.js';
import type { FlowWriter } from '../store/writer/flow-writer.js';
import type { TunnelflowConfig } from './config-schema.js';

/** What `run` and `ingest` share: the store, its writer and the collector, wired by hand. */
export interface CollectorStack {
  readonly store: Store;
  readonly writer: FlowWriter;
  readonly collector: Collector;
  readonly registry: Registry;
  /** The listeners' ports; null when started without listeners (ingest). */
  readonly ports: CollectorPorts | null;
  /** Stops the collector, flushes everything it accepted, closes the store. */
  stop(): Promise<void>;
}

/**
 * The composition root's shared half (STYLE.md: one root, wired by hand, no DI container):
 * opens and migrates the store, starts its writer, then starts the collector on it. On a
 * failure half-way, what was opened is closed again.
 */
export async function startCollectorStack(
  config: TunnelflowConfig,
  log: Logger,
  opts: { readonly listen: boolean },
): Promise<CollectorStack> {
  const store = await openStore(config.store, { logger: log });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tunnelflow_process_' });
  const writer = createFlowWriter(config.store.writer, { storeConfig: config.store, logger: log });
  const collector = createCollector(config, {
    store,
    sink: writer,
    registry,
    logger: log,
    listen: opts.listen,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await collector.stop();
    await writer.stop();
    await store.close();
  };
  try {
    await writer.start();
    const ports = await collector.start();
    return { store, writer, collector, registry, ports, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

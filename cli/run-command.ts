import { createApi } from '../api/create-api.js';
import { tunnelRoutes } from '../api/routes/tunnels.js';
import { webRoutes } from '../api/web/web-routes.js';
import { createTcpListener } from '../collector/listen/tcp-listener.js';
import { createUdpListener } from '../collector/listen/udp-listener.js';
import { createRetention } from '../store/retention.js';
import { registerStoreMetrics } from '../store/store-metrics.js';
import { VERSION } from './version.js';
import { createCore } from './core.js';
import { createLogger } from './logger.js';
import { resolveConfig } from './resolve-config.js';
import type { ConfigOverrides } from './resolve-config.js';
import type { TunnelflowConfig } from './config-schema.js';
import type { Core } from './core.js';
import type { Logger } from 'pino';

export interface RunOptions extends ConfigOverrides {
  readonly dumpConfig?: boolean;
  readonly logLevel?: string;
}

/** A running tunnelflow: the addresses it listens on, and how to stop it. */
export interface RunningTunnelflow {
  readonly core: Core;
  readonly netflowPort: number;
  readonly ipfixPort: number;
  readonly ipfixTcpPort: number;
  readonly http: { readonly address: string; readonly port: number };
  /** Stops the listeners, flushes every accepted record and all state, closes the database. */
  stop(): Promise<void>;
}

/**
 * `tunnelflow run`: listeners → pipeline → store, the HTTP API and the retention timer in
 * one process. SIGTERM / SIGINT stop the listeners, flush every accepted record and all
 * state, close the database, and exit 0.
 */
export async function runCommand(opts: RunOptions): Promise<void> {
  const config = resolveConfig(opts);
  if (opts.dumpConfig) {
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    return;
  }
  const log = createLogger(opts.logLevel);
  const app = await startTunnelflow(config, log);
  const onSignal = (signal: string) => {
    log.info({ signal }, 'stopping: flushing to the store');
    void app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  // Under `npm start`, a SIGTERM sent to npm alone is not passed on to this process (npm
  // exits and leaves it running). Seeing the parent go away is the same request to stop.
  if (process.env.npm_lifecycle_event !== undefined) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) onSignal('parent-exit');
    }, 250).unref();
  }
  log.info(
    {
      netflow: `${config.collector.listen}:${app.netflowPort}/udp`,
      ipfix: `${config.collector.listen}:${app.ipfixPort}/udp,${app.ipfixTcpPort}/tcp`,
      http: `http://${app.http.address}:${app.http.port}/`,
      db: config.store.path,
      version: VERSION,
    },
    'tunnelflow running',
  );
  // One machine-readable line on stdout, so scripts and tests can find ports chosen by the OS.
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', netflowPort: app.netflowPort, ipfixPort: app.ipfixPort, ipfixTcpPort: app.ipfixTcpPort, http: `${app.http.address}:${app.http.port}` })}\n`,
  );
}

/** Starts everything `run` runs, in this process (tests use it directly). */
export async function startTunnelflow(config: TunnelflowConfig, log: Logger): Promise<RunningTunnelflow> {
  const core = await createCore(config, log);
  const { pipeline } = core;
  const c = config.collector;

  const netflowUdp = createUdpListener(
    { host: c.listen, port: c.netflowPort, receiveBufferBytes: c.receiveBufferBytes, name: 'netflow-udp' },
    pipeline.handle,
    log,
  );
  const ipfixUdp = createUdpListener(
    { host: c.listen, port: c.ipfixPort, receiveBufferBytes: c.receiveBufferBytes, name: 'ipfix-udp' },
    pipeline.handle,
    log,
  );
  const ipfixTcp = createTcpListener(
    {
      host: c.listen,
      port: c.ipfixPort,
      name: 'ipfix-tcp',
      onStreamError: (exporter) => {
        const row = core.counters.get(exporter, 0, Date.now());
        core.counters.addIssue(row, 'tcp-stream-broken');
      },
    },
    pipeline.handle,
    log,
  );
  const retention = createRetention(config.store.retention, { runner: core.writer, logger: log });
  registerStoreMetrics(core.registry, {
    writer: core.writer,
    retention,
    usedBytes: () => core.store.info().usedBytes,
  });
  const api = createApi(config.http, {
    store: core.store,
    registry: core.registry,
    logger: log,
    version: VERSION,
    writerStats: () => core.writer.stats(),
    routes: [tunnelRoutes({ store: core.store, config })],
    indexPage: (router) => router.use(webRoutes()),
    health: () => ({
      bucketSeconds: config.bucketSeconds,
      collector: { netflowPort: c.netflowPort, ipfixPort: c.ipfixPort, listen: c.listen },
      retention: retention.stats(),
      normalizer: core.normalizer.counters(),
    }),
  });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.allSettled([netflowUdp.stop(), ipfixUdp.stop(), ipfixTcp.stop()]);
      await retention.stop();
      await api.stop();
      await core.stop();
      log.info('stopped');
    })();
    return stopping;
  };

  try {
    const [nf, ix, tcp, http] = await Promise.all([
      netflowUdp.start(),
      ipfixUdp.start(),
      ipfixTcp.start(),
      api.start(),
    ]);
    retention.start();
    return { core, netflowPort: nf.port, ipfixPort: ix.port, ipfixTcpPort: tcp.port, http, stop };
  } catch (err) {
    log.error({ err }, 'cannot start');
    await stop();
    throw err;
  }
}

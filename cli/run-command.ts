import type { Logger } from 'pino';
import { checkExposure, resolveTokens } from '../api/auth.js';
import { createReportComponent } from '../reports/report-component.js';
import { createReportMetrics } from '../reports/report-metrics.js';
import { createReportService } from '../reports/report-service.js';
import { createApi } from '../api/create-api.js';
import { webRoutes } from '../api/web/web-routes.js';
import { createRetention } from '../store/retention.js';
import { redactUrl } from '../store/postgres/connection.js';
import { registerStoreMetrics } from '../store/store-metrics.js';
import { analysisOptions } from './analysis-options.js';
import { startCollectorStack } from './compose.js';
import type { CollectorStack } from './compose.js';
import type { TunnelflowConfig } from './config-schema.js';
import { createLogger } from './logger.js';
import { resolveConfig } from './resolve-config.js';
import type { ConfigOverrides } from './resolve-config.js';
import { VERSION } from './version.js';

export interface RunOptions extends ConfigOverrides {
  readonly dumpConfig?: boolean;
  readonly logLevel?: string;
}

/** A running tunnelflow: the addresses it listens on, and how to stop it. */
export interface RunningTunnelflow {
  readonly stack: CollectorStack;
  readonly netflowPort: number;
  readonly ipfixPort: number;
  readonly ipfixTcpPort: number;
  readonly http: { readonly address: string; readonly port: number };
  /** Stops the listeners, flushes every accepted record and all state, closes the database. */
  stop(): Promise<void>;
}

/**
 * `tunnelflow run`: the collector (listeners → pipeline → store writer), the HTTP API and
 * the retention timer in one process. SIGTERM / SIGINT stop the listeners, flush every accepted record and all
 * state, close the database, and exit 0.
 */
export async function runCommand(opts: RunOptions): Promise<void> {
  const config = resolveConfig(opts);
  if (opts.dumpConfig) {
    // Tokens are secrets: the dump says how many there are, never what they are.
    const http = { ...config.http, tokens: config.http.tokens.map(() => '(redacted)') };
    const store =
      config.store.url === undefined ? config.store : { ...config.store, url: redactUrl(config.store.url) };
    process.stdout.write(`${JSON.stringify({ ...config, http, store }, null, 2)}\n`);
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
      db: config.store.url === undefined ? config.store.path : redactUrl(config.store.url),
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
  // An API that would be open to the network is refused before anything is opened.
  checkExposure(config.http, resolveTokens(config.http, process.env));
  const stack = await startCollectorStack(config, log, { listen: true });
  const { store, writer, collector, registry } = stack;
  const ports = stack.ports!;
  const c = config.collector;
  const retention = createRetention(config.store.retention, {
    runner: writer,
    logger: log,
    bucketMs: config.bucketSeconds * 1000,
  });
  registerStoreMetrics(registry, {
    writer,
    retention,
    usedBytes: async () => (await store.info()).usedBytes,
  });
  const analysis = analysisOptions(config);
  const reportMetrics = createReportMetrics(
    registry,
    config.reports.map((p) => p.name),
  );
  const reports = createReportService({
    db: store.db,
    reader: store.tunnelReader,
    analysis,
    policies: config.reports,
    metrics: reportMetrics,
  });
  const scheduledReports = createReportComponent({
    service: reports,
    db: store.db,
    metrics: reportMetrics,
    log: log.child({ component: 'reports' }),
  });
  const api = createApi(config.http, {
    store,
    analysis,
    reports,
    registry,
    logger: log,
    version: VERSION,
    writerStats: () => writer.stats(),
    refusedSources: () => collector.refusedSources(),
    indexPage: (router) => router.use(webRoutes()),
    health: () => ({
      bucketSeconds: config.bucketSeconds,
      collector: { netflowPort: c.netflowPort, ipfixPort: c.ipfixPort, listen: c.listen },
      retention: retention.stats(),
      normalizer: collector.normalizerCounters(),
    }),
  });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await collector.stop();
      await scheduledReports.stop();
      await retention.stop();
      await api.stop();
      await stack.stop();
      log.info('stopped');
    })();
    return stopping;
  };

  try {
    const http = await api.start();
    retention.start();
    // Catch-up runs go on in the background; stop() waits for the one in flight.
    scheduledReports.start().catch((err: unknown) => log.error({ err }, 'report scheduler did not start'));
    return { stack, ...ports, http, stop };
  } catch (err) {
    log.error({ err }, 'cannot start');
    await stop();
    throw err;
  }
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import type { ApiDeps } from './api-deps.js';
import { checkExposure, requireToken, resolveTokens } from './auth.js';
import { apiConfigSchema } from './config.js';
import { perClientRateLimit } from './rate-limit.js';
import type { ApiConfig } from './config.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { exporterRoutes } from './routes/exporters.js';
import { flowRoutes } from './routes/flows.js';
import { healthRoutes } from './routes/health.js';
import { indexPageRoute } from './routes/index-page.js';
import { metricsRoutes } from './routes/metrics.js';
import { reportRoutes } from './routes/reports.js';
import { tunnelRoutes } from './routes/tunnels.js';

export interface Api {
  /** The express application (tests may drive it without listening). */
  readonly app: express.Express;
  /** Listens on config.host:config.port; resolves with the bound address (port 0 → the OS's choice). */
  start(): Promise<{ address: string; port: number }>;
  /** Stops listening and closes open connections. */
  stop(): Promise<void>;
}

/**
 * The HTTP API, inert until start(). Every route is registered here (health, exporters,
 * flows, metrics, tunnels, then the web page), then the 404 and error handlers, so that
 * every answer, including "no such route", has the same problem+json shape.
 */
export function createApi(config: Partial<ApiConfig>, deps: ApiDeps): Api {
  const parsed = apiConfigSchema.parse(config ?? {});
  const { host, port } = parsed;
  const tokens = resolveTokens(parsed, deps.env ?? process.env);
  checkExposure(parsed, tokens);
  const logger = deps.logger ?? pino({ enabled: false });
  const app = express();
  app.disable('x-powered-by');
  // Before anything else: a client over its limit, or without a token, costs no more work.
  const limiter = perClientRateLimit(parsed.rateLimit);
  if (limiter !== null) app.use(limiter);
  if (tokens.length > 0) app.use(requireToken(tokens, parsed.openMetrics));
  // Bodies are small JSON documents (report requests); anything bigger is a mistake.
  app.use(express.json({ limit: '64kb' }));

  const router = express.Router();
  healthRoutes(deps)(router);
  exporterRoutes(deps)(router);
  flowRoutes(deps)(router);
  metricsRoutes(deps)(router);
  tunnelRoutes({
    store: deps.store,
    reader: deps.tunnelReader ?? deps.store.tunnelReader,
    options: deps.analysis,
  })(router);
  if (deps.reports !== undefined) reportRoutes(deps.reports)(router);
  for (const register of deps.routes ?? []) register(router);
  (deps.indexPage ?? indexPageRoute)(router);
  app.use(router);
  app.use(notFoundHandler());
  app.use(errorHandler(logger));

  let server: Server | null = null;
  return {
    app,
    start: () =>
      new Promise((resolve, reject) => {
        if (server !== null) {
          const bound = server.address() as AddressInfo;
          resolve({ address: bound.address, port: bound.port });
          return;
        }
        const listening = app.listen(port, host);
        listening.once('error', reject);
        listening.once('listening', () => {
          listening.off('error', reject);
          server = listening;
          const bound = listening.address() as AddressInfo;
          logger.info({ address: bound.address, port: bound.port }, 'http api listening');
          resolve({ address: bound.address, port: bound.port });
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        const open = server;
        server = null;
        if (open === null) {
          resolve();
          return;
        }
        open.close(() => resolve());
        // Keep-alive connections would hold close() open until they time out.
        open.closeAllConnections();
      }),
  };
}

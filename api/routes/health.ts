import type { Router } from 'express';
import type { ApiDeps } from '../api-deps.js';

/**
 * GET /api/v1/health: 200 with status "ok" when the database answers, 503 with status
 * "degraded" when it does not or when the writer has lost rows to failed transactions.
 */
export function healthRoutes(deps: ApiDeps): (router: Router) => void {
  const startedMs = deps.startedMs ?? Date.now();
  return (router) => {
    router.get('/api/v1/health', (_req, res) => {
      let database: Record<string, unknown>;
      let ok = true;
      try {
        database = { ...deps.store.info() };
      } catch (error) {
        ok = false;
        database = { error: error instanceof Error ? error.message : String(error) };
      }
      const writer = deps.writerStats?.() ?? null;
      if (writer !== null && writer.failed > 0) ok = false;
      res.status(ok ? 200 : 503).json({
        status: ok ? 'ok' : 'degraded',
        version: deps.version ?? null,
        uptimeSeconds: Math.round((Date.now() - startedMs) / 1000),
        database,
        writer,
        ...(deps.health?.() ?? {}),
      });
    });
  };
}

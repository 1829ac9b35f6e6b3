import type { Router } from 'express';
import type { ApiDeps } from '../api-deps.js';

/**
 * GET /api/v1/health: 200 with status "ok" when the database answers, 503 with status
 * "degraded" when it does not or while the writer's transactions fail (a full disk); the
 * rows lost so far stay in `writer.failed`.
 */
export function healthRoutes(deps: ApiDeps): (router: Router) => void {
  const startedMs = deps.startedMs ?? Date.now();
  return (router) => {
    router.get('/api/v1/health', async (_req, res) => {
      let database: Record<string, unknown>;
      let ok = true;
      try {
        database = { ...(await deps.store.info()) };
      } catch (error) {
        ok = false;
        database = { error: error instanceof Error ? error.message : String(error) };
      }
      const writer = deps.writerStats?.() ?? null;
      if (writer !== null && writer.failing) ok = false;
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

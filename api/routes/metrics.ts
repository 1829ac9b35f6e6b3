import type { Router } from 'express';
import { Registry } from 'prom-client';
import type { ApiDeps } from '../api-deps.js';

/** GET /metrics: the Prometheus text exposition of the registry the composition root filled. */
export function metricsRoutes(deps: ApiDeps): (router: Router) => void {
  const registry = deps.registry ?? new Registry();
  return (router) => {
    router.get('/metrics', async (_req, res) => {
      const body = await registry.metrics();
      res.type(registry.contentType).send(body);
    });
  };
}

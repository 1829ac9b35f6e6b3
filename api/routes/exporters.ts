import type { Router } from 'express';
import { z } from 'zod';
import { loadExporterCounters } from '../../store/exporters/exporter-repository.js';
import type { ApiDeps } from '../api-deps.js';
import { parseQuery } from '../params.js';

const exportersQuery = z.strictObject({});

/**
 * GET /api/v1/exporters: counters per exporter and observation domain (one page: there are
 * few), and the sources refused by the exporter allowlist (`refused`, kept in memory).
 */
export function exporterRoutes(deps: ApiDeps): (router: Router) => void {
  return (router) => {
    router.get('/api/v1/exporters', async (req, res) => {
      parseQuery(exportersQuery, req.query);
      const items = await loadExporterCounters(deps.store.db);
      res.json({ items, nextCursor: null, refused: deps.refusedSources?.() ?? [] });
    });
  };
}

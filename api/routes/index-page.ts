import type { Router } from 'express';

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tunnelflow</title></head>
<body>
<h1>tunnelflow</h1>
<p>NetFlow/IPFIX collector and flow store that understands IPsec. The API answers JSON;
errors are <code>application/problem+json</code>; times are ISO 8601 or epoch milliseconds.</p>
<ul>
<li><a href="/api/v1/health"><code>GET /api/v1/health</code></a> — status, database, writer</li>
<li><a href="/api/v1/exporters"><code>GET /api/v1/exporters</code></a> — counters per exporter and domain</li>
<li><a href="/api/v1/flows?limit=20"><code>GET /api/v1/flows?from&amp;to&amp;filter&amp;limit&amp;cursor</code></a>
 — raw flows; also <code>src dst proto port spi kind tunnel exporter</code>;
 filter like <code>proto esp and net 192.0.2.0/24</code></li>
<li><a href="/metrics"><code>GET /metrics</code></a> — Prometheus metrics</li>
</ul>
</body>
</html>
`;

/** GET /: a placeholder page listing the API (the web UI replaces it through ApiDeps.indexPage). */
export function indexPageRoute(router: Router): void {
  router.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
}

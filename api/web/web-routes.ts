import express from 'express';
import type { Response, Router } from 'express';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findProjectRoot } from './project-root.js';

/** Where the page's files live; both default to the project's own. */
export interface WebRoutesOptions {
  /** Folder with index.html and the page's modules (default `<root>/api/web/static`). */
  readonly staticDir?: string;
  /** uPlot's `dist` folder (default: wherever Node resolves the `uplot` package). */
  readonly uplotDir?: string;
}

/**
 * The only vendor files the page loads, by the name it asks for. A fixed list rather than
 * the whole `dist` folder, so the router serves exactly what the page needs.
 */
const VENDOR_FILES: Readonly<Record<string, string>> = {
  'uPlot.esm.js': 'uPlot.esm.js',
  'uPlot.min.css': 'uPlot.min.css',
};

/**
 * The page talks only to its own origin and loads nothing from elsewhere (DESIGN.md: the
 * collector often runs where there is no Internet). Inline styles stay allowed because
 * uPlot positions its cursor and legend with them.
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The web page: `GET /` and its assets under `/assets/` (the page's modules and styles,
 * uPlot under `/assets/vendor/`). Everything the page shows comes from `/api/v1/...`,
 * fetched by the browser with URLs relative to the page, so the router can be mounted
 * under a prefix too. Files are revalidated on every load (no-cache + ETag): they are
 * small, and a collector upgraded in place must never serve a stale page.
 */
export function webRoutes(options: WebRoutesOptions = {}): Router {
  const staticDir = options.staticDir ?? join(findProjectRoot(import.meta.url), 'api', 'web', 'static');
  const uplotDir = options.uplotDir ?? dirname(createRequire(import.meta.url).resolve('uplot'));
  const router = express.Router();

  router.get('/', (_req, res, next) => {
    res.set({
      'Content-Security-Policy': PAGE_POLICY,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.sendFile('index.html', { root: staticDir }, (err) => {
      if (err) next(err);
    });
  });

  router.get('/assets/vendor/:file', (req, res, next) => {
    const file = VENDOR_FILES[req.params.file];
    if (file === undefined) {
      notFound(res);
      return;
    }
    assetHeaders(res);
    res.sendFile(file, { root: uplotDir }, (err) => {
      if (err) next(err);
    });
  });

  router.use(
    '/assets',
    express.static(staticDir, {
      index: false,
      redirect: false,
      dotfiles: 'ignore',
      cacheControl: false,
      setHeaders: assetHeaders,
    }),
  );

  // Anything else under /assets is a wrong link in the page or a typo: a plain 404 here,
  // rather than letting it reach the JSON API's handlers.
  router.use('/assets', (_req, res) => notFound(res));

  return router;
}

function assetHeaders(res: Response): void {
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

function notFound(res: Response): void {
  res.status(404).type('text/plain').send('not found\n');
}

import express from 'express';
import { request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findProjectRoot } from '../../api/web/project-root.js';
import { webRoutes } from '../../api/web/web-routes.js';

const root = findProjectRoot(import.meta.url);
const staticDir = join(root, 'api', 'web', 'static');

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(webRoutes());
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

/** href / src attributes of the page that point at the server (not data: URIs). */
function localReferences(html: string): string[] {
  const refs = [...html.matchAll(/\s(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
  return refs.filter((r) => !r.startsWith('data:') && !r.startsWith('#') && r !== './');
}

/** Relative module specifiers a browser module imports (`import … from './x.js'`). */
function moduleImports(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1]!);
}

/** GET with the path sent exactly as written (fetch would resolve `%2e%2e` segments first). */
function rawGet(path: string): Promise<{ status: number; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function expectedType(path: string): RegExp {
  if (path.endsWith('.js')) return /^text\/javascript|^application\/javascript/;
  if (path.endsWith('.css')) return /^text\/css/;
  throw new Error(`no expected content type for ${path}`);
}

describe('GET /', () => {
  test('serves the page as HTML with a same-origin policy', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const policy = res.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="assets/app.js"></script>');
    expect(html).toContain('assets/vendor/uPlot.min.css');
    expect(html).toContain('assets/style.css');
  });

  test('every asset the page references answers 200 with its content type', async () => {
    const html = await (await fetch(`${base}/`)).text();
    const refs = localReferences(html);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      const url = new URL(ref, `${base}/`);
      const res = await fetch(url);
      expect(res.status, url.pathname).toBe(200);
      expect(res.headers.get('content-type'), url.pathname).toMatch(expectedType(url.pathname));
      expect(res.headers.get('x-content-type-options'), url.pathname).toBe('nosniff');
    }
  });

  test('every module the page imports, transitively, is served as JavaScript', async () => {
    const seen = new Set<string>();
    const queue = [new URL('assets/app.js', `${base}/`).href];
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toMatch(expectedType(url));
      for (const specifier of moduleImports(await res.text())) queue.push(new URL(specifier, url).href);
    }
    // app.js and its modules, plus uPlot reached through charts.js.
    expect([...seen].some((u) => u.endsWith('/assets/vendor/uPlot.esm.js'))).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(8);
  });
});

describe('/assets', () => {
  test.each([
    ['/assets/vendor/uPlot.esm.js', /javascript/],
    ['/assets/vendor/uPlot.min.css', /^text\/css/],
  ])('serves uPlot: %s', async (path, type) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(type);
    const body = await res.text();
    expect(body.length).toBeGreaterThan(1000);
    if (path.endsWith('.js')) expect(body).toMatch(/export\s*\{\s*uPlot as default\s*\}/);
  });

  test.each([
    '/assets/nope.js',
    '/assets/vendor/nope.js',
    '/assets/vendor/uPlot.d.ts',
    '/assets/vendor/uPlot.cjs.js',
    '/assets/%2e%2e/web-routes.ts',
    '/assets/..%2f..%2fpackage.json',
    '/assets/',
    '/assets/../web-routes.ts',
  ])('unknown asset %s → 404', async (path) => {
    const res = await rawGet(path);
    expect(res.status).toBe(404);
    expect(res.type).toMatch(/^text\/plain/);
  });

  test('the page loads nothing from another origin', () => {
    for (const file of readdirSync(staticDir)) {
      const text = readFileSync(join(staticDir, file), 'utf8');
      expect(text, file).not.toMatch(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
    }
  });
});

describe('findProjectRoot', () => {
  test('finds the project from the sources and from the compiled output', () => {
    expect(readFileSync(join(root, 'package.json'), 'utf8')).toContain('"name": "tunnelflow"');
    const compiled = pathToFileURL(join(root, 'dist', 'api', 'web', 'web-routes.js')).href;
    expect(findProjectRoot(compiled)).toBe(root);
    const source = pathToFileURL(join(root, 'api', 'web', 'web-routes.ts')).href;
    expect(findProjectRoot(source)).toBe(root);
  });

  test('says where it looked when there is no project above', () => {
    expect(() => findProjectRoot(pathToFileURL('/tmp/elsewhere/x.js').href)).toThrow(
      /no package.json named "tunnelflow" above/,
    );
  });
});

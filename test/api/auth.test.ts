// Bearer tokens, the page's cookie, open /metrics, refusing an open bind, and per-client rate
// limits: each case fails without the code that gives it.

import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ApiConfigError } from '../../api/auth.js';
import { createApi } from '../../api/create-api.js';
import type { Api } from '../../api/create-api.js';
import type { ApiConfig } from '../../api/config.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/open-store.js';
import { tempDir } from '../store/temp-store.js';
import { TEST_ANALYSIS } from './api-test-server.js';

const TOKEN = 'a-token-of-24-characters';
const OTHER = 'another-token-0123456789';
const tmp = tempDir('tunnelflow-auth-');
let store: Store;
beforeAll(async () => {
  store = await openStore({ path: tmp.path('auth.db') });
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

async function serve(
  config: Partial<ApiConfig>,
  env: NodeJS.ProcessEnv = {},
): Promise<{ api: Api; base: string }> {
  const api = createApi({ host: '127.0.0.1', port: 0, ...config }, { store, analysis: TEST_ANALYSIS, env });
  const { port } = await api.start();
  return { api, base: `http://127.0.0.1:${port}` };
}

describe('with tokens', () => {
  let api: Api;
  let base: string;
  beforeAll(async () => {
    ({ api, base } = await serve({ tokens: [TOKEN] }, { TUNNELFLOW_HTTP_TOKENS: ` ${OTHER} ,` }));
  });
  afterAll(() => api.stop());

  test.each(['/api/v1/health', '/api/v1/tunnels', '/api/v1/flows', '/metrics', '/', '/no/such/route'])(
    'GET %s without a token is 401 problem+json with WWW-Authenticate',
    async (path) => {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tunnelflow"');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/Authorization: Bearer/);
    },
  );

  test('a wrong token is 401 and says so; either configured token (config or environment) is 200', async () => {
    const wrong = await fetch(`${base}/api/v1/health`, {
      headers: { authorization: 'Bearer not-a-token-at-all!' },
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { detail: string }).detail).toMatch(/not one of the configured ones/);
    for (const token of [TOKEN, OTHER]) {
      const res = await fetch(`${base}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    }
  });

  test('opening /?token= once sets an HttpOnly cookie and redirects without the token; the cookie then works', async () => {
    const res = await fetch(`${base}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^tunnelflow_token=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const page = await fetch(`${base}/api/v1/tunnels`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    const bad = await fetch(`${base}/?token=${OTHER}x`, { redirect: 'manual' });
    expect(bad.status).toBe(401);
  });
});

test('openMetrics leaves /metrics open and nothing else', async () => {
  const { api, base } = await serve({ tokens: [TOKEN], openMetrics: true });
  try {
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/health`)).status).toBe(401);
  } finally {
    await api.stop();
  }
});

test('tokens from a file: one per line, comments and blank lines ignored', async () => {
  const file = tmp.path('tokens.txt');
  writeFileSync(file, `# on-call\n${TOKEN}\n\n${OTHER} # grafana\n`);
  const { api, base } = await serve({ tokensFile: file });
  try {
    for (const token of [TOKEN, OTHER]) {
      expect(
        (await fetch(`${base}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
    }
    expect((await fetch(`${base}/api/v1/health`)).status).toBe(401);
  } finally {
    await api.stop();
  }
});

test.each([
  [{ host: '0.0.0.0' }, /would listen on 0\.0\.0\.0 without authentication/],
  [{ host: '192.0.2.1' }, /would listen on 192\.0\.2\.1 without authentication/],
  [{ tokensFile: '/nonexistent/tokens' }, /http\.tokensFile: cannot read \/nonexistent\/tokens/],
])('createApi(%j) refuses with a clear ApiConfigError', (config, message) => {
  expect(() => createApi({ port: 0, ...config }, { store, analysis: TEST_ANALYSIS, env: {} })).toThrow(
    ApiConfigError,
  );
  expect(() => createApi({ port: 0, ...config }, { store, analysis: TEST_ANALYSIS, env: {} })).toThrow(
    message,
  );
});

test('a short token from the environment is refused; an open bind is allowed only when said so', () => {
  expect(() =>
    createApi({ port: 0 }, { store, analysis: TEST_ANALYSIS, env: { TUNNELFLOW_HTTP_TOKENS: 'short' } }),
  ).toThrow(/5 characters; use 16 or more/);
  expect(() =>
    createApi(
      { host: '0.0.0.0', port: 0, allowUnauthenticated: true },
      { store, analysis: TEST_ANALYSIS, env: {} },
    ),
  ).not.toThrow();
  expect(() =>
    createApi({ host: '0.0.0.0', port: 0, tokens: [TOKEN] }, { store, analysis: TEST_ANALYSIS, env: {} }),
  ).not.toThrow();
});

test('per-client rate limit: over the limit is 429 problem+json with Retry-After', async () => {
  const { api, base } = await serve({ rateLimit: { windowSeconds: 60, max: 5 } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${base}/api/v1/health`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const over = await fetch(`${base}/api/v1/health`);
    expect(over.status).toBe(429);
    expect(over.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await over.json()) as { detail: string }).detail).toMatch(/more than 5 requests in 60 s/);
  } finally {
    await api.stop();
  }
});

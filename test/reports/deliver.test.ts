import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { postWebhook, writeReportFiles } from '../../reports/deliver.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tunnelflow-deliver-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('writeReportFiles', () => {
  test('creates the directory, writes every file whole, leaves no temp file', async () => {
    const root = await tempDir();
    const dir = join(root, 'reports', 'daily');
    const json = JSON.stringify({ policy: 'daily', tunnels: [{ id: 't1', availability: 0.9991 }] });
    const csv = Buffer.from('tunnel,direction,sent,lost\r\nt1,aToB,1000,17\r\n', 'utf8');
    const html = '<!doctype html><title>Bericht – Zürich</title><p>ok</p>';
    const paths = await writeReportFiles(dir, 'daily-2026-05-01', [
      { ext: 'json', body: json },
      { ext: 'csv', body: csv },
      { ext: 'html', body: html },
    ]);
    expect(paths).toEqual([
      join(dir, 'daily-2026-05-01.json'),
      join(dir, 'daily-2026-05-01.csv'),
      join(dir, 'daily-2026-05-01.html'),
    ]);
    expect(await readFile(paths[0] as string, 'utf8')).toBe(json);
    expect(await readFile(paths[1] as string)).toEqual(csv);
    expect(await readFile(paths[2] as string, 'utf8')).toBe(html);
    expect((await readdir(dir)).sort()).toEqual([
      'daily-2026-05-01.csv',
      'daily-2026-05-01.html',
      'daily-2026-05-01.json',
    ]);
  });

  test('a second write replaces the files', async () => {
    const dir = await tempDir();
    await writeReportFiles(dir, 'r', [{ ext: 'json', body: '{"v":1}' }]);
    const [path] = await writeReportFiles(dir, 'r', [{ ext: 'json', body: '{"v":2,"longer":true}' }]);
    expect(await readFile(path as string, 'utf8')).toBe('{"v":2,"longer":true}');
    expect(await readdir(dir)).toEqual(['r.json']);
  });

  test('a write that fails leaves no temp file, and no new file of the set', async () => {
    const dir = await tempDir();
    // r.html cannot be replaced: a directory holds its name.
    await mkdir(join(dir, 'r.html'));
    await writeFile(join(dir, 'r.json'), 'old');
    await expect(
      writeReportFiles(dir, 'r', [
        { ext: 'html', body: '<p>new</p>' },
        { ext: 'json', body: 'new' },
      ]),
    ).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['r.html', 'r.json']);
    expect(await readFile(join(dir, 'r.json'), 'utf8')).toBe('old');
  });

  test.each([['../escape'], ['a/b'], ['.hidden'], ['']])('refuses the base name %j', async (name) => {
    const dir = await tempDir();
    await expect(writeReportFiles(dir, name, [{ ext: 'json', body: '{}' }])).rejects.toThrow(
      /report file name/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  test('refuses an extension with a separator, or the same one twice', async () => {
    const dir = await tempDir();
    await expect(writeReportFiles(dir, 'r', [{ ext: 'json/../../x', body: '{}' }])).rejects.toThrow(
      /extension/,
    );
    await expect(
      writeReportFiles(dir, 'r', [
        { ext: 'json', body: '{}' },
        { ext: 'json', body: '{}' },
      ]),
    ).rejects.toThrow(/twice/);
    expect(await readdir(dir)).toEqual([]);
  });
});

interface Received {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly body: string;
  readonly atMs: number;
}

/** An HTTP server on 127.0.0.1 that answers each request with `answer(n)` (n from 1). */
async function webhookServer(
  answer: (n: number, res: ServerResponse) => void,
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
        atMs: Date.now(),
      });
      answer(received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/report`, received };
}

const report = { policy: 'daily', from: 1777593600000, to: 1777680000000, tunnels: [{ id: 't1', lost: 17 }] };

describe('postWebhook', () => {
  test('a server that fails twice, then accepts: three tries with a doubling wait', async () => {
    const hook = await webhookServer((n, res) => {
      res.statusCode = n === 1 ? 500 : n === 2 ? 503 : 204;
      res.end();
    });
    const result = await postWebhook(hook.url, report, { backoffMs: 100 });
    expect(result).toEqual({ ok: true, attempts: 3, status: 204 });
    expect(hook.received).toHaveLength(3);
    for (const r of hook.received) {
      expect(r.method).toBe('POST');
      expect(r.contentType).toBe('application/json');
      expect(JSON.parse(r.body)).toEqual(report);
    }
    const [a, b, c] = hook.received.map((r) => r.atMs) as [number, number, number];
    // Waits of 100 then 200 ms (timer slack allowed for, not early firing).
    expect(b - a).toBeGreaterThanOrEqual(95);
    expect(c - b).toBeGreaterThanOrEqual(195);
  });

  test('a server that always answers 500: not ok after the attempts, with the last status', async () => {
    const hook = await webhookServer((_n, res) => {
      res.statusCode = 500;
      res.end('broken');
    });
    const result = await postWebhook(hook.url, report, { attempts: 4, backoffMs: 5 });
    expect(result).toEqual({ ok: false, attempts: 4, status: 500, error: 'HTTP 500 Internal Server Error' });
    expect(hook.received).toHaveLength(4);
  });

  test('429 is tried again, after Retry-After when the server gives one', async () => {
    const hook = await webhookServer((n, res) => {
      if (n === 1) {
        res.statusCode = 429;
        res.setHeader('retry-after', '1');
      } else {
        res.statusCode = 200;
      }
      res.end();
    });
    const result = await postWebhook(hook.url, report, { backoffMs: 5 });
    expect(result).toEqual({ ok: true, attempts: 2, status: 200 });
    const [a, b] = hook.received.map((r) => r.atMs) as [number, number];
    expect(b - a).toBeGreaterThanOrEqual(950);
  });

  test.each([[400], [401], [404], [413]])('%i is final: one try', async (code) => {
    const hook = await webhookServer((_n, res) => {
      res.statusCode = code;
      res.end();
    });
    const result = await postWebhook(hook.url, report, { backoffMs: 5 });
    expect(result).toMatchObject({ ok: false, attempts: 1, status: code });
    expect(result.error).toMatch(new RegExp(`^HTTP ${code}`));
    expect(hook.received).toHaveLength(1);
  });

  test('nothing listening: network errors are retried, then reported', async () => {
    const hook = await webhookServer((_n, res) => res.end());
    const url = hook.url;
    // Close it: the port now refuses connections.
    await cleanups.pop()?.();
    const result = await postWebhook(url, report, { attempts: 2, backoffMs: 5 });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(2);
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  test('a server that never answers: each try times out', async () => {
    const hook = await webhookServer(() => {
      // No answer.
    });
    const began = Date.now();
    const result = await postWebhook(hook.url, report, { attempts: 2, backoffMs: 5, timeoutMs: 200 });
    expect(result).toEqual({ ok: false, attempts: 2, error: 'no answer within 200 ms' });
    expect(hook.received).toHaveLength(2);
    expect(Date.now() - began).toBeGreaterThanOrEqual(400);
  });

  test('an injected fetch is used; a bad URL is not tried', async () => {
    const calls: string[] = [];
    const fetchImpl = ((input: string | URL | Request) => {
      calls.push(String(input));
      return Promise.resolve(new Response(null, { status: 202 }));
    }) as typeof fetch;
    expect(await postWebhook('http://127.0.0.1:9/x', report, { fetchImpl })).toEqual({
      ok: true,
      attempts: 1,
      status: 202,
    });
    expect(calls).toEqual(['http://127.0.0.1:9/x']);
    expect(await postWebhook('not a url', report, { fetchImpl })).toMatchObject({ ok: false, attempts: 0 });
    expect(await postWebhook('file:///etc/passwd', report, { fetchImpl })).toMatchObject({
      ok: false,
      attempts: 0,
    });
    expect(calls).toHaveLength(1);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are untyped JSON, asserted field by field */
import { Router } from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ApiError } from '../../api/api-error.js';
import type { ExporterCounters } from '../../store/exporters/exporter-counters.js';
import type { NormalizedFlow } from '../../model/flow.js';
import { corpusFlows } from '../store/corpus-flows.js';
import { testEngine } from '../helpers/test-store.js';
import { startApiTestServer } from './api-test-server.js';
import type { ApiTestServer } from './api-test-server.js';

const flows: NormalizedFlow[] = [
  ...corpusFlows('h_multi_tunnel_mixed', 'pmacct_ipfix', { exporterAddress: '192.0.2.250' }),
  ...corpusFlows('e_frag_mtu_v4', 'softflowd_ipfix', { exporterAddress: '192.0.2.251' }),
  ...corpusFlows('g_cleartext_leak_v4', 'softflowd_v9', { exporterAddress: '2001:db8::250' }),
].map((f, i) =>
  i === 5 ? { ...f, spi: 0x6b1d2e93, fragmentId: 4242, fragmentOffset: 0, fragmentFlags: 1 } : f,
);

const counters: ExporterCounters = {
  exporter: '192.0.2.250',
  domainId: 17,
  version: 10,
  datagrams: 31,
  records: flows.length,
  templates: 4,
  optionsRecords: 0,
  malformed: 1,
  missingTemplateRecords: 0,
  sequenceGaps: 0,
  dropped: 0,
  issues: { truncated: 1 },
  firstSeenMs: 1_710_234_000_000,
  lastSeenMs: 1_710_234_300_000,
};

let server: ApiTestServer;
beforeAll(async () => {
  const extra = Router();
  extra.get('/api/v1/teapot', () => {
    throw new ApiError(418, 'teapot', 'this route brews no coffee; ask /api/v1/flows instead');
  });
  extra.get('/api/v1/boom', () => {
    throw new Error('something internal went wrong');
  });
  server = await startApiTestServer(flows, {
    state: { exporters: [counters, { ...counters, exporter: '192.0.2.251', domainId: 0, issues: {} }] },
    routes: [
      (router) => router.use(extra),
      (router) =>
        router.get('/api/v1/broken-sql', async () => {
          await server.store.db
            .selectFrom('no_such_table' as never)
            .selectAll()
            .execute();
        }),
    ],
  });
});
afterAll(async () => {
  await server.close();
});

async function json(path: string): Promise<{ status: number; type: string | null; body: any }> {
  const res = await server.get(path);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

async function walk(query: string, limit: number): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i += 1) {
    const sep = query === '' ? '' : '&';
    const { status, body } = await json(
      `/api/v1/flows?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(status).toBe(200);
    items.push(...body.items);
    cursor = body.nextCursor;
    if (cursor === null) return items;
  }
  throw new Error('no end');
}

describe('GET /api/v1/health', () => {
  test('reports status, version, uptime, database and writer', async () => {
    const { status, body } = await json('/api/v1/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', version: '0.1.0-test', database: { engine: testEngine() } });
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(body.database.usedBytes).toBeGreaterThan(0);
    expect(body.database.schemaVersion).toMatch(/^\d{14}-/);
    if (testEngine() === 'sqlite') {
      expect(body.database).toMatchObject({ journalMode: 'wal' });
      expect(body.database.path).toMatch(/api\.db$/);
    } else {
      expect(body.database.location).toMatch(/^postgresql:\/\/.*\/t_api_/);
      expect(body.database.location).not.toContain('***');
    }
    expect(body.writer).toMatchObject({ written: flows.length, dropped: 0, failed: 0 });
  });
});

describe('GET /api/v1/exporters', () => {
  test('lists counters per exporter and domain', async () => {
    const { status, body } = await json('/api/v1/exporters');
    expect(status).toBe(200);
    expect(body.nextCursor).toBeNull();
    expect(body.items).toEqual([counters, { ...counters, exporter: '192.0.2.251', domainId: 0, issues: {} }]);
  });
});

describe('GET /api/v1/flows', () => {
  test('answers DESIGN.md flows, 100 by default, absent values null', async () => {
    const { status, body } = await json('/api/v1/flows');
    expect(status).toBe(200);
    expect(body.items).toHaveLength(100);
    expect(typeof body.nextCursor).toBe('string');
    const designFields = [
      'id',
      'exporter',
      'domainId',
      'startMs',
      'endMs',
      'src',
      'dst',
      'proto',
      'srcPort',
      'dstPort',
      'spi',
      'packets',
      'octets',
      'tcpFlags',
      'icmpType',
      'icmpCode',
      'fragment',
      'inIf',
      'outIf',
      'samplingRate',
      'kind',
      'tunnelId',
      'saId',
      'reportedLoss',
      'lossClearedReason',
    ];
    for (const item of body.items) {
      for (const field of designFields) expect(item).toHaveProperty(field);
      for (const value of Object.values(item)) expect(value).not.toBeUndefined();
    }
    const esp = body.items.find((f: any) => f.proto === 50);
    expect(esp).toMatchObject({ srcPort: null, dstPort: null, kind: 'esp', tcpFlags: null });
  });

  test('a fragment is an object, otherwise null', async () => {
    const { body } = await json('/api/v1/flows?spi=0x6b1d2e93');
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ spi: 0x6b1d2e93, fragment: { id: 4242, offset: 0, flags: 1 } });
  });

  test.each([1, 13, 100, 10_000])('walking with limit=%i returns every row exactly once', async (limit) => {
    const items = await walk('', limit);
    expect(items).toHaveLength(flows.length);
    expect(new Set(items.map((f) => f.id)).size).toBe(flows.length);
  });

  test('a walk with a window and a filter returns exactly the matching rows, once each', async () => {
    const from = Date.UTC(2024, 2, 12, 9, 1);
    const to = Date.UTC(2024, 2, 12, 9, 3);
    const expected = flows.filter((f) => f.endMs >= from && f.startMs < to && f.proto === 17);
    expect(expected.length).toBeGreaterThan(5);
    const items = await walk(
      `from=2024-03-12T09:01:00Z&to=${to}&filter=${encodeURIComponent('proto udp')}`,
      4,
    );
    expect(items).toHaveLength(expected.length);
    expect(new Set(items.map((f) => f.id)).size).toBe(expected.length);
    for (const f of items) expect(f.endMs >= from && f.startMs < to && f.proto === 17).toBe(true);
  });

  test.each<[string, string, (f: NormalizedFlow) => boolean]>([
    ['src', 'src=192.0.2.1', (f) => f.src === '192.0.2.1'],
    ['dst prefix', 'dst=198.51.100.0/24', (f) => f.dst.startsWith('198.51.100.')],
    ['proto', 'proto=esp', (f) => f.proto === 50],
    ['port', 'port=53', (f) => f.srcPort === 53 || f.dstPort === 53],
    ['kind', 'kind=cleartext-leak', (f) => f.kind === 'cleartext-leak'],
    ['tunnel', 'tunnel=192.0.2.1_198.51.100.11_esp', (f) => f.tunnelId === '192.0.2.1_198.51.100.11_esp'],
    ['exporter', 'exporter=2001:db8::250', (f) => f.exporter === '2001:db8::250'],
    [
      'AND-ed with the filter',
      `proto=udp&filter=${encodeURIComponent('port 53 or port 123')}`,
      (f) => f.proto === 17 && [53, 123].some((p) => f.srcPort === p || f.dstPort === p),
    ],
  ])('equality parameter: %s', async (_name, query, oracle) => {
    const expected = flows.filter(oracle).length;
    expect(expected).toBeGreaterThan(0);
    const { body } = await json(`/api/v1/flows?${query}&limit=10000`);
    expect(body.items).toHaveLength(expected);
  });

  test('an empty filter is no filter', async () => {
    const { status, body } = await json('/api/v1/flows?filter=&limit=10000');
    expect(status).toBe(200);
    expect(body.items).toHaveLength(flows.length);
  });

  test('a cursor replayed with another filter is refused', async () => {
    const { body } = await json('/api/v1/flows?limit=5&proto=udp');
    const { status, body: problem } = await json(`/api/v1/flows?limit=5&proto=tcp&cursor=${body.nextCursor}`);
    expect(status).toBe(400);
    expect(problem).toMatchObject({ code: 'bad-cursor', parameter: 'cursor' });
    expect(problem.detail).toContain('belongs to a query with other parameters');
  });
});

describe('bad parameters: 400 application/problem+json naming the parameter', () => {
  test.each<[string, string, string, string]>([
    ['from=yesterday', 'from', 'bad-parameter', 'ISO 8601'],
    ['from=2024-03-12T09:00:00', 'from', 'bad-parameter', 'add Z or an offset'],
    ['to=12:00', 'to', 'bad-parameter', 'epoch milliseconds'],
    ['from=2000&to=1000', 'from', 'bad-parameter', "must be before 'to'"],
    ['from=5&to=5', 'from', 'bad-parameter', "must be before 'to'"],
    ['limit=0', 'limit', 'bad-parameter', 'from 1 to 10000'],
    ['limit=10001', 'limit', 'bad-parameter', 'from 1 to 10000'],
    ['limit=-5', 'limit', 'bad-parameter', 'from 1 to 10000'],
    ['limit=ten', 'limit', 'bad-parameter', 'from 1 to 10000'],
    ['cursor=garbage!', 'cursor', 'bad-cursor', 'pass nextCursor unchanged'],
    ['cursor=eyJ2IjoxfQ', 'cursor', 'bad-cursor', 'pass nextCursor unchanged'],
    ['src=999.1.1.1', 'src', 'bad-parameter', 'an IP address'],
    ['dst=10.0.0.0/33', 'dst', 'bad-parameter', 'CIDR prefix'],
    ['proto=bogus', 'proto', 'bad-parameter', 'a protocol'],
    ['port=70000', 'port', 'bad-parameter', 'a port number'],
    ['spi=xyz', 'spi', 'bad-parameter', 'an SPI'],
    ['kind=tunnel', 'kind', 'bad-parameter', 'a flow kind'],
    ['tunnel=', 'tunnel', 'bad-parameter', 'a tunnel id'],
    ['exporter=nowhere', 'exporter', 'bad-parameter', 'an exporter IP address'],
    ['form=1', 'form', 'unknown-parameter', "did you mean 'from'"],
    ['limt=5', 'limt', 'unknown-parameter', "did you mean 'limit'"],
    ['from=1&from=2', 'from', 'bad-parameter', 'given more than once'],
    ['filter=host%20foo', 'filter', 'bad-filter', "expected an address after 'host' at position 5"],
  ])('%s', async (query, parameter, code, detail) => {
    const { status, type, body } = await json(`/api/v1/flows?${query}`);
    expect(status).toBe(400);
    expect(type).toMatch(/^application\/problem\+json/);
    expect(body).toMatchObject({
      status: 400,
      title: 'Bad Request',
      code,
      type: `urn:tunnelflow:problem:${code}`,
      parameter,
    });
    expect(body.detail).toContain(detail);
    expect(body.detail).toContain(
      parameter === 'form' || parameter === 'limt' ? parameter : `'${parameter}'`,
    );
  });

  test('a filter syntax error carries its position and what was expected', async () => {
    const { body } = await json(`/api/v1/flows?filter=${encodeURIComponent('proto esp and (port 500')}`);
    expect(body).toMatchObject({ code: 'bad-filter', position: 23, expected: "')'" });
  });

  test('the exporters list takes no parameters', async () => {
    const { status, body } = await json('/api/v1/exporters?limit=3');
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'unknown-parameter', parameter: 'limit' });
  });
});

describe('errors in the same form everywhere', () => {
  test('an unknown route is a 404 problem', async () => {
    const { status, type, body } = await json('/api/v2/nothing');
    expect(status).toBe(404);
    expect(type).toMatch(/^application\/problem\+json/);
    expect(body).toMatchObject({ status: 404, code: 'not-found', title: 'Not Found' });
    expect(body.detail).toContain('GET /api/v2/nothing');
  });

  test('a malformed JSON body is a 400 problem', async () => {
    const res = await server.get('/api/v1/flows', {
      method: 'POST',
      body: '{"nope',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ code: 'bad-request' });
  });

  test('an ApiError thrown by an extra route keeps its status and code', async () => {
    const { status, body } = await json('/api/v1/teapot');
    expect(status).toBe(418);
    expect(body).toMatchObject({
      code: 'teapot',
      detail: 'this route brews no coffee; ask /api/v1/flows instead',
    });
  });

  test('anything else is an honest generic 500, logged with its incident id', async () => {
    const { status, type, body } = await json('/api/v1/boom');
    expect(status).toBe(500);
    expect(type).toMatch(/^application\/problem\+json/);
    expect(body).toMatchObject({ code: 'internal', status: 500, title: 'Internal Server Error' });
    expect(body.detail).not.toContain('something internal');
    const logged = server.logs.find((l) => l.incident === body.incident);
    expect(logged).toMatchObject({ level: 50, msg: 'request failed', url: '/api/v1/boom' });
    expect((logged!.err as { message: string }).message).toBe('something internal went wrong');
  });

  test('a failing query is logged with its SQL', async () => {
    const { status, body } = await json('/api/v1/broken-sql');
    expect(status).toBe(500);
    const logged = server.logs.find((l) => l.incident === body.incident);
    expect(logged?.sql).toBe('select * from "no_such_table"');
  });
});

describe('other routes', () => {
  test('GET /metrics serves the registry as Prometheus text', async () => {
    const res = await server.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('tunnelflow_test_datagrams_total 42');
  });

  test('GET / lists the API', async () => {
    const res = await server.get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const page = await res.text();
    for (const route of ['/api/v1/health', '/api/v1/exporters', '/api/v1/flows', '/metrics'])
      expect(page).toContain(route);
  });
});

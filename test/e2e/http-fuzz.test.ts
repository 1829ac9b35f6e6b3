// No request makes the API answer 5xx: random paths, path parameters and query strings
// (fast-check) over every route, against a store with real tunnels and flows in it. A 5xx
// is either a bug in parameter parsing or an error that leaked; both are listed with the URL.

import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import { getJson, start, tempDir, testConfig } from './helpers.js';

const EXPORTS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');

let app: Awaited<ReturnType<typeof start>>;
let tunnelId = '';
let bucketStart = 0;
beforeAll(async () => {
  const dir = tempDir();
  const config = testConfig(dir, 'http:\n  rateLimit: { max: 0 }\n');
  for (const [capture, exporter] of [
    ['d_loss_v4_tx', '192.0.2.140'],
    ['d_loss_v4_rx', '198.51.100.150'],
    ['h_multi_tunnel_mixed', undefined],
  ] as const) {
    await ingestCommand(join(EXPORTS, capture, 'pmacct_ipfix.pcap'), {
      config: join(dir, 'tunnelflow.yaml'),
      db: config.store.path,
      quiet: true,
      ...(exporter === undefined ? {} : { exporter }),
    });
  }
  app = await start(config);
  const tunnels = await getJson<{ items: { id: string }[] }>(
    `${app.url}/api/v1/tunnels?from=0&to=4102444800000`,
  );
  tunnelId = tunnels.body.items[0]!.id;
  const loss = await getJson<{ items: { start: number }[] }>(
    `${app.url}/api/v1/loss?from=0&to=4102444800000`,
  );
  bucketStart = loss.body.items[0]?.start ?? 0;
  // One stored report, so /api/v1/reports/1 has something to render in every format.
  const created = await fetch(`${app.url}/api/v1/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: bucketStart - 3_600_000, to: bucketStart + 3_600_000 }),
  });
  expect(created.status).toBe(201);
}, 120_000);
afterAll(() => app.stop());

const garbage = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1e400',
    'NaN',
    'Infinity',
    '9007199254740993',
    '%',
    '%zz',
    '\u0000',
    'a'.repeat(5000),
  ),
);

/** Values near what each parameter takes, so that requests pass validation and reach the handlers. */
const plausible: Record<string, fc.Arbitrary<string>> = {
  from: fc.oneof(
    fc.integer({ min: -3_600_000, max: 3_600_000 }).map((d) => String(bucketStart + d)),
    fc.constantFrom('0', '2024-03-12T09:00:00Z', '2024-13-45T99:99:99Z', '2024-03-12', '-8640000000000001'),
  ),
  to: fc.oneof(
    fc.integer({ min: -3_600_000, max: 7_200_000 }).map((d) => String(bucketStart + d)),
    fc.constantFrom('4102444800000', '2024-03-12T09:10:00Z', '8640000000000001'),
  ),
  step: fc.oneof(
    fc.constantFrom('60', '300', '5m', '1h', '1d', '0', '0m', '61', '9999999d'),
    fc.nat().map(String),
  ),
  minRatio: fc.constantFrom('0', '0.01', '1', '1.0', '.5', '2', '-0.1', '0.'),
  limit: fc.oneof(fc.nat({ max: 20_000 }).map(String), fc.constantFrom('-1', '1.5', '0')),
  cursor: fc.oneof(fc.base64String(), fc.string()),
  filter: fc
    .array(
      fc.constantFrom(
        'proto esp',
        'and',
        'or',
        'not',
        '(',
        ')',
        'net 10.0.0.0/8',
        'host 192.0.2.140',
        'port 4500',
        'kind esp',
        'kind ike',
        'net 2001:db8::/32',
        'src host ::1',
        'spi 0x10',
        'tunnel x',
        'exporter 127.0.0.1',
        'net 1.2.3.4/99',
        '((((',
        'proto 300',
      ),
      { maxLength: 7 },
    )
    .map((words) => words.join(' ')),
  proto: fc.constantFrom('esp', 'udp', '50', '256', 'nope'),
  port: fc.constantFrom('500', '4500', '65536', '-1'),
  spi: fc.constantFrom('0x6b1d2e93', '4294967296', '0xzz', '12'),
  kind: fc.constantFrom('esp', 'ike', 'cleartext-leak', 'nope'),
  src: fc.constantFrom('192.0.2.140', '10.0.0.0/8', '::1', 'not-an-ip'),
  dst: fc.constantFrom('198.51.100.150', '2001:db8::/32', '1.2.3.4/40'),
  exporter: fc.constantFrom('192.0.2.140', '127.0.0.1', 'x'),
  tunnel: fc.oneof(fc.constant('real'), fc.string()),
  format: fc.constantFrom('json', 'csv', 'html', 'pdf'),
  policy: fc.constantFrom('default', 'gold', 'nope', ''),
  token: fc.string(),
};

const segment = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('..', '.', '%2e%2e', '%00', ''),
);
const idOf = fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: segment });

/** A route, its path parameters real or random, and a query mostly of that route's own parameters. */
function route(
  makePath: fc.Arbitrary<string>,
  keys: readonly string[],
): fc.Arbitrary<[string, Array<readonly [string, string]>]> {
  const own =
    keys.length === 0
      ? fc.constant([] as Array<readonly [string, string]>)
      : fc
          .subarray([...keys])
          .chain((chosen) =>
            fc.tuple(
              ...chosen.map((k) =>
                fc.tuple(
                  fc.constant(k),
                  fc.oneof({ weight: 3, arbitrary: plausible[k]! }, { weight: 1, arbitrary: garbage }),
                ),
              ),
            ),
          )
          .map((pairs) => pairs.map(([k, v]) => [k, k === 'tunnel' && v === 'real' ? tunnelId : v] as const));
  const stray = fc.oneof(
    { weight: 5, arbitrary: fc.constant([] as Array<readonly [string, string]>) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.string(), garbage), { minLength: 1, maxLength: 2 }) },
  );
  return fc.tuple(makePath, own, stray).map(([p, o, x]) => [p, [...o, ...x]]);
}

const tunnelPath = (tail: string) =>
  idOf.map((id) => `/api/v1/tunnels/${encodeURIComponent(id ?? tunnelId)}${tail}`);

const request = fc.oneof(
  route(
    fc.constantFrom('/api/v1/health', '/api/v1/exporters', '/metrics', '/', '/app.js', '/api/v1/reports'),
    [],
  ),
  route(fc.constant('/api/v1/tunnels'), ['from', 'to']),
  route(fc.constant('/api/v1/reports'), ['limit', 'cursor', 'policy']),
  route(
    fc
      .oneof(fc.constantFrom('1', '0', '99999999999999999999', '-1'), segment)
      .map((id) => `/api/v1/reports/${encodeURIComponent(id)}`),
    ['format'],
  ),
  route(tunnelPath(''), ['from', 'to']),
  route(tunnelPath('/buckets'), ['from', 'to', 'step']),
  route(fc.constant('/api/v1/loss'), ['from', 'to', 'minRatio', 'limit']),
  route(
    fc
      .tuple(idOf, idOf)
      .map(
        ([id, start]) =>
          `/api/v1/tunnels/${encodeURIComponent(id ?? tunnelId)}/buckets/${start === null ? bucketStart : encodeURIComponent(start)}/flows`,
      ),
    ['limit', 'cursor'],
  ),
  route(fc.constant('/api/v1/flows'), [
    'from',
    'to',
    'filter',
    'limit',
    'cursor',
    'src',
    'dst',
    'proto',
    'port',
    'spi',
    'kind',
    'tunnel',
    'exporter',
  ]),
  route(
    fc.oneof(
      fc.array(segment, { maxLength: 4 }).map((parts) => `/${parts.map(encodeURIComponent).join('/')}`),
      fc.array(segment, { maxLength: 4 }).map((parts) => `/api/v1/${parts.join('/')}`),
    ),
    ['from', 'to', 'format'],
  ),
);

test('no path and query string makes the API answer 5xx', async () => {
  const failures: string[] = [];
  await fc.assert(
    fc.asyncProperty(request, fc.boolean(), async ([p, q], raw) => {
      const qs = q
        .map(([k, v]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
        .join('&');
      const url = `${app.url}${p}${qs === '' ? '' : `?${qs}`}`;
      try {
        if (new URL(url).host !== new URL(app.url).host) return;
      } catch {
        return; // not a URL a client could send
      }
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status >= 500) failures.push(`${res.status} ${url.slice(0, 300)}`);
    }),
    { numRuns: 3000 },
  );
  expect(failures).toEqual([]);
}, 300_000);

test('the fuzz reaches the routes with data: a real tunnel, its buckets and the drill-down answer 200', async () => {
  const window = `from=${bucketStart - 3_600_000}&to=${bucketStart + 3_600_000}`;
  for (const p of [
    `/api/v1/tunnels/${encodeURIComponent(tunnelId)}?${window}`,
    `/api/v1/tunnels/${encodeURIComponent(tunnelId)}/buckets?${window}&step=5m`,
    `/api/v1/tunnels/${encodeURIComponent(tunnelId)}/buckets/${bucketStart}/flows`,
    '/api/v1/reports/1?format=html',
  ]) {
    expect((await fetch(`${app.url}${p}`)).status).toBe(200);
  }
});

test('POST bodies of any shape to any route answer 4xx, never 5xx', async () => {
  const failures: string[] = [];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/api/v1/reports', '/api/v1/tunnels', '/api/v1/flows', '/'),
      fc.oneof(fc.json(), fc.string(), fc.constant('{"from":'), fc.constant('x'.repeat(100_000))),
      fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
      async (p, body, type) => {
        const res = await fetch(`${app.url}${p}`, {
          method: 'POST',
          body,
          headers: { 'content-type': type },
        });
        await res.arrayBuffer();
        if (res.status >= 500) failures.push(`${res.status} POST ${p} ${type} ${body.slice(0, 80)}`);
      },
    ),
    { numRuns: 150 },
  );
  expect(failures).toEqual([]);
}, 120_000);

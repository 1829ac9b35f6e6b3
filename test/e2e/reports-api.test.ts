import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import { getJson, start, tempDir, testConfig } from './helpers.js';

/**
 * The reports API on a running tunnelflow: a report made on demand is stored and listed,
 * and served in JSON, CSV and HTML with the right types; bad asks answer 400 saying what
 * to fix.
 */

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');
const peerA = '192.0.2.140';
const peerB = '198.51.100.150';
const from = '2024-03-12T09:00:00Z';
const to = '2024-03-12T09:06:00Z';

describe('GET/POST /api/v1/reports', () => {
  let app: Awaited<ReturnType<typeof start>>;
  const post = (body: unknown) =>
    fetch(`${app.url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    const dir = tempDir();
    const config = testConfig(
      dir,
      `tunnels:\n  - name: lossy path\n    peerA: ${peerA}\n    peerB: ${peerB}\n` +
        'reports:\n  - name: strict\n    highLossRatio: 0.001\n    consecutiveMinutes: 2\n    targets: { availability: 0.9999 }\n',
    );
    const common = { config: join(dir, 'tunnelflow.yaml'), db: config.store.path, quiet: true };
    await ingestCommand(join(CORPUS, 'd_loss_v4_tx', 'pmacct_ipfix.pcap'), { ...common, exporter: peerA });
    await ingestCommand(join(CORPUS, 'd_loss_v4_rx', 'pmacct_ipfix.pcap'), { ...common, exporter: peerB });
    app = await start(config);
  });
  afterAll(async () => app.stop());

  test('a report on demand is stored, listed newest first and served in every format', async () => {
    const res = await post({ from, to, tunnels: ['lossy path'], policy: 'strict' });
    expect(res.status).toBe(201);
    const created = (await res.json()) as {
      id: number;
      policy: string;
      links: Record<string, string>;
      report: {
        tunnels: { name: string; directions: { direction: string; lost: number; lossSource: string }[] }[];
      };
    };
    expect(res.headers.get('location')).toBe(`/api/v1/reports/${created.id}`);
    expect(created.policy).toBe('strict');
    expect(created.report.tunnels[0]!.directions.map((d) => [d.direction, d.lost, d.lossSource])).toEqual([
      ['a-b', 17, 'two-point'],
      ['b-a', 0, 'two-point'],
    ]);
    const second = (await (await post({ from, to })).json()) as { id: number };

    const list = await getJson<{ items: { id: number; policy: string }[]; nextCursor: string | null }>(
      `${app.url}/api/v1/reports?limit=1`,
    );
    expect(list.body.items.map((i) => i.id)).toEqual([second.id]);
    expect(list.body.nextCursor).not.toBeNull();
    const page2 = await getJson<{ items: { id: number }[]; nextCursor: string | null }>(
      `${app.url}/api/v1/reports?limit=1&cursor=${list.body.nextCursor}`,
    );
    expect(page2.body.items.map((i) => i.id)).toEqual([created.id]);
    expect(page2.body.nextCursor).toBeNull();
    const strict = await getJson<{ items: { id: number }[] }>(`${app.url}/api/v1/reports?policy=strict`);
    expect(strict.body.items.map((i) => i.id)).toEqual([created.id]);

    const json = await getJson<{ tunnels: unknown[] }>(`${app.url}${created.links.json}`);
    expect(json.type).toMatch(/^application\/json/);
    expect(json.body).toEqual(created.report);
    const csv = await fetch(`${app.url}${created.links.csv}`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(
      /^attachment; filename="?tunnelflow-report-strict-\d+\.csv"?$/,
    );
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(',lossy path,');
    const html = await fetch(`${app.url}${created.links.html}`);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-disposition')).toMatch(
      /^inline; filename="tunnelflow-report-strict-\d+\.html"$/,
    );
    expect(await html.text()).toContain('lossy path');
  });

  test.each([
    [{ from: to, to: from }, 'from', /before/],
    [{ from, to, tunnels: ['no such tunnel'] }, 'tunnels', /unknown tunnel 'no such tunnel'/],
    [{ from, to, policy: 'gold' }, 'policy', /unknown policy 'gold'; configured: default, strict/],
    [{ from: '2020-01-01', to: '2024-01-01' }, 'to', /at most 400 days/],
    [{ from: '2024-03-12T09:00', to }, 'from', /offset/],
    [{ from, to, color: 'red' }, 'body', /unrecognized key/i],
    [{ to }, 'from', /./],
  ])('POST %j answers 400 naming %s', async (body, parameter, message) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as { detail: string; parameter: string };
    expect(problem.parameter).toBe(parameter);
    expect(problem.detail).toMatch(message);
  });

  test('unknown ids and formats', async () => {
    expect((await fetch(`${app.url}/api/v1/reports/999999`)).status).toBe(404);
    expect((await fetch(`${app.url}/api/v1/reports/abc`)).status).toBe(404);
    expect((await fetch(`${app.url}/api/v1/reports/1?format=pdf`)).status).toBe(400);
  });
});

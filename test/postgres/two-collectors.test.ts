// Issue 10's acceptance test: two `tunnelflow run` processes on one PostgreSQL database.
// d_loss_v4 was exported near each tunnel peer; the tx capture (near a) goes to one
// collector and the rx capture (near b) to the other, from two loopback addresses, so each
// collector sees one observation point. The tunnel, its SAs and its buckets meet in the
// database (deterministic ids, additive upserts), and either process's API then shows the
// same two-point loss: the 17 packets lost a→b.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readCapture } from '../../collector/capture/read-capture.js';
import { sendDatagrams } from '../../collector/capture/send-datagrams.js';
import { eventually, getJson, tempDir } from '../e2e/helpers.js';
import { loopbackRunArgs } from '../helpers/run-args.js';
import { createDatabase } from '../helpers/test-store.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXPORTS = join(ROOT, 'test', 'fixtures', 'corpus', 'exports');
const peerA = '192.0.2.140';
const peerB = '198.51.100.150';
const from = Date.parse('2024-03-12T09:00:00Z');
const to = Date.parse('2024-03-12T09:06:00Z');

interface Running {
  readonly child: ChildProcess;
  readonly ipfixPort: number;
  readonly url: string;
  readonly stderr: string[];
}

function yaml(name: string): string {
  return [
    'collector:',
    `  name: ${name}`,
    'observationPoints:',
    `  - { exporter: 127.0.0.2, near: ${peerA} }`,
    `  - { exporter: 127.0.0.3, near: ${peerB} }`,
    'tunnels:',
    `  - { name: lossy path, peerA: ${peerA}, peerB: ${peerB} }`,
    '',
  ].join('\n');
}

async function run(dir: string, name: string, db: string): Promise<Running> {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, yaml(name));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'cli', 'main.ts'),
      ...loopbackRunArgs(db),
      '--config',
      config,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(String(chunk)));
  for await (const line of createInterface({ input: child.stdout! })) {
    const msg = JSON.parse(line) as { event?: string; ipfixPort?: number; http?: string };
    if (msg.event === 'listening') {
      return { child, ipfixPort: msg.ipfixPort!, url: `http://${msg.http}`, stderr };
    }
  }
  throw new Error(`tunnelflow run (${name}) ended before listening: ${stderr.join('')}`);
}

async function stop(r: Running): Promise<number | null> {
  if (r.child.exitCode !== null) return r.child.exitCode;
  const exited = new Promise<number | null>((resolve) => r.child.once('exit', (code) => resolve(code)));
  r.child.kill('SIGTERM');
  return exited;
}

interface LossItem {
  direction: string;
  lost: number;
  lossSource: string;
  completeness: { exporter: string }[];
}
interface TunnelItem {
  id: string;
  name: string;
  aToB: { lost: number };
  bToA: { lost: number };
}

describe('two collectors on one PostgreSQL database', () => {
  let east: Running;
  let west: Running;
  beforeAll(async () => {
    const dir = tempDir('tunnelflow-two-');
    const db = await createDatabase('two_collectors');
    // One after the other: the first migrates, the second finds the schema up to date.
    east = await run(dir, 'east', db);
    west = await run(dir, 'west', db);
    const capture = (scenario: string) =>
      readCapture(readFileSync(join(EXPORTS, scenario, 'softflowd_ipfix.pcap'))).datagrams;
    await sendDatagrams(capture('d_loss_v4_tx'), {
      host: '127.0.0.1',
      port: east.ipfixPort,
      source: '127.0.0.2',
    });
    await sendDatagrams(capture('d_loss_v4_rx'), {
      host: '127.0.0.1',
      port: west.ipfixPort,
      source: '127.0.0.3',
    });
  });
  afterAll(async () => {
    await Promise.all([east, west].filter((r) => r !== undefined).map(stop));
  });

  test('either API shows the 17 packets lost a→b as two-point loss, and one tunnel', async () => {
    const lossOf = async (r: Running) => {
      const res = await getJson<{ items: LossItem[] }>(`${r.url}/api/v1/loss?from=${from}&to=${to}`);
      return res.body.items;
    };
    // The writers commit within a flush interval of receipt.
    await eventually(async () => (await lossOf(east)).reduce((n, i) => n + i.lost, 0) === 17, 30_000);
    for (const r of [east, west]) {
      const items = await lossOf(r);
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) {
        expect(item).toMatchObject({ direction: 'a-b', lossSource: 'two-point' });
        expect(item.completeness.map((c) => c.exporter).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
      }
      expect(items.reduce((n, i) => n + i.lost, 0)).toBe(17);
      const tunnels = await getJson<{ items: TunnelItem[] }>(`${r.url}/api/v1/tunnels?from=${from}&to=${to}`);
      expect(tunnels.body.items).toHaveLength(1);
      expect(tunnels.body.items[0]).toMatchObject({
        name: 'lossy path',
        aToB: { lost: 17 },
        bToA: { lost: 0 },
      });
    }
  });

  test('each exporter is counted once, by the collector it sent to', async () => {
    const res = await getJson<{ items: Array<{ exporter: string; records: number }> }>(
      `${east.url}/api/v1/exporters`,
    );
    expect(res.body.items.map((e) => e.exporter).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
    for (const e of res.body.items) expect(e.records).toBeGreaterThan(0);
  });

  test('SIGTERM stops both with exit 0', async () => {
    expect(await stop(east)).toBe(0);
    expect(await stop(west)).toBe(0);
  });
});

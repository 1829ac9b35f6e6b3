import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import { readCapture } from '../../collector/capture/read-capture.js';
import { sendDatagrams } from '../../collector/capture/send-datagrams.js';
import type { CapturedDatagram } from '../../collector/capture/captured-datagram.js';
import { IE, dataRecord, dataSet, ipfixMessage, templateSet } from '../helpers/ipfix-builder.js';
import { eventually, getJson, start, tempDir, testConfig } from './helpers.js';
import { loopbackRunArgs } from '../helpers/run-args.js';
import { allStoredFlows } from '../../store/sqlite/flow-block-reader.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'corpus');
const EXPORTS = join(FIXTURES, 'exports');
const ROOT = join(import.meta.dirname, '..', '..');

/** What describes a stored flow (not its id or when it was received), one line per flow. */
function storedFlows(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return allStoredFlows(db)
      .map(({ id: _id, receivedMs: _receivedMs, ...flow }) => JSON.stringify(flow))
      .sort();
  } finally {
    db.close();
  }
}

function datagramsOf(scenario: string, exporter: string): CapturedDatagram[] {
  return readCapture(readFileSync(join(EXPORTS, scenario, `${exporter}.pcap`))).datagrams;
}

async function sendUdp(port: number, payloads: readonly Buffer[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  for (const p of payloads) {
    await new Promise<void>((resolve, reject) =>
      socket.send(p, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }
  socket.close();
}

describe('live collector over UDP and TCP on loopback', () => {
  // Every corpus capture of one exporter, scenario after scenario, over UDP to the NetFlow
  // port (v5, v9) or the IPFIX port, and over TCP for the IPFIX-over-TCP captures. The
  // stored flows must equal, column by column, what `tunnelflow ingest` of the same
  // captures stores (test/produce checks the decodes against tshark and nfdump).
  const scenarios = readdirSync(EXPORTS).filter((d) => !d.includes('.'));
  const exporters = readdirSync(join(EXPORTS, scenarios[0] as string))
    .filter((f) => f.endsWith('.pcap'))
    .map((f) => f.slice(0, -5));

  test.each(exporters)('replay of every %s capture stores the same flows as ingest', async (exporter) => {
    const liveDir = tempDir();
    const live = await start(testConfig(liveDir));
    try {
      let sent = 0;
      for (const scenario of scenarios) {
        const datagrams = datagramsOf(scenario, exporter);
        const port =
          datagrams[0]?.transport === 'tcp'
            ? live.ipfixTcpPort
            : datagrams[0]?.payload.readUInt16BE(0) === 10
              ? live.ipfixPort
              : live.netflowPort;
        await sendDatagrams(datagrams, { host: '127.0.0.1', port });
        sent += datagrams.length;
        // One capture at a time, as `ingest` reads them.
        await eventually(async () => {
          const ex = await getJson<{ items: { datagrams: number }[] }>(`${live.url}/api/v1/exporters`);
          return ex.body.items.reduce((n, e) => n + e.datagrams, 0) >= sent;
        });
      }
    } finally {
      await live.stop();
    }
    const offlineDir = tempDir();
    const offline = testConfig(offlineDir);
    for (const scenario of scenarios) {
      await ingestCommand(join(EXPORTS, scenario, `${exporter}.pcap`), {
        db: offline.store.path,
        config: join(offlineDir, 'tunnelflow.yaml'),
        quiet: true,
      });
    }
    const a = storedFlows(testConfig(liveDir).store.path);
    const b = storedFlows(offline.store.path);
    expect(a.length).toBeGreaterThan(100);
    expect(a).toEqual(b);
  });

  test('every malformed corpus datagram is counted, the collector stays up and decodes good data afterwards', async () => {
    const index = JSON.parse(readFileSync(join(FIXTURES, 'malformed', 'index.json'), 'utf8')) as {
      files: { file: string; family: string; expect: string }[];
    };
    const bad = index.files.filter((f) => f.expect !== 'accept');
    const app = await start(testConfig(tempDir()));
    try {
      await sendUdp(
        app.netflowPort,
        bad.map((f) => readFileSync(join(FIXTURES, 'malformed', f.file))),
      );
      await eventually(async () => {
        const ex = await getJson<{ items: { datagrams: number }[] }>(`${app.url}/api/v1/exporters`);
        return ex.body.items.reduce((n, e) => n + e.datagrams, 0) >= bad.length;
      });
      const ex = await getJson<{ items: { datagrams: number; issues: Record<string, number> }[] }>(
        `${app.url}/api/v1/exporters`,
      );
      const issues = ex.body.items.reduce(
        (n, e) => n + Object.values(e.issues).reduce((x, y) => x + y, 0),
        0,
      );
      // Each malformed datagram leaves at least one counted issue (a few carry several).
      expect(issues).toBeGreaterThanOrEqual(bad.length - 2);
      expect(ex.body.items.some((e) => (e.issues['internal-error'] ?? 0) > 0)).toBe(false);

      // Good data afterwards: a whole capture over the same port decodes and is stored.
      // (A few malformed files still carry decodable records, e.g. v9 with a wrong count.)
      const window = 'from=2024-03-12T09:00:00Z&to=2024-03-12T09:10:00Z&limit=10000';
      const before = (await getJson<{ items: unknown[] }>(`${app.url}/api/v1/flows?${window}`)).body.items
        .length;
      const good = datagramsOf('a_healthy_v4', 'pmacct_v9');
      await sendDatagrams(good, { host: '127.0.0.1', port: app.netflowPort });
      await eventually(async () => {
        const flows = await getJson<{ items: unknown[] }>(`${app.url}/api/v1/flows?${window}`);
        return flows.body.items.length === before + 16;
      });
      const health = await getJson<{ status: string }>(`${app.url}/api/v1/health`);
      expect(health.body.status).toBe('ok');
    } finally {
      await app.stop();
    }
  });

  test('a restart between a template and its data loses no record (templates are persisted)', async () => {
    const fields = [
      { id: IE.sourceIPv4Address, length: 4 },
      { id: IE.destinationIPv4Address, length: 4 },
      { id: IE.protocolIdentifier, length: 1 },
      { id: IE.packetDeltaCount, length: 8 },
      { id: IE.octetDeltaCount, length: 8 },
      { id: IE.flowStartMilliseconds, length: 8 },
      { id: IE.flowEndMilliseconds, length: 8 },
    ];
    const t0 = Date.parse('2024-03-12T09:00:00Z');
    const template = ipfixMessage({
      exportTimeSec: t0 / 1000,
      sequence: 0,
      domainId: 42,
      sets: [templateSet(400, fields)],
    });
    const records = Array.from({ length: 20 }, (_, i) =>
      dataRecord(fields, [
        '192.0.2.1',
        '198.51.100.2',
        50,
        10 + i,
        1400 * (10 + i),
        t0 + i * 1000,
        t0 + i * 1000 + 500,
      ]),
    );
    const data = ipfixMessage({
      exportTimeSec: t0 / 1000 + 30,
      sequence: 0,
      domainId: 42,
      sets: [dataSet(400, records)],
    });

    const dir = tempDir();
    const config = testConfig(dir);
    const first = await start(config);
    await sendUdp(first.ipfixPort, [template]);
    await eventually(async () => {
      const ex = await getJson<{ items: { templates: number }[] }>(`${first.url}/api/v1/exporters`);
      return ex.body.items.some((e) => e.templates === 1);
    });
    await first.stop();

    const second = await start(config);
    try {
      await sendUdp(second.ipfixPort, [data]);
      await eventually(async () => {
        const flows = await getJson<{ items: { packets: number }[] }>(
          `${second.url}/api/v1/flows?from=2024-03-12T09:00:00Z&to=2024-03-12T09:01:00Z&limit=100`,
        );
        return flows.body.items.length === 20;
      });
      // Counters survive the restart too (they reach the store once a second).
      type Row = { missingTemplateRecords: number; templates: number; datagrams: number };
      let rows: Row[] = [];
      await eventually(async () => {
        rows = (await getJson<{ items: Row[] }>(`${second.url}/api/v1/exporters`)).body.items;
        return rows[0]?.datagrams === 2;
      });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ missingTemplateRecords: 0, templates: 1, datagrams: 2 });
    } finally {
      await second.stop();
    }
  });
});

describe('the tunnelflow CLI', () => {
  test('run: SIGTERM flushes every accepted record, then exits 0', async () => {
    const dir = tempDir();
    const db = join(dir, 'cli.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...loopbackRunArgs(db), '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let port = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      const msg = JSON.parse(line) as { event?: string; ipfixPort?: number };
      if (msg.event === 'listening') {
        port = msg.ipfixPort as number;
        break;
      }
    }
    const datagrams = datagramsOf('h_multi_tunnel_mixed', 'pmacct_ipfix');
    await sendDatagrams(datagrams, { host: '127.0.0.1', port });
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Everything sent before SIGTERM is in the database: the same flows as an offline ingest.
    const offlineDir = tempDir();
    await ingestCommand(join(EXPORTS, 'h_multi_tunnel_mixed', 'pmacct_ipfix.pcap'), {
      db: join(offlineDir, 'o.db'),
      quiet: true,
    });
    const stored = storedFlows(db);
    expect(stored.length).toBeGreaterThan(100);
    expect(stored).toEqual(storedFlows(join(offlineDir, 'o.db')));
  });

  test.each([
    [['ingest', 'missing.pcap', '--db', '/tmp/x.db'], /cannot read missing\.pcap/],
    [['run', '--netflow-port', '70000'], /port number/],
    [['replay', 'x.pcap'], /--to/],
    [['run', '--config', '/nonexistent.yaml'], /cannot read the file/],
    [
      ['run', '--db', 'postgresql://tf:secret-pw@127.0.0.1:1/flows', '--http', '127.0.0.1:0'],
      /cannot connect to PostgreSQL at 127\.0\.0\.1:1: connection refused/,
    ],
    [
      ['report', '--from', '2024-03-12', '--to', '2024-03-13', '--db', 'mysql://x/y'],
      /wrong PostgreSQL URL: scheme mysql/,
    ],
  ])('%j fails with a clear message', async (args, pattern) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(err).toMatch(pattern);
    expect(err).not.toContain('secret-pw');
  });
});

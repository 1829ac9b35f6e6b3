// collector.allowedExporters: datagrams and TCP connections from anyone else are dropped
// before decoding (no template state, no exporter row) and counted per source.

import net from 'node:net';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readCapture } from '../../collector/capture/read-capture.js';
import { eventually, getJson, start, tempDir, testConfig } from './helpers.js';

const EXPORTS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');
const payloads = readCapture(readFileSync(join(EXPORTS, 'a_healthy_v4', 'pmacct_ipfix.pcap'))).datagrams.map(
  (d) => d.payload,
);

async function sendUdp(port: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  for (const p of payloads) {
    await new Promise<void>((resolve, reject) =>
      socket.send(p, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }
  socket.close();
}

/** Connects, sends every message, and resolves with how the connection ended. */
function sendTcp(port: number): Promise<'reset' | 'closed'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      for (const p of payloads) socket.write(p);
    });
    socket.on('error', () => resolve('reset'));
    socket.on('close', () => resolve('closed'));
  });
}

interface ExportersBody {
  items: { exporter: string; datagrams: number }[];
  refused: { source: string; datagrams: number; connections: number }[];
}

describe('exporter allowlist', () => {
  test('a source outside the list is refused before decoding and counted, over UDP and TCP', async () => {
    const app = await start(
      testConfig(tempDir(), 'collector:\n  allowedExporters: [192.0.2.0/24, 2001:db8::/32]\n'),
    );
    try {
      await sendUdp(app.ipfixPort);
      await eventually(async () => {
        const { body } = await getJson<ExportersBody>(`${app.url}/api/v1/exporters`);
        return body.refused[0]?.datagrams === payloads.length;
      });
      expect(await sendTcp(app.ipfixTcpPort)).toMatch(/reset|closed/);
      await eventually(async () => {
        const { body } = await getJson<ExportersBody>(`${app.url}/api/v1/exporters`);
        return body.refused[0]?.connections === 1;
      });
      await app.stack.writer.flush();
      const { body } = await getJson<ExportersBody>(`${app.url}/api/v1/exporters`);
      expect(body.items).toEqual([]);
      expect(body.refused).toEqual([
        { source: '127.0.0.1', datagrams: payloads.length, connections: 1, lastSeenMs: expect.any(Number) },
      ]);
      expect(app.stack.collector.templates.snapshot()).toEqual([]);
      expect(app.stack.writer.stats().written).toBe(0);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toContain(`tunnelflow_refused_datagrams_total{source="127.0.0.1"} ${payloads.length}`);
      expect(metrics).toContain('tunnelflow_refused_connections_total{source="127.0.0.1"} 1');
    } finally {
      await app.stop();
    }
  });

  test('a source inside the list is collected as usual; an empty list admits everyone', async () => {
    for (const yaml of ['collector:\n  allowedExporters: [127.0.0.1]\n', '']) {
      const app = await start(testConfig(tempDir(), yaml));
      try {
        await sendUdp(app.ipfixPort);
        await eventually(async () => {
          const { body } = await getJson<ExportersBody>(`${app.url}/api/v1/exporters`);
          return body.items[0]?.datagrams === payloads.length;
        });
        const { body } = await getJson<ExportersBody>(`${app.url}/api/v1/exporters`);
        expect(body.refused).toEqual([]);
      } finally {
        await app.stop();
      }
    }
  });

  test('a bad entry is a configuration error naming the key', () => {
    expect(() => testConfig(tempDir(), 'collector:\n  allowedExporters: [not-a-net]\n')).toThrow(
      /collector\.allowedExporters\.0.*"not-a-net" is not a subnet/s,
    );
  });
});

import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeIpfix } from '../../collector/wire/ipfix.js';
import type { DataRecord } from '../../collector/wire/data-record.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import { LiveCapture, parseTcpdumpStats } from '../../probe/live-capture.js';
import type { MetricsServer } from '../../probe/probe-metrics.js';
import { CaptureUnavailable, runProbe } from '../../probe/run-probe.js';
import type { ProbeSummary } from '../../probe/run-probe.js';

/**
 * Live capture end to end on `lo`: tcpdump (test/system/packages.txt) as the probe's child,
 * ESP-shaped packets with a known gap sent over loopback — ESP in UDP 4500 from a Node socket
 * (no raw socket needed) and IP protocol 50 from scapy (python3-scapy) — then the probe's IPFIX,
 * decoded, and its Prometheus endpoint while it runs. Skips, saying why, only when this process
 * may not capture at all.
 */

const exec = promisify(execFile);
const NATT_SPI = 0x4c1f0001;
const ESP_SPI = 0x4c1f0002;
/** Sequence numbers 1..300 of the NAT-T SA without these: 3 lost. */
const NATT_GAP = new Set([50, 51, 201]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function espPayload(spi: number, seq: number): Buffer {
  const b = Buffer.alloc(8 + 40, 0xab);
  b.writeUInt32BE(spi, 0);
  b.writeUInt32BE(seq, 4);
  return b;
}

/** Can this process capture on lo at all? (Only then is a skip honest.) */
async function capturePermission(): Promise<string | null> {
  const c = new LiveCapture({ interface: 'lo', filter: 'udp port 9', onData: () => undefined });
  try {
    await c.start();
    await c.stop();
    return null;
  } catch (err) {
    if (err instanceof CaptureUnavailable && /permission/i.test(err.message)) return err.message;
    throw err;
  }
}

describe('tcpdump stats lines', () => {
  test('both layouts (SIGUSR1 one line, exit three lines)', () => {
    const s = { captured: 0, receivedByFilter: 0, droppedByKernel: 0 };
    expect(
      parseTcpdumpStats(
        'tcpdump: 12 packets captured, 14 packets received by filter, 2 packets dropped by kernel\n',
        s,
      ),
    ).toBe(true);
    expect(s).toEqual({ captured: 12, receivedByFilter: 14, droppedByKernel: 2 });
    parseTcpdumpStats('30 packets captured\n31 packets received by filter\n1 packet dropped by kernel\n', s);
    expect(s).toEqual({ captured: 30, receivedByFilter: 31, droppedByKernel: 1 });
  });
});

describe('live capture on lo', () => {
  let skipReason: string | null = null;
  let summary: ProbeSummary | null = null;
  const records: DataRecord[] = [];
  let metricsText = '';

  beforeAll(async () => {
    skipReason = await capturePermission();
    if (skipReason !== null) {
      process.stdout.write(`live capture test skipped: ${skipReason}\n`);
      return;
    }
    const collector = dgram.createSocket('udp4');
    await new Promise<void>((r) => collector.bind(0, '127.0.0.1', () => r()));
    const cache = new TemplateCache({ now: () => 0 });
    collector.on('message', (m) => {
      for (const r of decodeIpfix(m, 'probe', cache).records) records.push(Object.assign({}, r));
    });
    const controller = new AbortController();
    let metrics: MetricsServer | null = null;
    let listening!: () => void;
    const started = new Promise<void>((r) => (listening = r));
    const run = runProbe({
      interface: 'lo',
      // Only the test's traffic: not the export datagrams, not other sessions' loopback use.
      filter: `(udp and dst host 127.0.0.77 and dst port 4500) or (ip proto 50 and dst host 127.0.0.78)`,
      exportHost: '127.0.0.1',
      exportPort: (collector.address() as { port: number }).port,
      transport: 'udp',
      observationDomainId: 9,
      activeTimeoutMs: 60_000,
      idleTimeoutMs: 15_000,
      windowSize: 1024,
      meterOther: false,
      metrics: { host: '127.0.0.1', port: 0 },
      onMetrics: (m) => (metrics = m),
      onListening: () => listening(),
      log: () => undefined,
      signal: controller.signal,
    });
    run.catch(() => listening());
    await started;
    // ESP in UDP 4500, 1..300 with a gap of three.
    const sender = dgram.createSocket('udp4');
    sender.on('error', () => undefined);
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
    for (let seq = 1; seq <= 300; seq++) {
      if (NATT_GAP.has(seq)) continue;
      await new Promise<void>((r) => sender.send(espPayload(NATT_SPI, seq), 4500, '127.0.0.77', () => r()));
      // Paced, so that the capture keeps up (its drops are reported, but here they would blur the test).
      if (seq % 10 === 0) await sleep(2);
    }
    sender.close();
    // IP protocol 50 from scapy: 1..100 without 10 and 11, 40 sent twice, 60 after 65.
    const script = `
import struct
from scapy.all import IP, Raw, send, conf
conf.verb = 0
order = [n for n in range(1, 101) if n not in (10, 11, 60)]
order.insert(order.index(65) + 1, 60)
order.insert(order.index(40) + 1, 40)
pkts = [IP(src='127.0.0.1', dst='127.0.0.78', proto=50) / Raw(struct.pack('!II', ${ESP_SPI}, n) + b'\\xcd' * 40) for n in order]
send(pkts, iface='lo', inter=0.001)
`;
    await exec('/usr/bin/python3', ['-c', script]);
    await sleep(1500);
    metricsText = await (await fetch(`http://127.0.0.1:${metrics!.port}/metrics`)).text();
    controller.abort();
    summary = await run;
    await sleep(300);
    collector.close();
  }, 60_000);

  afterAll(() => undefined);

  const sa = (spi: number) => records.filter((r) => r.spi === spi);

  test('NAT-T ESP from a Node socket: the gap of three is lost, nothing else', (ctx) => {
    if (skipReason !== null) return ctx.skip();
    const rs = sa(NATT_SPI);
    expect(rs.length).toBeGreaterThan(0);
    const sum = (f: (r: DataRecord) => number | null) => rs.reduce((n, r) => n + (f(r) ?? 0), 0);
    expect(sum((r) => r.packets)).toBe(300 - NATT_GAP.size);
    expect(sum((r) => r.espLostPackets)).toBe(NATT_GAP.size);
    expect(sum((r) => r.espDuplicatePackets)).toBe(0);
    expect(rs[0]).toMatchObject({ proto: 17, dstPort: 4500, dst: '127.0.0.77', espSeqFirst: 1 });
    expect(Math.max(...rs.map((r) => r.espSeqLast ?? 0))).toBe(300);
  });

  test('ESP (IP protocol 50) from scapy: 2 lost, 1 duplicate, 1 out of order', (ctx) => {
    if (skipReason !== null) return ctx.skip();
    const rs = sa(ESP_SPI);
    const sum = (f: (r: DataRecord) => number | null) => rs.reduce((n, r) => n + (f(r) ?? 0), 0);
    expect(sum((r) => r.packets)).toBe(99);
    expect(sum((r) => r.espLostPackets)).toBe(2);
    expect(sum((r) => r.espDuplicatePackets)).toBe(1);
    expect(sum((r) => r.espOutOfOrderPackets)).toBe(1);
    expect(rs[0]).toMatchObject({ proto: 50, src: '127.0.0.1', dst: '127.0.0.78' });
  });

  test('the summary and the Prometheus endpoint count what was captured', (ctx) => {
    if (skipReason !== null) return ctx.skip();
    expect(summary).toMatchObject({ espPackets: 99, nattEspPackets: 297, lost: 5, captureDrops: 0 });
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText)?.[1]);
    expect(value('tunnelflow_probe_packets_total')).toBe(396);
    expect(value('tunnelflow_probe_esp_packets_total')).toBe(99);
    expect(value('tunnelflow_probe_natt_esp_packets_total')).toBe(297);
    expect(value('tunnelflow_probe_sas_active')).toBe(2);
    expect(value('tunnelflow_probe_capture_drops_total')).toBe(0);
    expect(value('tunnelflow_probe_records_exported_total')).toBe(0);
  });
});

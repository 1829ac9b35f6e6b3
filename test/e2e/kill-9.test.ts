// kill -9 of `tunnelflow run` under a steady 100k records/s: at most the last second of
// records is lost, and the database opens and passes PRAGMA integrity_check, several times
// over on the same file (each start recovers the WAL the previous process left). "Lost"
// counts what tunnelflow had received (its decoded-records counter, polled while it runs):
// on a machine too busy for the collector to keep up, datagrams still waiting in the
// kernel's socket buffer were never accepted, and are a throughput matter, not durability.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { benchDataSets, benchTemplateSet } from '../bench/bench-datagrams.js';
import { ipfixMessage } from '../helpers/ipfix-builder.js';
import { tempDir } from './helpers.js';
import { loopbackRunArgs } from '../helpers/run-args.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const RATE = 100_000;
const PER_MESSAGE = 30;
const KILL_AFTER_MS = 3_000;

async function startRun(db: string): Promise<{ child: ChildProcess; port: number; http: string }> {
  const child = spawn(process.execPath, [MAIN, ...loopbackRunArgs(db)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const event = JSON.parse(line) as { event?: string; ipfixPort?: number; http?: string };
    if (event.event === 'listening') return { child, port: event.ipfixPort!, http: `http://${event.http}` };
  }
  throw new Error('tunnelflow run exited before listening');
}

/** Datagrams the kernel dropped for full UDP receive buffers, machine-wide (/proc/net/snmp). */
function udpReceiveBufferErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** Sends at RATE records/s until `stopAt`; returns when each cumulative count was reached. */
async function sendUntil(port: number, stopAt: number): Promise<Array<[ms: number, records: number]>> {
  const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
  const pool = benchDataSets(256, PER_MESSAGE, Date.now() - 60_000);
  const template = benchTemplateSet();
  const timeline: Array<[number, number]> = [];
  const started = Date.now();
  let sent = 0;
  let sequence = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = Date.now();
      if (now >= stopAt) return resolve();
      const due = Math.floor(((now - started) / 1000) * (RATE / PER_MESSAGE)) + 1;
      for (; sent < due; sent++) {
        const sets = sent % 64 === 0 ? [template, pool[sent % pool.length]!] : [pool[sent % pool.length]!];
        socket.send(
          ipfixMessage({ exportTimeSec: Math.floor(now / 1000), sequence, domainId: 1, sets }),
          port,
          '127.0.0.1',
        );
        sequence = (sequence + PER_MESSAGE) >>> 0;
      }
      timeline.push([Date.now(), sent * PER_MESSAGE]);
      setTimeout(tick, 1);
    };
    tick();
  });
  socket.close();
  return timeline;
}

/**
 * Polls the collector's decoded-records counter until it stops answering (the kill);
 * resolves once the first reading (before any record is sent) is in.
 */
async function pollDecoded(http: string): Promise<Array<[ms: number, records: number]>> {
  const timeline: Array<[number, number]> = [];
  let first: () => void = () => undefined;
  const firstIn = new Promise<void>((r) => (first = r));
  const poll = async () => {
    for (;;) {
      try {
        const text = await (await fetch(`${http}/metrics`)).text();
        const decoded = text
          .split('\n')
          .filter((l) => l.startsWith('tunnelflow_records_total{'))
          .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
        timeline.push([Date.now(), decoded]);
        first();
      } catch {
        first();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  void poll();
  await firstIn;
  return timeline;
}

function storedFlows(db: string): { count: number; integrity: string } {
  const sqlite = new Database(db);
  try {
    const integrity = sqlite.pragma('integrity_check', { simple: true }) as string;
    const { n } = sqlite.prepare('SELECT coalesce(sum(rows), 0) AS n FROM flow_blocks').get() as {
      n: number;
    };
    return { count: n, integrity };
  } finally {
    sqlite.close();
  }
}

test('kill -9 under 100k records/s loses at most the last second; the database stays sound', async () => {
  const db = join(tempDir(), 'kill9.db');
  let before = 0;
  for (let round = 0; round < 3; round++) {
    const { child, port, http } = await startRun(db);
    const decoded = await pollDecoded(http);
    const drops = udpReceiveBufferErrors();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const killAt = Date.now() + KILL_AFTER_MS;
    setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    const timeline = await sendUntil(port, killAt);
    await exited;
    const kernelDropped = (udpReceiveBufferErrors() - drops) * PER_MESSAGE;
    const { count, integrity } = storedFlows(db);
    expect(integrity).toBe('ok');
    const stored = count - before;
    const total = timeline.at(-1)![1];
    const lastSecond = killAt - 1_000;
    const sentBeforeLastSecond = timeline.filter(([ms]) => ms <= lastSecond).at(-1)?.[1] ?? 0;
    // The counter carries on from the last run (exporter counters persist): count from its first reading.
    const baseline = decoded[0]?.[1] ?? 0;
    const receivedBeforeLastSecond = (decoded.filter(([ms]) => ms <= lastSecond).at(-1)?.[1] ?? 0) - baseline;
    expect(total).toBeGreaterThan(RATE * 2);
    expect(stored).toBeLessThanOrEqual(total);
    expect(receivedBeforeLastSecond).toBeGreaterThan(0);
    // Everything received more than a second before the kill is in the database.
    expect(stored).toBeGreaterThanOrEqual(receivedBeforeLastSecond);
    console.info(
      `kill -9 round ${round}: sent ${total}, sent before the last second ${sentBeforeLastSecond}, kernel drops ${kernelDropped}, received before the last second ${receivedBeforeLastSecond}, stored ${stored}`,
    );
    before = count;
  }
}, 120_000);

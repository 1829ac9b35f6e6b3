// End-to-end benchmark: IPFIX over UDP on loopback → collector → storage, every record
// counted. For each collector (tunnelflow, and nfcapd side by side) the sending rate is
// raised step by step; the figure is the highest rate at which fewer than 0.1 % of the
// records sent failed to reach storage. The sender is its own process (udp-sender.ts).
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { loopbackRunArgs } from '../helpers/run-args.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const LOSS_LIMIT = 0.001;

export interface E2eResult {
  /** 'tunnelflow', 'nfcapd', or 'tunnelflow@<label>' for another checkout's build. */
  readonly collector: string;
  readonly rate: number;
  readonly sent: number;
  readonly stored: number;
  readonly lossRatio: number;
  readonly seconds: number;
  /**
   * CPU time the collector process spent per record sent, in µs, while the load ran
   * (all its threads; Linux only, else null). Steadier than the lossless rate on a busy
   * machine: compare it between versions at one rate.
   */
  readonly cpuUsPerRecord: number | null;
  /** The collector's peak resident memory (VmHWM) during the step, MiB. */
  readonly peakRssMb: number | null;
}

/** User + system CPU time of a process so far, in µs (Linux /proc; null elsewhere). */
/** Peak resident set size of a process so far (VmHWM), MiB; null when unknown. */
export function peakRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number((Number(match[1]) / 1024).toFixed(1));
  } catch {
    return null;
  }
}

export function processCpuUs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Where the collector and the sender run: both free (default), or each pinned to one CPU. */
export interface Placement {
  readonly collectorCpu?: number;
  /** Another checkout whose dist/ to run instead of this one's (before/after in one run). */
  readonly tunnelflowRoot?: string;
  readonly senderCpu?: number;
}

/** `command args` as given, or under `taskset -c CPU` (taskset execs it: the pid is the command's). */
function pinned(cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] {
  return cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(cpu), command, ...args]];
}

export function sendLoad(
  port: number,
  rate: number,
  seconds: number,
  placement: Placement = {},
): Promise<{ records: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ...pinned(placement.senderCpu, process.execPath, [
        '--import',
        'tsx',
        join(here, 'udp-sender.ts'),
        '--port',
        String(port),
        '--rate',
        String(rate),
        '--seconds',
        String(seconds),
      ]),
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`sender exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop() as string) as { records: number; seconds: number });
    });
  });
}

/** Sends the load, lets the collector drain for half a second, then stops it (SIGTERM flushes). */
async function loadThenStop(
  child: ChildProcess,
  port: number,
  rate: number,
  seconds: number,
  placement: Placement,
): Promise<{ records: number; seconds: number; cpuUs: number | null; peakRssMb: number | null }> {
  try {
    const cpuBefore = processCpuUs(child.pid);
    const sent = await sendLoad(port, rate, seconds, placement);
    const cpuAfter = processCpuUs(child.pid);
    await new Promise((r) => setTimeout(r, 500));
    return {
      ...sent,
      cpuUs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
      peakRssMb: peakRssMb(child.pid),
    };
  } finally {
    child.kill('SIGTERM');
    await waitExit(child);
  }
}

function stepResult(
  collector: E2eResult['collector'],
  rate: number,
  sent: { records: number; seconds: number; cpuUs: number | null; peakRssMb: number | null },
  stored: number,
): E2eResult {
  return {
    collector,
    rate,
    sent: sent.records,
    stored,
    lossRatio: 1 - stored / sent.records,
    seconds: sent.seconds,
    cpuUsPerRecord: sent.cpuUs === null ? null : Number((sent.cpuUs / sent.records).toFixed(2)),
    peakRssMb: sent.peakRssMb,
  };
}

export function waitExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

/**
 * `tunnelflow run` (compiled) on `db`: a SQLite file, or a PostgreSQL URL. `nodeArgs` go to
 * node before the script (e.g. `--cpu-prof`).
 */
export async function startTunnelflow(
  db: string,
  placement: Placement,
  nodeArgs: readonly string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    ...pinned(placement.collectorCpu, process.execPath, [
      ...nodeArgs,
      join(placement.tunnelflowRoot ?? root, 'dist', 'cli', 'main.js'),
      ...loopbackRunArgs(db),
      '--log-level',
      'warn',
    ]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    const msg = JSON.parse(line) as { event?: string; ipfixPort?: number };
    if (msg.event === 'listening') return { child, port: msg.ipfixPort as number };
  }
  throw new Error('tunnelflow did not start');
}

export async function measureTunnelflow(
  rate: number,
  seconds: number,
  placement: Placement = {},
  name = 'tunnelflow',
): Promise<E2eResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tunnelflow-bench-'));
  try {
    const { child, port } = await startTunnelflow(join(dir, 'bench.db'), placement);
    const sent = await loadThenStop(child, port, rate, seconds, placement);
    const db = new Database(join(dir, 'bench.db'), { readonly: true });
    // A build from before flow blocks (issue 11) stores a row per flow.
    const blocks = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'flow_blocks'").get() !== undefined;
    const count = blocks
      ? 'SELECT coalesce(sum(rows), 0) AS n FROM flow_blocks'
      : 'SELECT count(*) AS n FROM flows';
    const stored = (db.prepare(count).get() as { n: number }).n;
    db.close();
    return stepResult(name, rate, sent, stored);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function nfcapdAvailable(): boolean {
  try {
    execFileSync('nfcapd', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function measureNfcapd(
  rate: number,
  seconds: number,
  placement: Placement = {},
  port = 39_739,
): Promise<E2eResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nfcapd-bench-'));
  try {
    const child = spawn(
      ...pinned(placement.collectorCpu, 'nfcapd', [
        '-w',
        dir,
        '-p',
        String(port),
        '-b',
        '127.0.0.1',
        '-B',
        String(32 << 20),
        '-t',
        '3600',
      ]),
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 700));
    const sent = await loadThenStop(child, port, rate, seconds, placement);
    const files = readdirSync(dir).filter((f) => f.startsWith('nfcapd.'));
    let stored = 0;
    for (const f of files) {
      const out = execFileSync('nfdump', ['-r', join(dir, f), '-I'], { encoding: 'utf8' });
      stored += Number(/^Flows:\s+(\d+)/m.exec(out)?.[1] ?? 0);
    }
    return stepResult('nfcapd', rate, sent, stored);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Raises the rate until loss passes 0.1 %; returns every step and the best lossless rate.
 * With `repeat` > 1 each rate is measured that many times and counts as lossless only
 * if every run was: one good run at the edge proves little on a shared machine.
 */
export async function ramp(
  measure: (rate: number, seconds: number) => Promise<E2eResult>,
  rates: readonly number[],
  seconds: number,
  onStep: (r: E2eResult) => void,
  repeat = 1,
): Promise<{ steps: E2eResult[]; bestLosslessRate: number }> {
  const steps: E2eResult[] = [];
  let best = 0;
  for (const rate of rates) {
    let lossless = true;
    for (let run = 0; run < repeat && lossless; run += 1) {
      const r = await measure(rate, seconds);
      steps.push(r);
      onStep(r);
      if (r.lossRatio >= LOSS_LIMIT) lossless = false;
    }
    if (!lossless) break;
    best = rate;
  }
  return { steps, bestLosslessRate: best };
}

/**
 * Both collectors in one run, rate by rate in turn (tunnelflow, then nfcapd, at each rate),
 * so that a drift of the machine's speed hits both alike. A collector leaves the race at
 * its first rate that is not lossless (every run of `repeat` must be).
 */
export async function rampSideBySide(
  collectors: ReadonlyArray<{
    readonly name: E2eResult['collector'];
    readonly measure: (rate: number, seconds: number) => Promise<E2eResult>;
  }>,
  rates: readonly number[],
  seconds: number,
  onStep: (r: E2eResult) => void,
  repeat = 1,
): Promise<Record<string, number>> {
  const best: Record<string, number> = Object.fromEntries(collectors.map((c) => [c.name, 0]));
  const racing = new Set(collectors.map((c) => c.name));
  for (const rate of rates) {
    if (racing.size === 0) break;
    for (const c of collectors) {
      if (!racing.has(c.name)) continue;
      let lossless = true;
      for (let run = 0; run < repeat && lossless; run += 1) {
        const r = await c.measure(rate, seconds);
        onStep(r);
        if (r.lossRatio >= LOSS_LIMIT) lossless = false;
      }
      if (lossless) best[c.name] = rate;
      else racing.delete(c.name);
    }
  }
  return best;
}

/** Raises net.core.rmem_max to `bytes` when it is lower and we may (root); undo() puts it back. */
export function raiseReceiveBufferCap(bytes: number): { info: Record<string, unknown>; undo(): void } {
  const file = '/proc/sys/net/core/rmem_max';
  try {
    const before = Number(readFileSync(file, 'utf8').trim());
    if (before >= bytes) return { info: { rmemMax: before }, undo: () => {} };
    writeFileSync(file, String(bytes));
    return {
      info: { rmemMax: bytes, was: before },
      undo: () => writeFileSync(file, String(before)),
    };
  } catch (err) {
    return { info: { rmemMax: 'unchanged', reason: (err as Error).message }, undo: () => {} };
  }
}

// Live capture through Debian's tcpdump as a child process (no native binding to maintain):
// `tcpdump -U --immediate-mode --time-stamp-precision=nano -w -` writes a pcap stream to its
// stdout, packet by packet, which feeds the same reader as a file. tcpdump prints its kernel
// counters on stderr when it gets SIGUSR1 (one line) and when it ends (three lines); both are
// parsed, so drops are reported while the probe runs.

import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface CaptureStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
}

/** Why live capture could not start: the probe prints one line and exits 2. */
export class CaptureUnavailable extends Error {}

export interface LiveCaptureOptions {
  readonly interface: string;
  readonly filter?: string;
  readonly tcpdump?: string;
  /** Called with every chunk of the pcap stream. */
  readonly onData: (chunk: Buffer) => void;
}

const STATS_LINE =
  /(\d+) packets? captured,\s*(\d+) packets? received by filter,\s*(\d+) packets? dropped by kernel/;

/** Reads the counters out of tcpdump's stderr text, either layout. */
export function parseTcpdumpStats(text: string, into: CaptureStats): boolean {
  let found = false;
  for (const m of text.matchAll(new RegExp(STATS_LINE, 'g'))) {
    into.captured = Number(m[1]);
    into.receivedByFilter = Number(m[2]);
    into.droppedByKernel = Number(m[3]);
    found = true;
  }
  const captured = /^(\d+) packets? captured$/m.exec(text);
  const received = /^(\d+) packets? received by filter$/m.exec(text);
  const dropped = /^(\d+) packets? dropped by kernel$/m.exec(text);
  if (captured && received && dropped) {
    into.captured = Number(captured[1]);
    into.receivedByFilter = Number(received[1]);
    into.droppedByKernel = Number(dropped[1]);
    found = true;
  }
  return found;
}

export class LiveCapture {
  readonly stats: CaptureStats = { captured: 0, receivedByFilter: 0, droppedByKernel: 0 };
  #child: ChildProcessByStdio<null, Readable, Readable> | null = null;
  #stderr = '';
  #exited: Promise<number | null> | null = null;

  constructor(private readonly options: LiveCaptureOptions) {}

  /** Starts tcpdump and resolves once it listens; CaptureUnavailable when it cannot. */
  async start(): Promise<void> {
    const o = this.options;
    // -B: a kernel buffer of 8 MiB (KiB units) rides out bursts while Node is busy elsewhere.
    const args = [
      '-U',
      '--immediate-mode',
      '--time-stamp-precision=nano',
      '-B',
      '8192',
      '-w',
      '-',
      '-i',
      o.interface,
    ];
    if (o.filter !== undefined && o.filter !== '') args.push(o.filter);
    const child = spawn(o.tcpdump ?? 'tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout.on('data', (chunk: Buffer) => o.onData(chunk));
    this.#exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        if (err) reject(err);
        else resolve();
      };
      child.once('error', (err: NodeJS.ErrnoException) => {
        finish(
          new CaptureUnavailable(
            err.code === 'ENOENT'
              ? `tcpdump not found (${o.tcpdump ?? 'tcpdump'}): install Debian's tcpdump package`
              : `cannot run tcpdump: ${err.message}`,
          ),
        );
      });
      child.stderr.on('data', (chunk: Buffer) => {
        this.#stderr += chunk.toString('utf8');
        if (this.#stderr.length > 65536) this.#stderr = this.#stderr.slice(-8192);
        parseTcpdumpStats(this.#stderr, this.stats);
        if (/listening on /.test(this.#stderr)) finish();
      });
      child.once('close', (code) => {
        const last = lastErrorLine(this.#stderr);
        finish(
          new CaptureUnavailable(
            /permission|not permitted/i.test(this.#stderr)
              ? `no permission to capture on ${o.interface} (run as root or give tcpdump CAP_NET_RAW): ${last}`
              : `tcpdump exited with code ${code}: ${last}`,
          ),
        );
      });
    });
  }

  /** Asks tcpdump for its counters (they arrive on stderr shortly after). */
  requestStats(): void {
    this.#child?.kill('SIGUSR1');
  }

  /** Stops tcpdump and waits for its last counters and bytes. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await this.#exited;
    parseTcpdumpStats(this.#stderr, this.stats);
    this.#child = null;
  }

  /** Resolves when tcpdump ends by itself (interface gone, killed). */
  exited(): Promise<number | null> {
    return this.#exited ?? Promise.resolve(null);
  }
}

function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/packets? (captured|received|dropped)/.test(l));
  return lines[lines.length - 1] ?? 'no message';
}

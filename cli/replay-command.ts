import { readFile } from 'node:fs/promises';
import { readCapture } from '../collector/capture/read-capture.js';
import { sendDatagrams } from '../collector/capture/send-datagrams.js';
import { parseHostPort } from './host-port.js';
import { progressLine } from './progress.js';

export interface ReplayOptions {
  readonly to: string;
  readonly rate?: number;
  readonly port?: number;
  readonly source?: string;
  readonly quiet?: boolean;
}

/** `tunnelflow replay FILE --to HOST:PORT`: the capture's export datagrams, unchanged, in file order. */
export async function replayCommand(file: string, opts: ReplayOptions): Promise<void> {
  const { host, port } = parseHostPort(opts.to);
  const capture = readCapture(await readFile(file), opts.port === undefined ? {} : { ports: [opts.port] });
  const issues = Object.entries(capture.issueCounts);
  if (issues.length > 0) {
    process.stderr.write(`${file}: ${issues.map(([k, n]) => `${n} ${k}`).join(', ')} (skipped)\n`);
  }
  if (capture.datagrams.length === 0) {
    process.stderr.write(`${file}: no export datagrams found (${capture.frames} frames read)\n`);
    process.exitCode = 1;
    return;
  }
  const progress = opts.quiet ? undefined : progressLine('replay');
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await sendDatagrams(capture.datagrams, {
      host,
      port,
      ...(opts.rate === undefined ? {} : { rate: opts.rate }),
      ...(opts.source === undefined ? {} : { source: opts.source }),
      ...(progress
        ? { onProgress: (sent: number, total: number) => progress.update(sent, total, 'datagrams') }
        : {}),
      signal: abort.signal,
    });
    progress?.done();
    process.stderr.write(
      `sent ${result.sent} datagrams to ${opts.to}${result.tcpMessages > 0 ? ` (${result.tcpMessages} IPFIX messages over TCP)` : ''}\n`,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

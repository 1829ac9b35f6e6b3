import { createReadStream, statSync } from 'node:fs';
import { IPFIX_TCP_PORT } from '../collector/capture/index.js';
import { readCaptureStream } from '../collector/capture/read-capture-stream.js';
import { canonicalAddress } from '../model/address-parse.js';
import { startCollectorStack } from './compose.js';
import { createLogger } from './logger.js';
import { progressLine } from './progress.js';
import { resolveConfig } from './resolve-config.js';
import type { ConfigOverrides } from './resolve-config.js';

export interface IngestOptions extends ConfigOverrides {
  readonly exporter?: string;
  readonly port?: number;
  readonly quiet?: boolean;
}

/**
 * `tunnelflow ingest FILE`: every export datagram of a capture, decoded and normalized
 * as if it had arrived live, written straight into the store. The store is waited for
 * (backpressure), never dropped from, so the result is complete however large the file.
 */
export async function ingestCommand(file: string, opts: IngestOptions): Promise<void> {
  const config = resolveConfig(opts);
  const log = createLogger('warn');
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const exporter = opts.exporter === undefined ? undefined : canonicalExporter(opts.exporter);
  const stack = await startCollectorStack(config, log, { listen: false });
  const { collector, writer } = stack;
  const progress = opts.quiet ? undefined : progressLine(`ingest ${file}`);
  let datagrams = 0;
  let flowsBefore = writer.stats().written;
  const issueCounts: Record<string, number> = {};
  let frames = 0;
  let notIpfix = 0;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // TCP streams to these ports are IPFIX (RFC 7011 §10.4); others only when they start
    // with an IPFIX header (BGP or BMP beside the export is skipped, counted as not IPFIX).
    const ipfixTcpPorts = [IPFIX_TCP_PORT, config.collector.ipfixPort];
    const options = opts.port === undefined ? { ipfixTcpPorts } : { ports: [opts.port], ipfixTcpPorts };
    for await (const batch of readCaptureStream(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      options,
    )) {
      for (const d of batch.datagrams) {
        // Retention counts from receipt: an old capture ingested today is kept for the
        // whole window, so the receive time is now, not the capture time.
        await collector.handleOffline(d.payload, exporter ?? d.src, Date.now(), d.transport);
        datagrams += 1;
      }
      frames = batch.frames;
      if (batch.final) {
        Object.assign(issueCounts, batch.reader.issueCounts);
        notIpfix = batch.reader.notIpfixStreams;
      }
      progress?.update(batch.bytesRead, size, 'bytes', `${datagrams} datagrams`);
      if (interrupted) break;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress?.done();
    await stack.stop();
  }
  const stored = writer.stats().written - flowsBefore;
  flowsBefore = 0;
  const issues = Object.entries(issueCounts);
  const exporters = collector.counters.all().filter((c) => c.datagrams > 0);
  const decodeIssues = exporters.reduce((n, c) => n + Object.values(c.issues).reduce((a, b) => a + b, 0), 0);
  if (!opts.quiet || interrupted || datagrams === 0)
    process.stderr.write(
      `${interrupted ? 'interrupted: ' : ''}${file}: ${frames} frames, ${datagrams} export datagrams, ${stored} flows stored` +
        `${decodeIssues > 0 ? `, ${decodeIssues} decode issues (see /api/v1/exporters)` : ''}` +
        `${notIpfix > 0 ? `, ${notIpfix} TCP streams not IPFIX (skipped)` : ''}` +
        `${issues.length > 0 ? `; capture issues: ${issues.map(([k, n]) => `${n} ${k}`).join(', ')}` : ''}\n`,
    );
  // A valid capture without export datagrams is a valid answer (softflowd v5 on an
  // IPv6-only network exports nothing): the line above says "0 export datagrams". A file
  // that is no capture at all is the user's mistake, and an error.
  if (
    frames === 0 &&
    ((issueCounts['unknown-format'] ?? 0) > 0 || (issueCounts['truncated-file'] ?? 0) > 0)
  ) {
    throw new Error(`${file} is not a pcap or pcapng capture (nothing was stored)`);
  }
}

/** The exporter key as the collector writes addresses (model/address-text.ts). */
function canonicalExporter(text: string): string {
  const canonical = canonicalAddress(text.trim());
  if (canonical === null) throw new Error(`--exporter: "${text}" is not an IPv4 or IPv6 address`);
  return canonical;
}

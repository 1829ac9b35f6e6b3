import { parseHostPort } from './host-port.js';
import { isCaptureUnavailable, runProbe } from '../probe/run-probe.js';
import type { ExportTransport } from '../probe/ipfix-exporter.js';

export interface ProbeCommandOptions {
  readonly pcap?: string;
  readonly interface?: string;
  readonly export: string;
  readonly transport: ExportTransport;
  readonly observationDomain: number;
  readonly activeTimeout: number;
  readonly idleTimeout: number;
  readonly window: number;
  readonly filter?: string;
  readonly allTraffic?: boolean;
  readonly metrics?: string;
  readonly tcpdump?: string;
  readonly quiet?: boolean;
}

/**
 * `tunnelflow probe (--pcap FILE | --interface IF) --export HOST:PORT`: meters ESP into per-SA
 * flows with sequence-number loss and exports them as IPFIX. Exit 2 when live capture is not
 * possible (no tcpdump, no permission), with one line saying why.
 */
export async function probeCommand(opts: ProbeCommandOptions): Promise<void> {
  if ((opts.pcap === undefined) === (opts.interface === undefined)) {
    process.stderr.write('tunnelflow probe: give exactly one of --pcap FILE and --interface IF\n');
    process.exitCode = 2;
    return;
  }
  const target = parseHostPort(opts.export);
  const metrics = opts.metrics === undefined ? undefined : parseHostPort(opts.metrics);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runProbe({
      ...(opts.pcap !== undefined ? { pcap: opts.pcap } : {}),
      ...(opts.interface !== undefined ? { interface: opts.interface } : {}),
      ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
      ...(opts.tcpdump !== undefined ? { tcpdump: opts.tcpdump } : {}),
      ...(metrics !== undefined ? { metrics } : {}),
      exportHost: target.host,
      exportPort: target.port,
      transport: opts.transport,
      observationDomainId: opts.observationDomain,
      activeTimeoutMs: opts.activeTimeout * 1000,
      idleTimeoutMs: opts.idleTimeout * 1000,
      windowSize: opts.window,
      meterOther: opts.allTraffic === true,
      log: (line) => {
        if (opts.quiet !== true || line.startsWith('probe done')) process.stderr.write(`${line}\n`);
      },
      onMetrics: (server) => {
        if (opts.quiet !== true) process.stderr.write(`probe: metrics on port ${server.port}\n`);
      },
      onListening: () => {
        if (opts.quiet !== true) process.stderr.write(`probe: capturing on ${opts.interface}\n`);
      },
      signal: controller.signal,
    });
  } catch (err) {
    if (isCaptureUnavailable(err)) {
      process.stderr.write(`tunnelflow probe: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

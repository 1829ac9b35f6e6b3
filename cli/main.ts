#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiConfigError } from '../api/auth.js';
import { ConfigError } from './load-config.js';
import { UsageError } from './usage-error.js';
import { VERSION } from './version.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function hostPort(value: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(value)) {
    throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080');
  }
  return value;
}

const program = new Command()
  .name('tunnelflow')
  .description('NetFlow/IPFIX collector and flow store that understands IPsec tunnels')
  .version(VERSION)
  .showHelpAfterError('(add --help for usage)');

const configOption = () =>
  new Option('-c, --config <file>', 'YAML configuration file').env('TUNNELFLOW_CONFIG');
const dbOption = () =>
  new Option(
    '--db <file|url>',
    'SQLite database file (default ./data/tunnelflow.db) or postgresql://user:pass@host:port/db',
  ).env('TUNNELFLOW_DB');

program
  .command('run')
  .description('collector, store, HTTP API and web page in one process (SIGTERM/SIGINT flush, then exit 0)')
  .addOption(configOption())
  .addOption(dbOption())
  .addOption(
    new Option('--netflow-port <port>', 'UDP port for NetFlow v5/v9 and IPFIX (default 2055)')
      .argParser(port)
      .env('TUNNELFLOW_NETFLOW_PORT'),
  )
  .addOption(
    new Option('--ipfix-port <port>', 'UDP and TCP port for IPFIX (default 4739)')
      .argParser(port)
      .env('TUNNELFLOW_IPFIX_PORT'),
  )
  .addOption(
    new Option('--http <host:port>', 'HTTP API address (default 127.0.0.1:8080)')
      .argParser(hostPort)
      .env('TUNNELFLOW_HTTP'),
  )
  .addOption(
    new Option('--listen <address>', 'address the flow listeners bind to (default 0.0.0.0)').env(
      'TUNNELFLOW_LISTEN',
    ),
  )
  .addOption(
    new Option('--log-level <level>', 'log level')
      .choices(['debug', 'info', 'warn', 'error'])
      .env('TUNNELFLOW_LOG_LEVEL'),
  )
  .option(
    '--dump-config',
    'print the effective configuration (defaults, file, environment and flags merged) and exit',
  )
  .action(async (opts) => {
    const { runCommand } = await import('./run-command.js');
    await runCommand(opts);
  });

program
  .command('ingest')
  .description(
    'decode the export datagrams of a capture (pcap/pcapng; UDP, and TCP for IPFIX) straight into the store',
  )
  .argument('<file>', 'capture file (.pcap or .pcapng)')
  .addOption(configOption())
  .addOption(dbOption())
  .addOption(
    new Option('--exporter <address>', 'count every datagram as sent by this exporter address').env(
      'TUNNELFLOW_EXPORTER',
    ),
  )
  .option(
    '--port <port>',
    'only datagrams sent to this UDP/TCP port (default: every export datagram found)',
    port,
  )
  .option('--quiet', 'no progress output')
  .action(async (file: string, opts) => {
    const { ingestCommand } = await import('./ingest-command.js');
    await ingestCommand(file, opts);
  });

program
  .command('replay')
  .description("send a capture's export datagrams, unchanged, to a collector")
  .argument('<file>', 'capture file (.pcap or .pcapng)')
  .requiredOption('--to <host:port>', 'collector address, e.g. 127.0.0.1:2055', hostPort)
  .option('--rate <n>', 'datagrams per second (default: as fast as the socket allows)', positive)
  .option('--port <port>', 'only datagrams sent to this port in the capture', port)
  .option(
    '--source <addr>',
    'send from this local address, the exporter the collector sees (e.g. 127.0.0.2 on loopback)',
  )
  .option('--quiet', 'no progress output')
  .action(async (file: string, opts) => {
    const { replayCommand } = await import('./replay-command.js');
    await replayCommand(file, opts);
  });

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer ${min}-${max}`);
    return n;
  };
}

program
  .command('probe')
  .description(
    'meter IPsec traffic (ESP, NAT-T ESP in UDP 4500) from a capture file or an interface into per-SA flows with ESP sequence-number loss, and export them as IPFIX',
  )
  .option('--pcap <file>', 'read a capture file (pcap/pcapng)')
  .option('--interface <if>', 'capture live on this interface (runs tcpdump; needs capture permission)')
  .requiredOption('--export <host:port>', 'IPFIX collector, e.g. 127.0.0.1:4739', hostPort)
  .addOption(new Option('--transport <transport>', 'IPFIX transport').choices(['udp', 'tcp']).default('udp'))
  .option('--observation-domain <n>', 'IPFIX observation domain id', integer(0, 2 ** 32 - 1), 1)
  .option('--active-timeout <s>', 'export long flows every this many seconds', positive, 60)
  .option('--idle-timeout <s>', 'end a flow after this many seconds without packets', positive, 15)
  .option(
    '--window <n>',
    'ESP sequence window per SA (RFC 4303 anti-replay style): numbers are lost once they leave it unseen',
    integer(32, 1 << 24),
    1024,
  )
  .option('--filter <bpf>', 'BPF filter for live capture (tcpdump syntax)')
  .option(
    '--all-traffic',
    "also meter non-IPsec traffic as 5-tuple flows (the probe as a site's only exporter)",
  )
  .option('--metrics <host:port>', 'serve Prometheus metrics on GET /metrics at this address', hostPort)
  .option('--tcpdump <path>', 'tcpdump binary for live capture (default: tcpdump on PATH)')
  .option('--quiet', 'only the final summary line on stderr')
  .addHelpText(
    'after',
    `
Exports per SA flow: IE 295 ipSecSPI, addresses, ports (NAT-T), packets, octets, start/end (ms),
and tunnelflow's elements (PEN 32473, described by RFC 5610 type records): first/last sequence
number, lost, duplicates, out of order, IP fragments, generation. IKE (UDP 500, and 4500 behind
the non-ESP marker) and NAT-keepalives are flows of their own (SPI 0 on the NAT-T port).

Examples:
  tunnelflow probe --pcap tap.pcap --export 127.0.0.1:4739
  tunnelflow probe --interface eth1 --filter 'esp or udp port 500 or udp port 4500' \\
    --export 192.0.2.5:4739 --transport tcp --metrics 127.0.0.1:9465

Exit status: 0 done, 1 error, 2 live capture not possible (no tcpdump, no permission).`,
  )
  .action(async (opts) => {
    const { probeCommand } = await import('./probe-command.js');
    await probeCommand(opts);
  });

program
  .command('report')
  .description(
    'SLA report per tunnel: availability (MEF 10.3), loss per direction, coverage; to stdout by default',
  )
  .requiredOption('--from <time>', 'start: ISO 8601 with offset, a date (UTC), epoch ms, now, or -24h / -7d')
  .requiredOption('--to <time>', 'end (exclusive), same forms as --from')
  .option(
    '--tunnel <id>',
    "a tunnel id or name (repeat for several; default: the policy's tunnels, or all)",
    collect,
    [],
  )
  .addOption(
    new Option('--format <format>', 'output format').choices(['json', 'csv', 'html']).default('json'),
  )
  .option('--policy <name>', 'a report policy of the configuration (targets, thresholds, maintenance)')
  .option('--out <file>', 'write to this file (atomically) instead of stdout')
  .option('--save', 'also store the run in the database (listed by GET /api/v1/reports)')
  .addOption(configOption())
  .addOption(dbOption())
  .action(async (opts) => {
    const { reportCommand } = await import('./report-command.js');
    await reportCommand(opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError || err instanceof ApiConfigError || err instanceof UsageError) {
    process.stderr.write(`tunnelflow: ${err.message}\n`);
    process.exit(2);
  }
  const e = err as Error & { code?: string };
  process.stderr.write(`tunnelflow: ${e.message}\n`);
  process.exit(1);
}

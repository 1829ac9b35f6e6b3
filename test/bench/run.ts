// `npm run bench`: every benchmark, one after the other, each printing JSON lines, then a
// summary against the targets of the collector-foundation issue. Throughput is measured
// here, never in timed tests. Options: --only decode|pipeline|store|predicate|reports|probe|e2e|postgres|profile|queries|stages-ab, --seconds N (e2e step
// length), --quick (fewer e2e steps), --repeat N (e2e runs per rate, all must be lossless),
// --one-core (e2e: each collector pinned to CPU 0, the sender to CPU 1, tunnelflow and nfcapd
// in turn at every rate of one run); for --only queries: --flows N (stored flows, 50 M by
// default), --queries N (per kind), --db FILE (reuse a filled store), --keep; --before DIR
// (e2e --one-core and stages-ab: another checkout to compare with in the same run).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  measureNfcapd,
  measureTunnelflow,
  nfcapdAvailable,
  raiseReceiveBufferCap,
  ramp,
  rampSideBySide,
} from './e2e.js';
import type { E2eResult } from './e2e.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    seconds: { type: 'string', default: '4' },
    quick: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    'one-core': { type: 'boolean', default: false },
    flows: { type: 'string' },
    queries: { type: 'string' },
    db: { type: 'string' },
    keep: { type: 'boolean', default: false },
    before: { type: 'string' },
  },
});

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const only = values.only;
const stepSeconds = Number(values.seconds);
const repeat = Math.max(1, Math.trunc(Number(values.repeat)) || 1);
const summary: Record<string, unknown> = {};
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function runScript(name: string, file: string, args: readonly string[] = []): Promise<void> {
  // Each micro-benchmark runs in its own process (one core, a fresh heap, no JIT state
  // shared with the others); its last JSON lines are its results.
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'test', 'bench', file), ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    },
  );
  const lines = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const l of lines) print({ bench: name, ...l });
  summary[name] = lines;
}

if (only === undefined || only === 'decode') await runScript('decode', 'decode.ts');
if (only === undefined || only === 'pipeline') await runScript('pipeline', 'pipeline.ts');
if (only === undefined || only === 'store') await runScript('store', 'store.ts');
if (only === undefined || only === 'predicate') await runScript('predicate', 'predicate.ts');
if (only === undefined || only === 'reports') await runScript('reports', 'reports.ts');
if (only === undefined || only === 'probe') await runScript('probe', 'probe.ts');
// Not in the default run: a CPU profile of the collector per stage on one pinned core (issue 11).
if (only === 'profile') {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
  await runScript('profile', 'profile.ts', ['--seconds', String(stepSeconds)]);
}
// Not in the default run: it fills a store with 50 M flows (minutes), then times the API's
// drill-down and /flows queries over HTTP (issue 11).
if (only === 'stages-ab') {
  if (values.before === undefined) throw new Error('--only stages-ab needs --before DIR (another checkout)');
  await runScript('stages-ab', 'stages-ab.ts', ['--before', values.before]);
}

if (only === 'queries')
  await runScript('queries', 'queries.ts', [
    ...(values.flows === undefined ? [] : ['--flows', values.flows]),
    ...(values.queries === undefined ? [] : ['--queries', values.queries]),
    ...(values.db === undefined ? [] : ['--db', values.db]),
    ...(values.keep ? ['--keep'] : []),
  ]);
// Not in the default run: it starts a PostgreSQL cluster of its own (and needs Debian's postgresql).
if (only === 'postgres')
  await runScript('postgres', 'postgres.ts', [
    '--seconds',
    String(stepSeconds),
    ...(values.quick ? ['--quick'] : []),
  ]);

if ((only === undefined || only === 'e2e') && values['one-core']) {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
  if (!nfcapdAvailable()) throw new Error('--one-core compares with nfcapd: apt-get install nfdump');
  const placement = { collectorCpu: 0, senderCpu: 1 };
  const rates = values.quick
    ? [50_000, 100_000, 300_000, 1_000_000, 3_000_000]
    : [
        25_000, 50_000, 75_000, 100_000, 150_000, 200_000, 300_000, 400_000, 500_000, 750_000, 1_000_000,
        1_500_000, 2_000_000, 3_000_000,
      ];
  const restore = raiseReceiveBufferCap(32 << 20);
  print({
    bench: 'e2e-one-core',
    note: 'collector on CPU 0, sender on CPU 1; net.core.rmem_max',
    ...restore.info,
  });
  const best = await rampSideBySide(
    [
      { name: 'tunnelflow', measure: (r, s) => measureTunnelflow(r, s, placement) },
      // --before DIR: another checkout's build (npm ci && npm run build there) in the same run.
      ...(values.before === undefined
        ? []
        : [
            {
              name: 'tunnelflow@before',
              measure: (r: number, s: number) =>
                measureTunnelflow(r, s, { ...placement, tunnelflowRoot: values.before }, 'tunnelflow@before'),
            },
          ]),
      { name: 'nfcapd', measure: (r, s) => measureNfcapd(r, s, placement) },
    ],
    rates,
    stepSeconds,
    (r) => print({ bench: 'e2e-one-core', ...r }),
    repeat,
  );
  restore.undo();
  print({
    bench: 'e2e-one-core-summary',
    tunnelflowLosslessRecordsPerSecond: best.tunnelflow,
    nfcapdLosslessRecordsPerSecond: best.nfcapd,
    ...(values.before === undefined ? {} : { beforeLosslessRecordsPerSecond: best['tunnelflow@before'] }),
    ratio: best.nfcapd ? Number((best.tunnelflow! / best.nfcapd).toFixed(3)) : null,
    target: 1_000_000,
    targetRatio: 0.33,
    secondsPerRate: stepSeconds,
    runsPerRate: repeat,
  });
} else if (only === undefined || only === 'e2e') {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
  const rates = values.quick
    ? [100_000, 300_000]
    : [50_000, 100_000, 150_000, 200_000, 250_000, 300_000, 400_000, 500_000, 750_000, 1_000_000];
  const show = (r: E2eResult) => print({ bench: 'e2e', ...r });
  // Both collectors ask the kernel for a 32 MiB receive buffer; Linux caps it at
  // net.core.rmem_max (often 4 MiB or less). Raising the cap is the first line of every
  // collector's tuning guide, so the benchmark does it for both when it may (root), and
  // puts it back afterwards.
  const restore = raiseReceiveBufferCap(32 << 20);
  print({ bench: 'e2e', note: 'net.core.rmem_max for the run', ...restore.info });
  const tf = await ramp(measureTunnelflow, rates, stepSeconds, show, repeat);
  summary.e2eTunnelflow = tf.bestLosslessRate;
  if (nfcapdAvailable()) {
    const nfRates = values.quick ? [300_000, 1_000_000] : [...rates, 1_500_000, 1_750_000, 2_000_000];
    const nf = await ramp(measureNfcapd, nfRates, stepSeconds, show, repeat);
    summary.e2eNfcapd = nf.bestLosslessRate;
  } else {
    print({ bench: 'e2e', note: 'nfcapd not installed (apt-get install nfdump): no side-by-side figure' });
  }
  restore.undo();
  print({
    bench: 'e2e-summary',
    tunnelflowLosslessRecordsPerSecond: summary.e2eTunnelflow,
    nfcapdLosslessRecordsPerSecond: summary.e2eNfcapd ?? null,
    ratio:
      typeof summary.e2eNfcapd === 'number' && summary.e2eNfcapd > 0
        ? Number(((summary.e2eTunnelflow as number) / summary.e2eNfcapd).toFixed(3))
        : null,
    target: 300_000,
    lossLimit: 0.001,
    runsPerRate: repeat,
  });
}

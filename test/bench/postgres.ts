// `npm run bench -- --only postgres`: end-to-end into PostgreSQL. A throwaway PostgreSQL 15
// cluster (test/system/postgres-cluster.ts) on loopback; for one and for two `tunnelflow run`
// processes on one database, IPFIX over UDP is sent at rising rates (split evenly between
// the collectors, one sender each) and the figure is the highest total rate at which fewer
// than 0.1 % of the records sent failed to reach the flows table.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgresCluster } from '../system/postgres-cluster.js';
import { processCpuUs, raiseReceiveBufferCap, sendLoad, startTunnelflow, waitExit } from './e2e.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const LOSS_LIMIT = 0.001;
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '4' }, quick: { type: 'boolean', default: false } },
});
const seconds = Number(values.seconds);
const rates = values.quick
  ? [25_000, 50_000, 100_000]
  : [25_000, 50_000, 75_000, 100_000, 150_000, 200_000, 300_000];
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

// Durable like a production server (the test cluster's default turns fsync off).
const cluster = await startPostgresCluster({ durable: true });
// As the e2e benchmark: the collectors' 32 MiB receive buffer, not the kernel's default cap.
const restore = raiseReceiveBufferCap(32 << 20);
print({
  bench: 'postgres',
  note: 'durable cluster (fsync on); net.core.rmem_max for the run',
  seconds,
  ...restore.info,
});
let step = 0;
try {
  for (const collectors of [1, 2]) {
    let best = 0;
    for (const rate of rates) {
      step += 1;
      const database = `bench_${collectors}_${step}`;
      cluster.createDatabase(database);
      const url = cluster.url(database);
      const running = [];
      for (let i = 0; i < collectors; i += 1) running.push(await startTunnelflow(url, {}));
      const cpuBefore = running.map((r) => processCpuUs(r.child.pid));
      const sent = await Promise.all(running.map((r) => sendLoad(r.port, rate / collectors, seconds)));
      const cpuAfter = running.map((r) => processCpuUs(r.child.pid));
      await new Promise((r) => setTimeout(r, 500));
      for (const r of running) r.child.kill('SIGTERM');
      await Promise.all(running.map((r) => waitExit(r.child)));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const stored = Number(
        (await client.query<{ n: string }>('SELECT count(*) AS n FROM flows')).rows[0]!.n,
      );
      await client.end();
      const records = sent.reduce((n, s) => n + s.records, 0);
      const cpuUs = cpuAfter.reduce<number | null>(
        (n, after, i) =>
          n === null || after === null || cpuBefore[i] == null ? null : n + after - cpuBefore[i]!,
        0,
      );
      const lossRatio = 1 - stored / records;
      print({
        bench: 'postgres',
        collectors,
        rate,
        sent: records,
        stored,
        lossRatio: Number(lossRatio.toFixed(5)),
        seconds: Math.max(...sent.map((s) => s.seconds)),
        cpuUsPerRecord: cpuUs === null ? null : Number((cpuUs / records).toFixed(2)),
      });
      if (lossRatio >= LOSS_LIMIT) break;
      best = rate;
    }
    print({ bench: 'postgres-summary', collectors, losslessRecordsPerSecond: best, lossLimit: LOSS_LIMIT });
  }
} finally {
  restore.undo();
  cluster.stop();
}

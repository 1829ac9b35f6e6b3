// SLA report benchmark: bucket rows for many tunnels (generated straight into a fresh store),
// then reports in child processes of their own, each with its wall time and peak RSS:
// 1. `cold`: a report over the generated days with no day summary stored: every day is
//    computed from the bucket rows and stored (what the run process otherwise does in the
//    background, a day at a time);
// 2. `month`: the stored days are copied to fill `--month` days (30; each copy is the
//    generated day's summary, moved in time), and one report reads the whole month: the
//    issue's target, 1,000 tunnels × 30 days under 5 s and 300 MB.
// `--tunnels N --days D` scale the generated part (default 1,000 × 1 day, 2.88 M bucket
// rows, about a minute to generate and to summarize). Prints JSON lines.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { buildReport } from '../../reports/build-report.js';
import { createDaySummaryCache } from '../../reports/day-summary-cache.js';
import { reportPolicySchema } from '../../reports/policy.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';

const { values } = parseArgs({
  options: {
    tunnels: { type: 'string', default: '1000' },
    days: { type: 'string', default: '1' },
    month: { type: 'string', default: '30' },
    /** Internal: the child that runs the report on an existing database. */
    report: { type: 'string' },
    /** Internal: the days the child reports on. */
    span: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const tunnels = Number(values.tunnels);
const days = Number(values.days);
const minutes = days * 1440;
const monthDays = Number(values.month);
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

if (values.report !== undefined) {
  const store = await openSqliteStore({ path: values.report });
  const began = performance.now();
  const report = await buildReport(
    {
      reader: store.tunnelReader,
      opts: { bucketMs: MIN, observationPoints: [], ceilingRatio: 0.5 },
      days: createDaySummaryCache(store.db),
    },
    {
      fromMs: T0,
      toMs: T0 + Number(values.span) * DAY,
      tunnels: 'all',
      policy: reportPolicySchema.parse({}),
    },
  );
  const ms = performance.now() - began;
  await store.close();
  print({
    reportMs: Math.round(ms),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    days: Number(values.span),
    tunnelsReported: report.tunnels.length,
    breaching: report.summary.breaching,
    worstAvailability: report.summary.worstAvailability,
  });
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'tunnelflow-bench-reports-'));
const path = join(dir, 'reports.db');
await (await openSqliteStore({ path })).close(); // the schema, by the migrations
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = OFF');
const began = performance.now();
const insertTunnel = db.prepare(
  `INSERT INTO tunnels (id, name, peer_a, peer_b, encapsulation, ip_version, first_seen_ms, last_seen_ms)
   VALUES (?, ?, ?, ?, 'esp', 4, ?, ?)`,
);
const insertBucket = db.prepare(
  `INSERT INTO tunnel_buckets (tunnel_id, bucket_start_ms, direction, exporter, domain_id, packets, octets, flows,
     esp_packets, sequence_lost, sequence_packets) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`,
);
const insertExporterBucket = db.prepare(
  'INSERT INTO exporter_buckets (exporter, domain_id, bucket_start_ms, records, datagrams) VALUES (?, 0, ?, ?, ?)',
);
const exporterOf = (t: number) => `10.255.${Math.floor(t / 20) >> 8}.${Math.floor(t / 20) & 255}`;
// A deterministic pseudo-random loss pattern: most minutes clean, some lossy, a few outages.
let seed = 1;
const rand = () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32;
for (let t = 0; t < tunnels; t++) {
  const peerA = `192.0.${t >> 8}.${t & 255}`;
  const peerB = `198.51.${t >> 8}.${t & 255}`;
  const id = `${peerA}_${peerB}_esp`;
  const exporter = exporterOf(t);
  const outageAt = rand() < 0.3 ? Math.floor(rand() * minutes) : -1;
  db.transaction(() => {
    insertTunnel.run(id, `site-${t}`, peerA, peerB, T0, T0 + minutes * MIN);
    for (let m = 0; m < minutes; m++) {
      const start = T0 + m * MIN;
      const down = outageAt >= 0 && m >= outageAt && m < outageAt + 12;
      for (const direction of ['a-b', 'b-a']) {
        const packets = 6000 + Math.floor(rand() * 100);
        const lost = down ? 900 : rand() < 0.02 ? Math.floor(rand() * 120) : 0;
        insertBucket.run(id, start, direction, exporter, packets, packets * 300, 2, packets, lost, packets);
      }
    }
  })();
}
db.transaction(() => {
  for (let e = 0; e * 20 < tunnels; e++) {
    for (let m = 0; m < minutes; m++) insertExporterBucket.run(exporterOf(e * 20), T0 + m * MIN, 40, 2);
  }
})();
db.close();
const generatedMs = performance.now() - began;
print({
  tunnels,
  days,
  bucketRows: tunnels * minutes * 2,
  generateS: Number((generatedMs / 1000).toFixed(1)),
  databaseMb: Math.round(statSync(path).size / 2 ** 20),
});
const self = fileURLToPath(import.meta.url);
const child = (name: string, span: number) => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', self, '--report', path, '--span', String(span)],
    { encoding: 'utf8' },
  );
  for (const line of out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))) {
    const r = JSON.parse(line) as Record<string, unknown>;
    print({
      run: name,
      ...r,
      targetS: name === 'month' ? 5 : undefined,
      targetRssMb: name === 'month' ? 300 : undefined,
    });
  }
};
child('cold', days);
// The month: the generated days' summaries copied forward, tunnels seen all month.
const copy = new Database(path);
const insertCopy = copy.prepare(
  `INSERT OR REPLACE INTO report_day_summaries (tunnel_id, day_start_ms, basis, built_ms, body)
   SELECT tunnel_id, day_start_ms + ?, basis, built_ms, body FROM report_day_summaries WHERE day_start_ms < ?`,
);
copy.transaction(() => {
  for (let d = days; d < monthDays; d += days) insertCopy.run(d * DAY, T0 + days * DAY);
  copy.prepare('UPDATE tunnels SET last_seen_ms = ?').run(T0 + monthDays * DAY);
})();
const stored = copy
  .prepare('SELECT count(*) AS n, sum(length(body)) AS bytes FROM report_day_summaries')
  .get() as {
  n: number;
  bytes: number;
};
copy.close();
print({ daySummaries: stored.n, daySummaryMb: Number((stored.bytes / 2 ** 20).toFixed(1)) });
child('month', monthDays);
if (!values.keep) rmSync(dir, { recursive: true, force: true });
else print({ kept: path });

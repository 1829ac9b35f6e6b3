import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { analysisOptions } from '../../cli/analysis-options.js';
import { ingestCommand } from '../../cli/ingest-command.js';
import { buildReport, summarizeSettledDays } from '../../reports/build-report.js';
import type { ReportSources } from '../../reports/build-report.js';
import { createDaySummaryCache } from '../../reports/day-summary-cache.js';
import { reportPolicySchema } from '../../reports/policy.js';
import type { SlaReport } from '../../reports/report.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { SqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { TunnelReader } from '../../model/tunnel-reader.js';
import { tempDir, testConfig } from '../e2e/helpers.js';

/**
 * Reports read stored day summaries for whole settled days: the same report as one computed
 * from the bucket rows, no bucket row read for a stored day, and a summary dropped when a
 * bucket of its day arrives late.
 */

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'corpus');
const MIN = 60_000;
const DAY = 86_400_000;
const policy = reportPolicySchema.parse({ consecutiveMinutes: 3 });

const opened: SqliteStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

/** A reader that counts its bucket reads. */
function counting(reader: TunnelReader): TunnelReader & { bucketReads: number } {
  const out = {
    bucketReads: 0,
    listTunnels: reader.listTunnels.bind(reader),
    getTunnels: reader.getTunnels.bind(reader),
    listSas: reader.listSas.bind(reader),
    loadCompleteness: reader.loadCompleteness.bind(reader),
    loadBuckets: (id: string | null, from: number, to: number) => {
      out.bucketReads++;
      return reader.loadBuckets(id, from, to);
    },
  };
  return out;
}

/** The report without the time it was made. */
const content = (r: SlaReport) => ({ ...r, generatedAt: 0 });

/** Three tunnels over three days of generated bucket rows: loss, an outage across midnight, silence. */
async function syntheticStore(): Promise<{ store: SqliteStore; t0: number }> {
  const dir = tempDir('tunnelflow-day-summaries-');
  const store = await openSqliteStore({ path: join(dir, 'db.sqlite') });
  opened.push(store);
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  const sqlite = store.sqlite;
  const tunnel = sqlite.prepare(
    `INSERT INTO tunnels (id, name, peer_a, peer_b, encapsulation, ip_version, first_seen_ms, last_seen_ms)
     VALUES (?, ?, ?, ?, 'esp', 4, ?, ?)`,
  );
  const bucket = sqlite.prepare(
    `INSERT INTO tunnel_buckets (tunnel_id, bucket_start_ms, direction, exporter, domain_id, packets, octets, flows,
       esp_packets, sequence_lost, sequence_packets, received_ms) VALUES (?, ?, ?, ?, 0, ?, ?, 1, ?, ?, ?, ?)`,
  );
  const point = sqlite.prepare(
    'INSERT INTO exporter_buckets (exporter, domain_id, bucket_start_ms, records, datagrams, received_ms) VALUES (?, 0, ?, 4, 1, ?)',
  );
  let seed = 7;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32;
  sqlite.transaction(() => {
    for (let t = 0; t < 3; t++) {
      const id = `192.0.2.${t + 1}_198.51.100.${t + 1}_esp`;
      tunnel.run(id, `t${t}`, `192.0.2.${t + 1}`, `198.51.100.${t + 1}`, t0, t0 + 3 * DAY);
      for (let m = 0; m < 3 * 1440; m++) {
        const start = t0 + m * MIN;
        // Tunnel 2 is silent on day 2 (its exporter still sends: idle), tunnel 1 has an
        // outage from 23:50 of day 1 to 00:10 of day 2.
        if (t === 2 && m >= 1440 && m < 2880) continue;
        const down = t === 1 && m >= 1430 && m < 1450;
        for (const direction of ['a-b', 'b-a']) {
          const packets = 1000 + Math.floor(rand() * 50);
          const lost = down ? 400 : rand() < 0.05 ? Math.floor(rand() * 9) : 0; // under 1 %: not high-loss
          bucket.run(
            id,
            start,
            direction,
            `10.0.0.${t}`,
            packets,
            packets * 100,
            packets,
            lost,
            packets,
            start,
          );
        }
      }
    }
    for (let t = 0; t < 3; t++) for (let m = 0; m < 3 * 1440; m++) point.run(`10.0.0.${t}`, t0 + m * MIN, t0);
  })();
  return { store, t0 };
}

function sources(store: SqliteStore, reader: TunnelReader, withDays: boolean, now: number): ReportSources {
  return {
    reader,
    opts: { bucketMs: MIN, observationPoints: [], ceilingRatio: 0.5 },
    now: () => now,
    ...(withDays ? { days: createDaySummaryCache(store.db) } : {}),
  };
}

describe('stored day summaries', () => {
  test('a report from stored days equals the one from bucket rows, and reads no bucket row the second time', async () => {
    const { store, t0 } = await syntheticStore();
    const now = t0 + 10 * DAY;
    const req = { fromMs: t0, toMs: t0 + 3 * DAY, tunnels: 'all' as const, policy };
    const plain = await buildReport(sources(store, store.tunnelReader, false, now), req);
    const cold = counting(store.tunnelReader);
    const first = await buildReport(sources(store, cold, true, now), req);
    // 3 tunnels × 3 days summarized and stored, and one look back for the points of t2 on its silent day.
    expect(cold.bucketReads).toBe(10);
    const warm = counting(store.tunnelReader);
    const second = await buildReport(sources(store, warm, true, now), req);
    expect(warm.bucketReads).toBe(0);
    expect(content(first)).toEqual(content(plain));
    expect(content(second)).toEqual(content(plain));
    const rows = store.sqlite.prepare('SELECT count(*) AS n FROM report_day_summaries').get() as {
      n: number;
    };
    expect(rows.n).toBe(9);
    // What the days hold, against the generator: the outage across midnight is one interval
    // of 20 minutes, the silent day of tunnel 2 is idle (its exporter kept sending).
    const t1 = second.tunnels.find((t) => t.name === 't1')!;
    expect(t1.unavailableIntervals).toEqual([{ startMs: t0 + 1430 * MIN, endMs: t0 + 1450 * MIN }]);
    const t2 = second.tunnels.find((t) => t.name === 't2')!;
    expect(t2.minutesByState.idle).toBe(1440);
    expect(t2.minutes.noData).toBe(0);
    expect(second.completeness.map((c) => c.silentMinutes)).toEqual([0, 0, 0]);
    // A period with parts of days at its edges: the whole day from the store, the parts computed.
    const edges = counting(store.tunnelReader);
    const partial = { ...req, fromMs: t0 + 12 * 60 * MIN, toMs: t0 + 2 * DAY + 6 * 60 * MIN };
    const mixed = await buildReport(sources(store, edges, true, now), partial);
    expect(edges.bucketReads).toBe(6);
    const direct = await buildReport(sources(store, store.tunnelReader, false, now), partial);
    expect(content(mixed)).toEqual(content(direct));
  });

  test('a day not yet settled is computed, not stored', async () => {
    const { store, t0 } = await syntheticStore();
    const now = t0 + 3 * DAY + 10 * MIN; // day 3 ended 10 minutes ago
    await buildReport(sources(store, store.tunnelReader, true, now), {
      fromMs: t0 + 2 * DAY,
      toMs: t0 + 3 * DAY,
      tunnels: 'all',
      policy,
    });
    const rows = store.sqlite.prepare('SELECT count(*) AS n FROM report_day_summaries').get() as {
      n: number;
    };
    expect(rows.n).toBe(0);
  });

  test('the background step stores each settled day once, newest first, a day per call', async () => {
    const { store, t0 } = await syntheticStore();
    const src = {
      ...sources(store, store.tunnelReader, true, t0 + 4 * DAY),
      days: createDaySummaryCache(store.db),
    };
    expect(await summarizeSettledDays(src, 35, 1)).toBe(3);
    const days = () =>
      (
        store.sqlite
          .prepare('SELECT DISTINCT day_start_ms AS d FROM report_day_summaries ORDER BY d')
          .all() as Array<{ d: number }>
      ).map((r) => r.d);
    expect(days()).toEqual([t0 + 2 * DAY]);
    expect(await summarizeSettledDays(src, 35)).toBe(6);
    expect(days()).toEqual([t0, t0 + DAY, t0 + 2 * DAY]);
    expect(await summarizeSettledDays(src, 35)).toBe(0);
  });
});

describe('a late bucket drops the summary of its day (d_loss, one point then the other)', () => {
  test('the stored day had no two-point figure; after the second capture the report gives 17', async () => {
    const peerA = '192.0.2.140';
    const peerB = '198.51.100.150';
    const dir = tempDir('tunnelflow-day-late-');
    const config = testConfig(
      dir,
      `tunnels:\n  - name: lossy path\n    peerA: ${peerA}\n    peerB: ${peerB}\n`,
    );
    const ingest = (file: string, exporter: string) =>
      ingestCommand(join(FIXTURES, 'exports', file), {
        config: join(dir, 'tunnelflow.yaml'),
        db: config.store.path,
        quiet: true,
        exporter,
      });
    const day = Date.parse('2024-03-12T00:00:00Z');
    const req = {
      fromMs: day,
      toMs: day + DAY,
      tunnels: 'all' as const,
      policy: reportPolicySchema.parse({}),
    };
    const report = async () => {
      const store = await openSqliteStore(config.store);
      try {
        return await buildReport(
          {
            reader: store.tunnelReader,
            opts: analysisOptions(config),
            days: createDaySummaryCache(store.db),
          },
          req,
        );
      } finally {
        await store.close();
      }
    };
    const stored = async () => {
      const store = await openSqliteStore(config.store);
      try {
        return (store.sqlite.prepare('SELECT count(*) AS n FROM report_day_summaries').get() as { n: number })
          .n;
      } finally {
        await store.close();
      }
    };
    await ingest('d_loss_v4_tx/softflowd_ipfix.pcap', peerA);
    const before = await report();
    expect(await stored()).toBe(1);
    expect(before.tunnels[0]!.directions[0]!.lost).toBeNull();
    await ingest('d_loss_v4_rx/softflowd_ipfix.pcap', peerB);
    expect(await stored()).toBe(0);
    const after = await report();
    const aToB = after.tunnels[0]!.directions.find((d) => d.direction === 'a-b')!;
    expect(aToB.lost).toBe(17);
    expect(aToB.lossSource).toBe('two-point');
    expect(await stored()).toBe(1);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { healthState } from '../../analysis/health.js';
import { analysisOptions } from '../../cli/analysis-options.js';
import { ingestCommand } from '../../cli/ingest-command.js';
import { computeAvailability } from '../../reports/availability.js';
import type { ReportMinute } from '../../reports/availability.js';
import { buildReport } from '../../reports/build-report.js';
import { reportPolicySchema } from '../../reports/policy.js';
import { csvColumns, renderReport } from '../../reports/render.js';
import type { SlaReport } from '../../reports/report.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/open-store.js';
import { tempDir, testConfig } from '../e2e/helpers.js';
import { freshStoreLocation } from '../helpers/test-store.js';

/**
 * SLA reports on the corpus, from what real exporters sent: the d_loss pair at two
 * observation points, and the four f_broken_states tunnels against availability computed
 * independently from the truth's minutes.
 */

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'corpus');
const MIN = 60_000;

async function ingestInto(yaml: string, captures: Array<{ file: string; exporter?: string }>) {
  const dir = tempDir('tunnelflow-report-');
  const { location } = await freshStoreLocation('report');
  const db = 'url' in location ? location.url : join(dir, 'tunnelflow.db');
  const config = testConfig(dir, yaml, db);
  for (const c of captures) {
    await ingestCommand(join(FIXTURES, 'exports', c.file), {
      config: join(dir, 'tunnelflow.yaml'),
      db,
      quiet: true,
      ...(c.exporter === undefined ? {} : { exporter: c.exporter }),
    });
  }
  const store = await openStore(config.store);
  const sources = {
    reader: store.tunnelReader,
    opts: analysisOptions(config),
  };
  return { store, sources };
}

function csvRows(text: string): Array<Record<string, string>> {
  const [header, ...lines] = text.trimEnd().split('\r\n');
  const names = header!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i], v])));
}

describe('d_loss at both points (softflowd IPFIX near each peer)', () => {
  const peerA = '192.0.2.140';
  const peerB = '198.51.100.150';
  let store: Store;
  let report: SlaReport;
  beforeAll(async () => {
    const r = await ingestInto(`tunnels:\n  - name: lossy path\n    peerA: ${peerA}\n    peerB: ${peerB}\n`, [
      { file: 'd_loss_v4_tx/softflowd_ipfix.pcap', exporter: peerA },
      { file: 'd_loss_v4_rx/softflowd_ipfix.pcap', exporter: peerB },
    ]);
    store = r.store;
    report = await buildReport(r.sources, {
      fromMs: Date.parse('2024-03-12T09:00:00Z'),
      toMs: Date.parse('2024-03-12T09:06:00Z'),
      tunnels: 'all',
      policy: reportPolicySchema.parse({}),
    });
  });
  afterAll(async () => store.close());

  test('JSON: a→b lost 17 by two-point, b→a 0, both points in the completeness', () => {
    expect(report.tunnels).toHaveLength(1);
    const t = report.tunnels[0]!;
    expect(t.name).toBe('lossy path');
    const [ab, ba] = t.directions;
    expect(ab).toMatchObject({ direction: 'a-b', lost: 17, lossSource: 'two-point' });
    expect(ab!.lossRatio).toBeCloseTo(17 / ab!.sent!, 12);
    expect(ba).toMatchObject({ direction: 'b-a', lost: 0, lossSource: 'two-point' });
    expect(report.summary.lost).toBe(17);
    expect(report.completeness.map((c) => c.exporter).sort()).toEqual([peerA, peerB]);
    // The worst minutes link to the drill-down of the minute they name.
    expect(t.worstMinutes.length).toBeGreaterThan(0);
    expect(t.worstMinutes.reduce((n, w) => n + w.lost, 0)).toBe(17);
    for (const w of t.worstMinutes) {
      expect(w.drillDown).toBe(
        w.end - w.start === 60_000
          ? `/api/v1/tunnels/${t.id}/buckets/${w.start}/flows`
          : `/api/v1/flows?from=${w.start}&to=${w.end}&tunnel=${t.id}`,
      );
    }
    // Round trip: the JSON format is the report itself.
    expect(JSON.parse(renderReport(report, 'json').body)).toEqual(report);
  });

  test('CSV: one row per direction with the same figures, RFC 4180 line ends', () => {
    const csv = renderReport(report, 'csv');
    expect(csv.contentType).toMatch(/^text\/csv/);
    expect(csv.body.split('\r\n')[0]).toBe(csvColumns.join(','));
    const rows = csvRows(csv.body);
    expect(rows.map((r) => [r.direction, r.lost, r.loss_source, r.tunnel_name])).toEqual([
      ['a-b', '17', 'two-point', 'lossy path'],
      ['b-a', '0', 'two-point', 'lossy path'],
    ]);
    expect(Number(rows[0]!.sent)).toBe(report.tunnels[0]!.directions[0]!.sent);
  });

  test('HTML: one self-contained file with the tunnel row and the chart', () => {
    const html = renderReport(report, 'html').body;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    const row = html.match(/<tr class="tunnel[^"]*" data-tunnel="[^"]+">[\s\S]*?<\/tr>/)?.[0] ?? '';
    expect(row).toContain('lossy path');
    expect(row).toMatch(/\/ 17 \//);
    expect(html).toContain('<svg class="chart"');
  });
});

interface TruthMinute {
  minute_ms: number;
  esp_packets: number;
  ike_packets: number;
  lost: number;
}
interface TruthTunnel {
  id: string;
  peer_a: string;
  peer_b: string;
  directions: { a_to_b: { per_minute: TruthMinute[] }; b_to_a: { per_minute: TruthMinute[] } };
}

/** The truth's minutes as the availability rules read them, derived from the truth alone. */
function truthMinutes(t: TruthTunnel, fromMs: number, toMs: number): ReportMinute[] {
  const at = (list: TruthMinute[], m: number) => list.find((x) => x.minute_ms === m);
  const out: ReportMinute[] = [];
  for (let m = fromMs; m < toMs; m += MIN) {
    const ab = at(t.directions.a_to_b.per_minute, m);
    const ba = at(t.directions.b_to_a.per_minute, m);
    const ratio = (x: TruthMinute | undefined) =>
      x === undefined || x.esp_packets === 0 ? null : x.lost / (x.esp_packets + x.lost);
    out.push({
      start: m,
      state: healthState({
        espAToB: ab?.esp_packets ?? 0,
        espBToA: ba?.esp_packets ?? 0,
        ikeAToB: ab?.ike_packets ?? 0,
        ikeBToA: ba?.ike_packets ?? 0,
        fragments: 0,
        icmpFragNeeded: 0,
        leakPackets: 0,
      }),
      aToBLossRatio: ratio(ab),
      bToALossRatio: ratio(ba),
    });
  }
  return out;
}

describe.each(['softflowd_ipfix', 'pmacct_ipfix'])('f_broken_states from %s', (exporter) => {
  const truth = JSON.parse(
    readFileSync(join(FIXTURES, 'truth', 'f_broken_states_v4.truth.json'), 'utf8'),
  ) as {
    tunnels: TruthTunnel[];
    time_range: { first_ms: number; last_ms: number };
  };
  const fromMs = Math.floor(truth.time_range.first_ms / MIN) * MIN;
  const toMs = Math.ceil(truth.time_range.last_ms / MIN) * MIN;
  let store: Store;
  let sources: Awaited<ReturnType<typeof ingestInto>>['sources'];
  beforeAll(async () => {
    const r = await ingestInto('', [{ file: `f_broken_states_v4/${exporter}.pcap` }]);
    store = r.store;
    sources = r.sources;
  });
  afterAll(async () => store.close());

  test.each([
    ['n = 5', {}],
    ['n = 2', { consecutiveMinutes: 2 }],
    [
      'n = 5 with the first two minutes in maintenance',
      { maintenance: [{ from: fromMs, to: fromMs + 2 * MIN }] },
    ],
  ])('availability per tunnel as the definitions compute from the truth (%s)', async (_, extra) => {
    const policy = reportPolicySchema.parse(extra);
    const report = await buildReport(sources, { fromMs, toMs, tunnels: 'all', policy });
    expect(report.tunnels).toHaveLength(truth.tunnels.length);
    for (const t of truth.tunnels) {
      const got = report.tunnels.find((r) => r.peerA === t.peer_a && r.peerB === t.peer_b);
      expect(got, t.id).toBeDefined();
      const maintenance = policy.maintenance.map((w) =>
        'from' in w ? { from: w.from, to: w.to } : { from: 0, to: 0 },
      );
      const want = computeAvailability(truthMinutes(t, fromMs, toMs), fromMs, toMs, MIN, policy, maintenance);
      expect({
        id: t.id,
        availability: got!.availability,
        hli: got!.hli,
        chli: got!.chli,
        minutes: got!.minutes,
      }).toEqual({
        id: t.id,
        availability: want.availability,
        hli: want.hli,
        chli: want.chli,
        minutes: want.minutes,
      });
    }
    // Three of the four tunnels never carry traffic both ways.
    const broken = report.tunnels.filter((r) => r.availability !== null && r.availability < 1);
    expect(broken.length).toBe(Object.keys(extra).includes('maintenance') ? 0 : 3);
  });
});

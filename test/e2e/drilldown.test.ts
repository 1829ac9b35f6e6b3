import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import { getJson, start, tempDir, testConfig } from './helpers.js';

/**
 * d_loss_v4: the same traffic exported near the sender (tx) and near the receiver (rx),
 * ingested as two observation points (`ingest --exporter`, one address per point). The
 * loss page must show the 17 lost a→b packets as two-point loss, and from every loss
 * bucket the drill-down must return the ESP flows of that minute for that SA, with the
 * completeness of the data of both points.
 */

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');
const peerA = '192.0.2.140';
const peerB = '198.51.100.150';
const from = Date.parse('2024-03-12T09:00:00Z');
const to = Date.parse('2024-03-12T09:06:00Z');

interface LossItem {
  tunnelId: string;
  direction: string;
  start: number;
  end: number;
  lost: number;
  lossRatio: number;
  lossSource: string;
  completeness: { exporter: string; records: number; sequenceGaps: number; issues: number }[];
}

interface Flow {
  kind: string;
  saId: string | null;
  tunnelId: string | null;
  src: string;
  dst: string;
  proto: number;
  exporter: string;
  startMs: number;
  endMs: number;
  packets: number;
}

describe.each(['softflowd_ipfix', 'pmacct_ipfix', 'pmacct_v9', 'softflowd_v5'])(
  'd_loss from %s at both points',
  (exporter) => {
    let app: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      const dir = tempDir();
      const config = testConfig(
        dir,
        `tunnels:\n  - name: lossy path\n    peerA: ${peerA}\n    peerB: ${peerB}\n`,
      );
      const common = { config: join(dir, 'tunnelflow.yaml'), db: config.store.path, quiet: true };
      await ingestCommand(join(CORPUS, 'd_loss_v4_tx', `${exporter}.pcap`), { ...common, exporter: peerA });
      await ingestCommand(join(CORPUS, 'd_loss_v4_rx', `${exporter}.pcap`), { ...common, exporter: peerB });
      app = await start(config);
    });
    afterAll(async () => app.stop());

    test('the loss page shows the 17 true losses a→b as two-point loss, and nothing b→a', async () => {
      const res = await getJson<{ items: LossItem[] }>(`${app.url}/api/v1/loss?from=${from}&to=${to}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeGreaterThan(0);
      for (const item of res.body.items) {
        expect(item).toMatchObject({ direction: 'a-b', lossSource: 'two-point' });
        expect(item.completeness.map((c) => c.exporter).sort()).toEqual([peerA, peerB]);
      }
      expect(res.body.items.reduce((n, i) => n + i.lost, 0)).toBe(17);
      const tunnels = await getJson<{
        items: { name: string; aToB: { lost: number }; bToA: { lost: number } }[];
      }>(`${app.url}/api/v1/tunnels?from=${from}&to=${to}`);
      expect(tunnels.body.items).toHaveLength(1);
      expect(tunnels.body.items[0]).toMatchObject({
        name: 'lossy path',
        aToB: { lost: 17 },
        bToA: { lost: 0 },
      });
    });

    test('every loss bucket drills down to the ESP flows of that minute for that SA, with completeness', async () => {
      const loss = await getJson<{ items: LossItem[] }>(`${app.url}/api/v1/loss?from=${from}&to=${to}`);
      for (const item of loss.body.items) {
        for (let bucket = item.start; bucket < item.end; bucket += 60_000) {
          const res = await getJson<{
            items: Flow[];
            completeness: { exporter: string }[];
            bucket: { start: number };
          }>(`${app.url}/api/v1/tunnels/${encodeURIComponent(item.tunnelId)}/buckets/${bucket}/flows`);
          expect(res.status).toBe(200);
          expect(res.body.bucket.start).toBe(bucket);
          const esp = res.body.items.filter((f) => f.kind === 'esp' && f.src === peerA);
          // Both observation points' records of the a→b SA overlap the minute.
          expect(new Set(esp.map((f) => f.exporter))).toEqual(new Set([peerA, peerB]));
          for (const f of esp) {
            expect(f.saId).toBe(`${peerA}_${peerB}_nospi_g0`);
            expect(f.proto).toBe(50);
            expect(f.startMs).toBeLessThan(bucket + 60_000);
            expect(f.endMs).toBeGreaterThanOrEqual(bucket);
          }
          for (const f of res.body.items) expect(f.tunnelId).toBe(item.tunnelId);
          expect(res.body.completeness.map((c) => c.exporter).sort()).toEqual([peerA, peerB]);
        }
      }
    });

    test('/metrics exposes the exporters, the normalizer and the store counters', async () => {
      const res = await fetch(`${app.url}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/^tunnelflow_records_total\{exporter="192\.0\.2\.140",domain="\d+"\} [1-9]/m);
      expect(text).toMatch(/^tunnelflow_sequence_gap_total\{exporter="198\.51\.100\.150",domain="\d+"\} 0$/m);
      expect(text).toMatch(/^tunnelflow_sa_pairs_formed_total [1-9]/m);
      expect(text).toMatch(/^tunnelflow_flows_by_kind_total\{kind="esp"\} [1-9]/m);
      expect(text).toMatch(/^tunnelflow_loss_values_cleared_total\{reason="negative"\} 0$/m);
      expect(text).toMatch(/^tunnelflow_store_\w+/m);
    });

    test('bad drill-down requests are 4xx problems that say what to fix', async () => {
      const id = encodeURIComponent(`${peerA}_${peerB}_esp`);
      const cases: [string, number][] = [
        [`/api/v1/tunnels/${id}/buckets/${from + 1}/flows`, 400],
        [`/api/v1/tunnels/nope/buckets/${from}/flows`, 404],
        [`/api/v1/tunnels/${id}/buckets?from=${from}&to=${to}&step=90`, 400],
        [`/api/v1/tunnels/${id}/buckets?from=${to}&to=${from}`, 400],
        [`/api/v1/loss?minRatio=2`, 400],
        [`/api/v1/tunnels?form=1`, 400],
      ];
      for (const [path, status] of cases) {
        const res = await getJson<{ detail: string; status: number }>(`${app.url}${path}`);
        expect(res.status, path).toBe(status);
        expect(res.type).toContain('application/problem+json');
        expect(res.body.detail.length).toBeGreaterThan(10);
      }
    });
  },
);

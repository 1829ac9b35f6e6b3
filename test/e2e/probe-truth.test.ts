import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TunnelBucketView, TunnelSummary } from '../../analysis/tunnel-figures.js';
import { decodeIpfix } from '../../collector/wire/ipfix.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import { compareAddresses } from '../../model/address-order.js';
import { scenarioCaptures } from '../normalize/reference-flows.js';
import type { ScenarioCapture } from '../normalize/reference-flows.js';
import { truthEncapsulation, truthFor } from '../normalize/truth.js';
import type { Truth, TruthDirection, TruthPerSpi, TruthTunnel } from '../normalize/truth.js';
import { ingestCommand } from '../../cli/ingest-command.js';
import { eventually, getJson, start, tempDir, testConfig } from './helpers.js';

/**
 * The acceptance path of the probe issue: every corpus scenario pcap through the real CLI,
 * `tunnelflow probe --pcap FILE --export 127.0.0.1:PORT`, into a running collector, then the
 * HTTP API. Per tunnel and direction the collector must give exactly the truth's lost packets,
 * with lossSource `sequence`; the rekey's SAs pair into one tunnel; NAT-T keeps IKE and
 * keepalives out of the ESP counts; fragmented ESP counts once per packet. A second run decodes
 * the probe's own IPFIX and checks the per-SA figures it exports (duplicates, out of order,
 * fragments) against the truth.
 */

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const PCAPS = join(ROOT, 'test', 'fixtures', 'corpus', 'pcaps');
const minuteMs = 60_000;

function windowOf(truth: Truth): [number, number] {
  return [
    Math.floor(truth.time_range.first_ms / minuteMs) * minuteMs,
    Math.floor(truth.time_range.last_ms / minuteMs) * minuteMs + 2 * minuteMs,
  ];
}

function swapped(t: TruthTunnel): boolean {
  return compareAddresses(t.peer_a, t.peer_b) > 0;
}

function idOf(t: TruthTunnel): string {
  const [a, b] = swapped(t) ? [t.peer_b, t.peer_a] : [t.peer_a, t.peer_b];
  return `${a}_${b}_${truthEncapsulation(t)}`;
}

/** The truth's directions in our order (A = the lower address). */
function directions(t: TruthTunnel): [TruthDirection, TruthDirection] {
  return swapped(t) ? [t.directions.b_to_a, t.directions.a_to_b] : [t.directions.a_to_b, t.directions.b_to_a];
}

async function probe(scenario: ScenarioCapture, port: number, transport: 'udp' | 'tcp'): Promise<string> {
  const { stderr } = await exec(process.execPath, [
    CLI,
    'probe',
    '--pcap',
    join(PCAPS, `${scenario}.pcap`),
    '--export',
    `127.0.0.1:${port}`,
    '--transport',
    transport,
    '--quiet',
  ]);
  return stderr;
}

describe.each(scenarioCaptures)('%s through tunnelflow probe', (scenario) => {
  const truth = truthFor(scenario);
  const [fromMs, toMs] = windowOf(truth);
  const espTunnels = truth.tunnels.filter(
    (t) => t.directions.a_to_b.totals.esp_packets + t.directions.b_to_a.totals.esp_packets > 0,
  );
  let app: Awaited<ReturnType<typeof start>>;
  let summary = '';
  // One scenario over TCP, the rest over UDP: both transports reach the same figures.
  const transport = scenario === 'b_rekey_v4' ? 'tcp' : 'udp';

  beforeAll(async () => {
    app = await start(testConfig(tempDir()));
    summary = await probe(scenario, transport === 'tcp' ? app.ipfixTcpPort : app.ipfixPort, transport);
    // Records reach the store with the next batch, bucket rows with the next state flush.
    await eventually(async () => {
      const res = await getJson<{ items: TunnelSummary[] }>(
        `${app.url}/api/v1/tunnels?from=${fromMs}&to=${toMs}`,
      );
      return espTunnels.every((t) => {
        const item = res.body.items.find((i) => i.id === idOf(t));
        if (item === undefined) return false;
        const [ab, ba] = directions(t);
        return item.aToB.packets === ab.totals.esp_packets && item.bToA.packets === ba.totals.esp_packets;
      });
    }, 20_000);
    await new Promise((r) => setTimeout(r, 1200));
  }, 60_000);
  afterAll(async () => app.stop());

  test('the probe says what it did', () => {
    expect(summary).toMatch(/^probe done: packets=\d+ esp=\d+/m);
  });

  test('the export stream is whole: no sequence gaps, no records without a template', async () => {
    const res = await getJson<{ items: Record<string, unknown>[] }>(`${app.url}/api/v1/exporters`);
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    for (const e of res.body.items) {
      expect(e).toMatchObject({ sequenceGaps: 0 });
      expect(e.missingTemplateRecords ?? 0).toBe(0);
    }
  });

  test.each(espTunnels.map((t) => [t.id, t] as const))(
    "tunnel %s: per direction exactly the truth's lost packets, lossSource sequence",
    async (_id, t) => {
      const res = await getJson<TunnelSummary>(
        `${app.url}/api/v1/tunnels/${encodeURIComponent(idOf(t))}?from=${fromMs}&to=${toMs}`,
      );
      expect(res.status).toBe(200);
      const [ab, ba] = directions(t);
      for (const [figures, truthDir] of [
        [res.body.aToB, ab],
        [res.body.bToA, ba],
      ] as const) {
        // ESP packets once per packet: reassembled fragments count once, IKE and keepalives not at all.
        expect(figures.packets).toBe(truthDir.totals.esp_packets);
        if (truthDir.totals.esp_packets === 0) {
          expect(figures.lost).toBeNull();
          continue;
        }
        expect(figures.lost).toBe(truthDir.totals.lost);
        expect(figures.lossSource).toBe('sequence');
        expect(Object.values(figures.bogusCleared).reduce((a, b) => a + b, 0)).toBe(0);
      }
      // Every SA of the truth is one SA of this tunnel, paired with its reverse.
      // (An SA the truth knows from IKE but that never carried a packet is not on the wire.)
      const seen = (d: TruthDirection) => d.per_spi.filter((s) => s.esp_packets > 0);
      const truthSpis = [...seen(ab), ...seen(ba)].map((s) => Number.parseInt(s.spi, 16)).sort();
      expect(res.body.sas.map((s) => s.spi).sort()).toEqual(truthSpis);
      if (seen(ab).length > 0 && seen(ba).length > 0) {
        expect(res.body.sas.every((s) => s.pairedSaId !== null)).toBe(true);
      }
      // IKE: UDP 500, and on the NAT-T port behind the non-ESP marker (with the keepalives).
      const ike =
        ab.totals.ike_packets + ba.totals.ike_packets + ab.totals.natt_keepalives + ba.totals.natt_keepalives;
      expect(res.body.ikePackets).toBe(ike);
    },
  );

  test.each(espTunnels.map((t) => [t.id, t] as const))(
    "tunnel %s: per minute, the truth's lost packets in the minute they were lost",
    async (_id, t) => {
      const res = await getJson<{ items: TunnelBucketView[] }>(
        `${app.url}/api/v1/tunnels/${encodeURIComponent(idOf(t))}/buckets?from=${fromMs}&to=${toMs}`,
      );
      expect(res.status).toBe(200);
      const [ab, ba] = directions(t);
      for (const [side, truthDir] of [
        ['aToB', ab],
        ['bToA', ba],
      ] as const) {
        const minutes = truthDir.per_minute.filter((m) => m.esp_packets > 0);
        const got = minutes.map(
          (m) => res.body.items.find((b) => b.start === m.minute_ms)?.[side].lost ?? null,
        );
        expect(got).toEqual(minutes.map((m) => m.lost));
      }
    },
  );

  if (scenario === 'b_rekey_v4') {
    test('the rekey: both SPI pairs in one tunnel, two generations per direction', async () => {
      const res = await getJson<{ items: TunnelSummary[] }>(
        `${app.url}/api/v1/tunnels?from=${fromMs}&to=${toMs}`,
      );
      const esp = res.body.items.filter((i) => i.encapsulation === 'esp');
      expect(esp).toHaveLength(1);
      expect(esp[0]!.sas).toHaveLength(4);
    });
  }
});

interface ExportedSa {
  packets: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  fragments: number;
  first: number | null;
  last: number | null;
  keepalives: number;
}

describe('what the probe exports per SA, decoded by our decoder', () => {
  const cases: ScenarioCapture[] = ['i_reorder_dup_v4', 'e_frag_mtu_v4', 'c_natt_v4', 'h_multi_tunnel_mixed'];
  const exported = new Map<ScenarioCapture, Map<string, ExportedSa>>();
  let keepalives = new Map<ScenarioCapture, number>();

  beforeAll(async () => {
    keepalives = new Map();
    for (const scenario of cases) {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      const cache = new TemplateCache({ now: () => 0 });
      const bySpi = new Map<string, ExportedSa>();
      let ka = 0;
      socket.on('message', (m) => {
        const out = decodeIpfix(m, 'probe', cache);
        expect(out.issues).toEqual([]);
        for (const r of out.records) {
          ka += r.nattKeepalivePackets ?? 0;
          if (r.spi === null || r.spi === 0) continue;
          const key = `0x${r.spi.toString(16).padStart(8, '0')}`;
          const a = bySpi.get(key) ?? {
            packets: 0,
            lost: 0,
            duplicates: 0,
            outOfOrder: 0,
            fragments: 0,
            first: r.espSeqFirst,
            last: null,
            keepalives: 0,
          };
          a.packets += r.packets ?? 0;
          a.lost += r.espLostPackets ?? 0;
          a.duplicates += r.espDuplicatePackets ?? 0;
          a.outOfOrder += r.espOutOfOrderPackets ?? 0;
          a.fragments += r.ipFragmentPackets ?? 0;
          a.last = Math.max(a.last ?? 0, r.espSeqLast ?? 0);
          bySpi.set(key, a);
        }
      });
      await probe(scenario, (socket.address() as { port: number }).port, 'udp');
      await new Promise((r) => setTimeout(r, 300));
      socket.close();
      exported.set(scenario, bySpi);
      keepalives.set(scenario, ka);
    }
  }, 60_000);

  test.each(cases)(
    "%s: per SPI the truth's packets, lost, duplicates, reordering, fragments and sequence range",
    (scenario) => {
      const truth = truthFor(scenario);
      const got = exported.get(scenario)!;
      for (const t of truth.tunnels) {
        for (const dir of [t.directions.a_to_b, t.directions.b_to_a]) {
          for (const s of dir.per_spi) {
            if (s.esp_packets === 0) continue;
            const e = got.get(s.spi);
            expect(e, s.spi).toBeDefined();
            expect({
              packets: e!.packets,
              lost: e!.lost,
              duplicates: e!.duplicates,
              outOfOrder: e!.outOfOrder,
              first: e!.first,
              last: e!.last,
            }).toEqual({
              packets: s.esp_packets,
              lost: s.lost,
              duplicates: s.duplicates,
              outOfOrder: (s as TruthPerSpi & { reordered: number }).reordered,
              first: s.first_seq,
              last: s.last_seq,
            });
          }
          if (dir.per_spi.length === 1) {
            expect(got.get(dir.per_spi[0]!.spi)?.fragments ?? 0).toBe(dir.totals.fragments);
          }
        }
      }
      const ka = truth.tunnels.reduce(
        (n, t) => n + t.directions.a_to_b.totals.natt_keepalives + t.directions.b_to_a.totals.natt_keepalives,
        0,
      );
      expect(keepalives.get(scenario)).toBe(ka);
    },
  );
});

describe('d_loss a→b seen by the probe near the receiver and by pmacct near the sender', () => {
  // The probe reads the receiver-side capture (17 numbers missing); pmacct's IPFIX of the
  // sender-side capture is ingested as exported by peer A. The direction keeps both figures:
  // the probe's sequence count and the two-point difference, each with its source.
  const A = '192.0.2.140';
  const B = '198.51.100.150';
  const truth = truthFor('d_loss_v4_rx');
  const [fromMs, toMs] = windowOf(truth);
  let app: Awaited<ReturnType<typeof start>>;

  beforeAll(async () => {
    const dir = tempDir();
    const yaml = `observationPoints:\n  - { exporter: 127.0.0.1, near: ${B} }\n  - { exporter: ${A}, near: ${A} }\n`;
    const config = testConfig(dir, yaml);
    await ingestCommand(
      join(ROOT, 'test', 'fixtures', 'corpus', 'exports', 'd_loss_v4_tx', 'pmacct_ipfix.pcap'),
      {
        config: join(dir, 'tunnelflow.yaml'),
        db: config.store.path,
        exporter: A,
        quiet: true,
      },
    );
    app = await start(config);
    await probe('d_loss_v4_rx', app.ipfixPort, 'udp');
    await eventually(async () => {
      const res = await getJson<TunnelSummary>(
        `${app.url}/api/v1/tunnels/${A}_${B}_esp?from=${fromMs}&to=${toMs}`,
      );
      return res.status === 200 && res.body.aToB.lossFigures.some((f) => f.source === 'sequence');
    }, 20_000);
    await new Promise((r) => setTimeout(r, 1200));
  }, 60_000);
  afterAll(async () => app.stop());

  test('both figures, with their sources: sequence 17 (probe) and two-point 17', async () => {
    const res = await getJson<TunnelSummary>(
      `${app.url}/api/v1/tunnels/${A}_${B}_esp?from=${fromMs}&to=${toMs}`,
    );
    expect(res.status).toBe(200);
    const ab = res.body.aToB;
    expect(ab).toMatchObject({ lost: 17, lossSource: 'sequence' });
    expect(ab.lossFigures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          source: 'sequence',
          lost: 17,
          observedBy: { exporter: '127.0.0.1', domainId: 1 },
        }),
        expect.objectContaining({ source: 'two-point', lost: 17, observedBy: null }),
      ]),
    );
    expect(res.body.bToA.lossFigures).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: 'sequence', lost: 0 })]),
    );
  });
});

import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, test } from 'vitest';
import { loadExporterCounters } from '../../store/exporters/exporter-repository.js';
import type { ExporterCounters } from '../../store/exporters/exporter-counters.js';
import { listExporterBuckets } from '../../store/exporter-buckets/exporter-bucket-repository.js';
import type { StoredFlow } from '../../store/flows/stored-flow.js';
import type { NormalizedFlow } from '../../model/flow.js';
import { emptyBucketCounts } from '../../model/tunnel-bucket.js';
import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import { loadCollectorState } from '../../store/state/collector-state-repository.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { SqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { loadTemplates } from '../../store/templates/template-repository.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import type { FlowWriter } from '../../store/writer/flow-writer.js';
import { corpusFlows } from './corpus-flows.js';
import { syntheticFlows } from './synthetic-flows.js';
import { tempDir } from './temp-store.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let counter = 0;

async function freshStore(): Promise<SqliteStore> {
  counter += 1;
  return openSqliteStore({ path: tmp.path(`writer-${counter}.db`) });
}

async function allFlows(store: SqliteStore): Promise<StoredFlow[]> {
  return (await store.flowReader.query({ limit: 1_000_000 })).items;
}

async function flowCount(store: SqliteStore): Promise<number> {
  return store.flowReader.count();
}

const stripId = ({ id: _id, ...flow }: StoredFlow): NormalizedFlow => flow;
const order = (a: NormalizedFlow, b: NormalizedFlow) =>
  a.endMs - b.endMs ||
  a.startMs - b.startMs ||
  a.src.localeCompare(b.src) ||
  a.dst.localeCompare(b.dst) ||
  a.packets - b.packets;

describe.each([
  { mode: 'worker thread', worker: true },
  { mode: 'inline', worker: false },
])('flow writer ($mode)', ({ worker }) => {
  const make = (store: SqliteStore, config: Record<string, unknown> = {}): FlowWriter =>
    createFlowWriter({ worker, ...config }, { storeConfig: store.config });

  test('every field of real flows comes back as written', async () => {
    const store = await freshStore();
    const flows = [
      ...corpusFlows('h_multi_tunnel_mixed', 'softflowd_ipfix', { exporterAddress: '192.0.2.200' }),
      ...corpusFlows('e_frag_mtu_v4', 'pmacct_ipfix', { exporterAddress: '192.0.2.201' }),
      ...corpusFlows('g_cleartext_leak_v4', 'softflowd_v9', { exporterAddress: '2001:db8::200' }),
    ];
    // Fields the corpus exporters never fill, so that their columns are exercised too,
    // and sampled flows (scaled counters differ from the raw ones).
    const withExtras = flows
      .map((f, i) =>
        i % 5 === 0 ? { ...f, samplingRate: 100, packets: f.rawPackets * 100, octets: f.rawOctets * 100 } : f,
      )
      .map((f, i) =>
        i % 7 === 0
          ? {
              ...f,
              spi: 0x6b1d2e93,
              fragmentId: i,
              fragmentOffset: 185,
              fragmentFlags: 1,
              reportedLoss: 3,
              validatedLoss: null,
              lossClearedReason: 'fragments' as const,
              espSeqFirst: 1,
              espSeqLast: 1758,
            }
          : f,
      );
    const writer = make(store);
    await writer.start();
    expect(writer.offer(withExtras)).toBe(withExtras.length);
    await writer.flush();
    expect(writer.stats()).toMatchObject({
      written: withExtras.length,
      dropped: 0,
      pending: 0,
      rejected: 0,
      failed: 0,
    });
    expect(writer.stats().lastCommitMs).toBeGreaterThan(0);
    const stored = await allFlows(store);
    expect(stored.map(stripId).sort(order)).toEqual([...withExtras].sort(order));
    await writer.stop();
    await store.close();
  });

  test('stop() commits everything accepted, even right after offering', async () => {
    const store = await freshStore();
    const writer = make(store, { batchRows: 1000, flushIntervalMs: 1000 });
    await writer.start();
    const flows = syntheticFlows(25_000, { seed: 7 });
    let accepted = 0;
    for (let i = 0; i < flows.length; i += 2500) accepted += writer.offer(flows.slice(i, i + 2500));
    await writer.stop();
    expect(accepted).toBe(25_000);
    expect(writer.stats()).toMatchObject({ written: 25_000, pending: 0, dropped: 0 });
    expect(await flowCount(store)).toBe(25_000);
    // The last checkpoint left the write-ahead log empty: the main file is complete.
    expect(store.infoNow().walBytes).toBe(0);
    // After stop, offers are dropped and counted, never thrown.
    expect(writer.offer(flows.slice(0, 10))).toBe(0);
    expect(writer.stats().dropped).toBe(10);
    await expect(writer.write(flows.slice(0, 1))).rejects.toThrow(/stopped/);
    await store.close();
  });

  test('offer() beyond the bound drops and counts; what it accepted is written', async () => {
    const store = await freshStore();
    const writer = make(store, { maxPendingRows: 100, batchRows: 40 });
    // Not started: nothing drains, so the bound is reached exactly.
    const flows = syntheticFlows(250, { seed: 3 });
    expect(writer.offer(flows.slice(0, 70))).toBe(70);
    expect(writer.offer(flows.slice(70))).toBe(30);
    expect(writer.stats()).toMatchObject({ dropped: 150, pending: 100, written: 0 });
    await writer.start();
    await writer.flush();
    expect(writer.stats()).toMatchObject({ dropped: 150, pending: 0, written: 100 });
    expect(await flowCount(store)).toBe(100);
    await writer.stop();
    await store.close();
  });

  test('write() waits for room instead of dropping, and never exceeds the bound', async () => {
    const store = await freshStore();
    const writer = make(store, { maxPendingRows: 500, batchRows: 200 });
    await writer.start();
    const flows = syntheticFlows(6000, { seed: 5 });
    let maxPending = 0;
    let sawWrittenWhileWaiting = false;
    const sampler = setInterval(() => {
      const s = writer.stats();
      maxPending = Math.max(maxPending, s.pending);
      if (s.written > 0 && s.written < 6000) sawWrittenWhileWaiting = true;
    }, 1);
    const done = writer.write(flows);
    // The first call cannot have taken everything: it is waiting for commits.
    expect(writer.stats().pending).toBeLessThanOrEqual(500);
    await done;
    clearInterval(sampler);
    await writer.flush();
    expect(writer.stats()).toMatchObject({ written: 6000, dropped: 0, pending: 0 });
    expect(maxPending).toBeLessThanOrEqual(500);
    expect(sawWrittenWhileWaiting).toBe(true);
    expect(writer.stats().batches).toBeGreaterThanOrEqual(12);
    await writer.stop();
    await store.close();
  });

  test('submit(): templates saved and withdrawn, counters absolute, buckets additive, in order with flows', async () => {
    const store = await freshStore();
    const writer = make(store);
    await writer.start();
    const template = {
      exporter: '192.0.2.200',
      domainId: 17,
      templateId: 1024,
      version: 10,
      updatedMs: 1000,
    };
    writer.submit({
      saveTemplates: [
        { ...template, body: { fields: [152, 153, 1, 2], big: 2n ** 64n } },
        { ...template, templateId: 1025, body: { fields: [8, 12] } },
      ],
    });
    writer.submit({ deleteTemplates: [{ exporter: '192.0.2.200', domainId: 17, templateId: 1025 }] });
    const counters: ExporterCounters = {
      exporter: '192.0.2.200',
      domainId: 17,
      version: 10,
      datagrams: 10,
      records: 200,
      templates: 2,
      optionsRecords: 1,
      malformed: 0,
      missingTemplateRecords: 3,
      sequenceGaps: 5,
      dropped: 0,
      issues: { 'template-missing': 1 },
      firstSeenMs: 5000,
      lastSeenMs: 6000,
    };
    writer.submit({ exporters: [counters] });
    writer.submit({
      exporters: [
        {
          ...counters,
          datagrams: 12,
          records: 260,
          firstSeenMs: 5500,
          lastSeenMs: 7000,
          issues: { truncated: 2 },
        },
      ],
    });
    const bucket = {
      exporter: '192.0.2.200',
      domainId: 17,
      bucketStartMs: 60_000,
      records: 100,
      datagrams: 5,
      issues: 1,
      sequenceGaps: 2,
    };
    writer.submit({ exporterBuckets: [bucket, { ...bucket, bucketStartMs: 120_000 }] });
    writer.submit({ exporterBuckets: [bucket] });
    await writer.flush();

    const templates = await loadTemplates(store.db);
    expect(templates).toEqual([
      { ...template, body: { fields: [152, 153, 1, 2], big: '18446744073709551616' } },
    ]);
    expect(await loadExporterCounters(store.db)).toEqual([
      {
        ...counters,
        datagrams: 12,
        records: 260,
        firstSeenMs: 5000,
        lastSeenMs: 7000,
        issues: { truncated: 2 },
      },
    ]);
    expect(await listExporterBuckets(store.db, { from: 0, to: 1e6 })).toEqual([
      { ...bucket, records: 200, datagrams: 10, issues: 2, sequenceGaps: 4 },
      { ...bucket, bucketStartMs: 120_000 },
    ]);
    expect(writer.stats().rejected).toBe(0);
    await writer.stop();
    await store.close();
  });

  test('bad input is refused one item at a time and counted, never thrown', async () => {
    const store = await freshStore();
    const writer = make(store);
    await writer.start();
    const good = corpusFlows('a_healthy_v4', 'softflowd_ipfix');
    const broken = [
      { ...good[0]!, src: null },
      { ...good[0]!, packets: Number.NaN },
      { ...good[0]!, kind: undefined },
    ] as unknown as NormalizedFlow[];
    expect(() => writer.offer(null as never)).not.toThrow();
    expect(writer.offer([null, 42, ...broken, ...good] as never)).toBe(3 + good.length);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    writer.submit({
      saveTemplates: [
        { exporter: 'x', domainId: 0, templateId: 256, version: 10, body: circular, updatedMs: 0 },
      ],
    });
    writer.submit({ exporters: [{ exporter: 'x' } as never] });
    writer.submit(undefined as never);
    await writer.flush();
    const stats = writer.stats();
    expect(stats.written).toBe(good.length);
    // null and 42 (not objects), three rows missing a NOT NULL value, one unserialisable
    // template body, one counters record without its counters.
    expect(stats.rejected).toBe(2 + 3 + 1 + 1);
    expect(stats.lastError).not.toBeNull();
    expect(await flowCount(store)).toBe(good.length);
    await writer.stop();
    await store.close();
  });

  test('64-bit counters saturate at 2^53 - 1 and fractions round (store/bigint-policy.ts)', async () => {
    const store = await freshStore();
    const writer = make(store);
    await writer.start();
    const base = corpusFlows('a_healthy_v4', 'softflowd_ipfix')[0]!;
    writer.offer([
      { ...base, octets: 2 ** 64, packets: 2 ** 53 + 2, rawOctets: 1234.6, rawPackets: -(2 ** 60) },
    ]);
    await writer.stop();
    const [row] = await allFlows(store);
    expect(row).toMatchObject({
      octets: Number.MAX_SAFE_INTEGER,
      packets: Number.MAX_SAFE_INTEGER,
      rawOctets: 1235,
      rawPackets: -Number.MAX_SAFE_INTEGER,
    });
    expect(Number.isInteger(row!.octets) && Number.isInteger(row!.rawOctets)).toBe(true);
    await store.close();
  });

  test('tunnels, SAs, bucket deltas and documents commit with the flows; a refused item is refused alone', async () => {
    const store = await freshStore();
    const writer = createFlowWriter({ worker }, { storeConfig: store.config });
    await writer.start();
    const flows = corpusFlows('a_healthy_v4', 'softflowd_ipfix');
    writer.offer(flows);
    const tunnel: Tunnel = {
      id: '192.0.2.1_192.0.2.2_esp',
      name: null,
      peerA: '192.0.2.1',
      peerB: '192.0.2.2',
      encapsulation: 'esp',
      ipVersion: 4,
      firstSeenMs: 2_000,
      lastSeenMs: 3_000,
    };
    const sa: SecurityAssociation = {
      id: 'sa-1',
      tunnelId: tunnel.id,
      direction: 'a-b',
      src: tunnel.peerA,
      dst: tunnel.peerB,
      spi: 7,
      generation: 0,
      firstSeenMs: 2_000,
      lastSeenMs: 3_000,
      endedMs: null,
      endReason: null,
      pairedSaId: null,
    };
    const delta: TunnelBucketDelta = {
      tunnelId: tunnel.id,
      bucketStartMs: 0,
      direction: 'a-b',
      exporter: '192.0.2.9',
      domainId: 0,
      ...emptyBucketCounts(),
      packets: 5,
    };
    // A tunnel without peers breaks a NOT NULL column: refused alone, the rest commits.
    const broken = { ...tunnel, id: 'broken', peerA: null } as unknown as Tunnel;
    writer.submit({ tunnels: [tunnel, broken], sas: [sa], tunnelBuckets: [delta] });
    writer.submit({
      tunnels: [{ ...tunnel, firstSeenMs: 1_000, lastSeenMs: 2_500 }],
      tunnelBuckets: [delta],
      collectorState: [{ key: 'k', value: '{"a":1}', updatedMs: 9 }],
    });
    await writer.flush();
    const db = store.db;
    expect(await db.selectFrom('tunnels').select(['id', 'first_seen_ms', 'last_seen_ms']).execute()).toEqual([
      { id: tunnel.id, first_seen_ms: 1_000, last_seen_ms: 3_000 },
    ]);
    expect(await db.selectFrom('security_associations').select(['id', 'spi']).execute()).toEqual([
      { id: 'sa-1', spi: 7 },
    ]);
    expect(await db.selectFrom('tunnel_buckets').select('packets').execute()).toEqual([{ packets: 10 }]);
    expect(await loadCollectorState(db, 'k')).toEqual({ a: 1 });
    expect(writer.stats().rejected).toBe(1);
    expect(writer.stats().lastError).toMatch(/tunnel refused/);
    expect(await flowCount(store)).toBe(flows.length);
    await writer.stop();
    await store.close();
  });
});

describe('flow writer (worker thread)', () => {
  test('merges queued batches into fewer transactions when it falls behind', async () => {
    const store = await freshStore();
    const writer = createFlowWriter({ batchRows: 500 }, { storeConfig: store.config });
    await writer.start();
    const flows = syntheticFlows(40_000, { seed: 11 });
    writer.offer(flows);
    await writer.flush();
    const stats = writer.stats();
    expect(stats.written).toBe(40_000);
    expect(stats.batches).toBe(80);
    expect(stats.transactions).toBeLessThan(stats.batches);
    await writer.stop();
    await store.close();
  });

  test('a worker that dies loses only what was in flight, counted; nothing hangs or throws', async () => {
    const store = await freshStore();
    let thread: Worker | undefined;
    const writer = createFlowWriter({}, { storeConfig: store.config, onWorker: (w) => (thread = w) });
    await writer.start();
    const flows = corpusFlows('a_healthy_v4', 'softflowd_ipfix');
    writer.offer(flows);
    await writer.flush();
    expect(writer.stats().written).toBe(flows.length);
    writer.offer(flows);
    await thread!.terminate();
    await writer.flush();
    const stats = writer.stats();
    // Every record offered is either committed or counted as failed: none vanishes.
    expect(stats.written + stats.failed).toBe(2 * flows.length);
    expect(stats.pending).toBe(0);
    expect(stats.lastError).toMatch(/writer worker exited with code 1/);
    expect(writer.offer(flows)).toBe(0);
    expect(writer.stats().dropped).toBe(flows.length);
    await expect(writer.write(flows)).rejects.toThrow(/broken/);
    await writer.stop();
    expect(await flowCount(store)).toBe(stats.written);
    await store.close();
  });

  test('refuses to start on a database that openStore has not migrated', async () => {
    const writer = createFlowWriter({}, { path: tmp.path('never-migrated.db') });
    await expect(writer.start()).rejects.toThrow(/has no flows table: open it with openStore\(\) first/);
    await writer.stop();
  });

  test('a trickle is committed by the timer within flushIntervalMs', async () => {
    const store = await freshStore();
    const writer = createFlowWriter({ flushIntervalMs: 50 }, { storeConfig: store.config });
    await writer.start();
    writer.offer(corpusFlows('a_healthy_v4', 'softflowd_ipfix').slice(0, 2));
    const started = Date.now();
    while (writer.stats().written < 2 && Date.now() - started < 5000)
      await new Promise((r) => setTimeout(r, 10));
    expect(writer.stats().written).toBe(2);
    expect(Date.now() - started).toBeLessThan(2000);
    await writer.stop();
    await store.close();
  });
});

// Query benchmarks over a large store (issue 11): `npm run bench -- --only queries
// [--flows N] [--queries N] [--db FILE] [--keep]`, or `node --import tsx
// test/bench/queries.ts` with the same options.
//
// Fills a SQLite store through the writer's sink (SqliteSink.applyMany with EncodedFlows
// and SealedState items, the engine-neutral path the collector's writer uses), then asks
// the real HTTP API on loopback, timing each request end to end with fetch:
//  1. drill-down: GET /api/v1/tunnels/:id/buckets/:start/flows for one tunnel-minute;
//  2. GET /api/v1/flows?filter=proto esp and net 10.0.0.0/8 over one hour;
//  3. the same query's second page (&cursor=);
//  4. GET /api/v1/flows over one hour without filter.
// It never reads or writes the `flows` table itself: how the engine stores flows is its
// business. Prints JSON lines (one per kind, then the fill and the RSS); progress to stderr.
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ipaddr from 'ipaddr.js';
import { createApi } from '../../api/create-api.js';
import type { FlowJson } from '../../api/flow-json.js';
import { saId as makeSaId, tunnelId as makeTunnelId } from '../../collector/normalize/ids.js';
import type { NormalizedFlow } from '../../model/flow.js';
import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import { newBucketDelta } from '../../model/tunnel-bucket.js';
import type { SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { openConnection } from '../../store/sqlite/connection.js';
import { SqliteSink } from '../../store/sqlite/sqlite-sink.js';
import { loadCollectorState } from '../../store/state/collector-state-repository.js';
import { FlowBatchEncoder } from '../../store/writer/flow-batch-codec.js';
import type { EncodedFlows } from '../../store/writer/flow-batch-codec.js';
import type { SealedState } from '../../store/writer/sealed-state.js';
import type { CollectorStateEntry } from '../../store/state/collector-state.table.js';

const { values } = parseArgs({
  options: {
    flows: { type: 'string', default: '50000000' },
    queries: { type: 'string', default: '200' },
    db: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const note = (text: string) => process.stderr.write(`${text}\n`);

/** What the fill lays out; saved in the store (collector_state) so that a reused file says what it holds. */
interface FillPlan {
  readonly flows: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly tunnels: number;
  /** Seconds between two flows of one SA direction (each direction of each tunnel). */
  readonly espPeriodSeconds: number;
  readonly seed: number;
}

/** The key of the fill's description in collector_state, written by the fill's last transaction. */
const PLAN_KEY = 'bench.queries.fill';
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Stored flows are spread over this much end time (and receipt time). */
const SPAN_MS = 6 * HOUR;
const TUNNELS = 2_000;
/** Share of the flows that are ESP between tunnel peers; the rest is ordinary TCP/UDP. */
const ESP_SHARE = 0.25;
const EXPORTERS = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'];
/** Rows per EncodedFlows batch, and batches per transaction (the writer's 20k-row group commit). */
const BATCH_ROWS = 4_000;
const BATCHES_PER_TRANSACTION = 5;
const NET_FILTER = 'proto esp and net 10.0.0.0/8';
const TEN = ipaddr.parseCIDR('10.0.0.0/8');

// --- the fill ------------------------------------------------------------------------

/** Tunnel i's peers: the first half has peer A in 10.0.0.0/8, the other half no address in it. */
function peersOf(i: number): { readonly a: string; readonly b: string } {
  const half = TUNNELS / 2;
  if (i < half) return { a: `10.${1 + (i >> 8)}.${i & 255}.1`, b: `198.18.${i >> 8}.${i & 255}` };
  const j = i - half;
  return { a: `172.16.${j >> 8}.${j & 255}`, b: `198.18.${128 + (j >> 8)}.${j & 255}` };
}

const tunnelIdOf = (i: number): string => {
  const { a, b } = peersOf(i);
  return makeTunnelId(a, b, 'esp');
};

/** 32-bit mix (a hash, not a random generator), for SPIs and phases that a reused file can recompute. */
function mix(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h ^= h >>> 12;
  }
  return h >>> 0;
}

/** SAs rekey every hour: generation g (1, 2, ...) is current during the g-th hour of the span. */
const generationAt = (plan: FillPlan, ms: number): number => 1 + Math.floor((ms - plan.fromMs) / HOUR);
const spiOf = (plan: FillPlan, tunnel: number, direction: number, generation: number): number =>
  (mix(plan.seed, tunnel, direction, generation) | 0x100) >>> 0;
/** The second of the span in which SA stream s (tunnel * 2 + direction) exports its first flow. */
const phaseOf = (plan: FillPlan, stream: number): number => mix(plan.seed, stream, 7) % plan.espPeriodSeconds;

function saOf(plan: FillPlan, tunnel: number, direction: number, generation: number): SecurityAssociation {
  const { a, b } = peersOf(tunnel);
  const [src, dst] = direction === 0 ? [a, b] : [b, a];
  const pairSrc = direction === 0 ? b : a;
  const pairDst = direction === 0 ? a : b;
  const first = plan.fromMs + (generation - 1) * HOUR;
  const last = Math.min(plan.toMs, first + HOUR);
  const rekeyed = last < plan.toMs;
  return {
    id: makeSaId(src, dst, spiOf(plan, tunnel, direction, generation), generation),
    tunnelId: tunnelIdOf(tunnel),
    direction: direction === 0 ? 'a-b' : 'b-a',
    src,
    dst,
    spi: spiOf(plan, tunnel, direction, generation),
    generation,
    firstSeenMs: first,
    lastSeenMs: last,
    endedMs: rekeyed ? last : null,
    endReason: rekeyed ? 'rekey' : null,
    pairedSaId: makeSaId(pairSrc, pairDst, spiOf(plan, tunnel, 1 - direction, generation), generation),
  };
}

/** The state items of the next batch, filled as the flows go. */
interface StateLists {
  readonly tunnels: Tunnel[];
  readonly sas: SecurityAssociation[];
  readonly tunnelBuckets: TunnelBucketDelta[];
  readonly collectorState: CollectorStateEntry[];
}

const emptyLists = (): StateLists => ({ tunnels: [], sas: [], tunnelBuckets: [], collectorState: [] });

function sealed(lists: StateLists): SealedState {
  return {
    saveTemplates: [],
    deleteTemplates: [],
    exporters: [],
    exporterBuckets: [],
    ...lists,
    receivedMs: null,
  };
}

type MutableFlow = { -readonly [K in keyof NormalizedFlow]: NormalizedFlow[K] };

/** xorshift32: fast and reproducible. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

/** A public IPv4 address outside 10.0.0.0/8 (and loopback, multicast). */
function publicAddress(random: () => number): string {
  const first = 11 + Math.floor(random() * 212); // 11..222
  const o1 = first === 127 ? 128 : first;
  return `${o1}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
}

/**
 * Writes plan.flows flows in end-time order, second by second over the span, the way
 * exporters send them (a flow is exported when it ends): in each second, the SA streams
 * whose turn it is export one ESP flow each (so every tunnel direction exports one flow
 * every espPeriodSeconds), and ordinary TCP/UDP flows fill the second up to the mean
 * rate. Tunnels and SAs go in with the first transaction of their hour, tunnel bucket
 * deltas once no flow can start in their minute any more.
 */
function fill(path: string, plan: FillPlan): { seconds: number; rowsPerSecond: number; cpuUsPerRow: number } {
  const sqlite = openConnection({
    path,
    cacheSizeMb: 256,
    busyTimeoutMs: 5000,
    mmapSizeMb: 256,
    journalSizeLimitMb: 64,
  });
  // The writer's host sets its own checkpoint threshold the same way (store/writer/messages.ts).
  sqlite.pragma('wal_autocheckpoint = 10000');
  const sink = new SqliteSink(sqlite);
  const random = randomFrom(plan.seed);
  const flow: MutableFlow = {
    exporter: EXPORTERS[0]!,
    domainId: 0,
    version: 10,
    receivedMs: 0,
    startMs: 0,
    endMs: 0,
    ipVersion: 4,
    src: '',
    dst: '',
    proto: 50,
    srcPort: null,
    dstPort: null,
    spi: null,
    packets: 1,
    octets: 1,
    rawPackets: 1,
    rawOctets: 1,
    samplingRate: 1,
    tcpFlags: null,
    tos: 0,
    icmpType: null,
    icmpCode: null,
    fragmentId: null,
    fragmentOffset: null,
    fragmentFlags: null,
    inIf: 1,
    outIf: 2,
    flowDirection: 0,
    reportedLoss: null,
    espSeqFirst: null,
    espSeqLast: null,
    templateId: 256,
    kind: 'esp',
    tunnelId: null,
    saId: null,
    tunnelDirection: null,
    validatedLoss: null,
    lossClearedReason: null,
  };
  const tunnelIds = Array.from({ length: plan.tunnels }, (_, i) => tunnelIdOf(i));
  const peers = Array.from({ length: plan.tunnels }, (_, i) => peersOf(i));
  // SA ids of the current generation, per stream (tunnel * 2 + direction).
  let generation = 0;
  const saIds: string[] = [];
  const spis: number[] = [];
  // Tunnel bucket deltas by tunnel, minute and direction, until their minute is closed.
  const buckets = new Map<string, TunnelBucketDelta>();
  const encoder = new FlowBatchEncoder(BATCH_ROWS);
  let pending: Array<{ flows: EncodedFlows | null; state: SealedState[] }> = [];
  let nextState = emptyLists();
  const streams = plan.tunnels * 2;
  // Streams by the second (mod period) in which they export.
  const byPhase: number[][] = Array.from({ length: plan.espPeriodSeconds }, () => []);
  for (let s = 0; s < streams; s += 1) byPhase[phaseOf(plan, s)]!.push(s);
  const spanSeconds = (plan.toMs - plan.fromMs) / 1000;

  let written = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let lastReport = t0;
  const commit = (force: boolean): void => {
    if (encoder.rows >= BATCH_ROWS || (force && encoder.rows > 0)) {
      pending.push({ flows: encoder.seal(), state: [sealed(nextState)] });
      nextState = emptyLists();
    }
    if (pending.length >= BATCHES_PER_TRANSACTION || (force && pending.length > 0)) {
      for (const result of sink.applyMany(pending)) {
        if (result.rejectedRows > 0 || result.rejectedItems > 0)
          throw new Error(`the sink refused rows or items: ${result.firstRejection}`);
        written += result.rows;
      }
      pending = [];
      const now = performance.now();
      if (now - lastReport > 5000) {
        lastReport = now;
        const rate = (written / (now - t0)) * 1000;
        const cpu = process.cpuUsage(cpu0);
        note(
          `fill: ${written.toLocaleString('en')} / ${plan.flows.toLocaleString('en')} flows, ` +
            `${Math.round(rate).toLocaleString('en')} rows/s, ${((cpu.user + cpu.system) / written).toFixed(2)} µs CPU/row, ` +
            `ETA ${Math.round((plan.flows - written) / rate)} s`,
        );
      }
    }
  };

  let emitted = 0;
  for (let second = 0; emitted < plan.flows; second += 1) {
    const secondStart = plan.fromMs + second * 1000;
    const g = generationAt(plan, secondStart);
    if (g !== generation) {
      generation = g;
      for (let t = 0; t < plan.tunnels; t += 1) {
        for (let d = 0; d < 2; d += 1) {
          const sa = saOf(plan, t, d, g);
          saIds[t * 2 + d] = sa.id;
          spis[t * 2 + d] = sa.spi!;
          nextState.sas.push(sa);
        }
        if (g === 1) {
          nextState.tunnels.push({
            id: tunnelIds[t]!,
            name: null,
            peerA: peers[t]!.a,
            peerB: peers[t]!.b,
            encapsulation: 'esp',
            ipVersion: 4,
            firstSeenMs: plan.fromMs,
            lastSeenMs: plan.toMs,
          });
        }
      }
    }
    // Flows ending in this second: the mean rate, whatever the span holds.
    const inSecond = Math.min(
      plan.flows - emitted,
      Math.max(0, Math.floor(((second + 1) * plan.flows) / spanSeconds) - emitted),
    );
    const esp = second < spanSeconds ? byPhase[second % plan.espPeriodSeconds]! : [];
    const espCount = Math.min(esp.length, inSecond);
    const total = inSecond;
    let nextEsp = 0;
    for (let j = 0; j < total; j += 1) {
      const endMs = secondStart + Math.floor((j * 1000) / total);
      // ESP flows spread evenly among the ordinary ones of the second.
      const isEsp = nextEsp < espCount && j >= Math.floor((nextEsp * total) / espCount);
      if (isEsp) {
        const stream = esp[nextEsp]!;
        nextEsp += 1;
        const t = stream >> 1;
        const d = stream & 1;
        const { a, b } = peers[t]!;
        const exporter = EXPORTERS[t % EXPORTERS.length]!;
        const packets = 100 + Math.floor(random() * 20_000);
        flow.exporter = exporter;
        flow.src = d === 0 ? a : b;
        flow.dst = d === 0 ? b : a;
        flow.proto = 50;
        flow.srcPort = null;
        flow.dstPort = null;
        flow.spi = spis[stream]!;
        flow.packets = packets;
        flow.octets = packets * (120 + Math.floor(random() * 1300));
        flow.tcpFlags = null;
        // ESP flows run for the exporter's active timeout, or less.
        flow.startMs = endMs - Math.floor(random() * MINUTE);
        flow.kind = 'esp';
        flow.tunnelId = tunnelIds[t]!;
        flow.saId = saIds[stream]!;
        flow.tunnelDirection = d === 0 ? 'a-b' : 'b-a';
        // The whole flow counts in the bucket where it starts (the normalizer would split it
        // by overlap; the queries only need the buckets to be there).
        const bucketStart = flow.startMs - (flow.startMs % MINUTE);
        const key = `${t}|${bucketStart}|${d}`;
        let delta = buckets.get(key);
        if (delta === undefined) {
          delta = newBucketDelta(tunnelIds[t]!, bucketStart, flow.tunnelDirection, exporter, 0);
          buckets.set(key, delta);
        }
        delta.packets += packets;
        delta.octets += flow.octets;
        delta.espPackets += packets;
        delta.flows += 1;
      } else {
        const tcp = random() < 0.6;
        flow.exporter = EXPORTERS[Math.floor(random() * EXPORTERS.length)]!;
        // Half of the ordinary traffic has an inside host in 10.0.0.0/8 (not ESP: the filter
        // must skip it).
        const inside = random() < 0.5;
        const host = `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
        const outside = publicAddress(random);
        const outbound = random() < 0.5;
        flow.src = inside && outbound ? host : outside;
        flow.dst = inside && !outbound ? host : publicAddress(random);
        flow.proto = tcp ? 6 : 17;
        flow.srcPort = 1024 + Math.floor(random() * 64_512);
        flow.dstPort = random() < 0.5 ? 443 : Math.floor(random() * 65_536);
        flow.spi = null;
        const packets = 1 + Math.floor(random() * random() * 2000);
        flow.packets = packets;
        flow.octets = packets * (40 + Math.floor(random() * 1460));
        flow.tcpFlags = tcp ? Math.floor(random() * 64) : null;
        // Mostly short flows, up to the active timeout.
        const r = random();
        flow.startMs = endMs - Math.floor(r * r * r * MINUTE);
        flow.kind = 'other';
        flow.tunnelId = null;
        flow.saId = null;
        flow.tunnelDirection = null;
      }
      flow.endMs = endMs;
      flow.rawPackets = flow.packets;
      flow.rawOctets = flow.octets;
      // Received shortly after the end: the exporter's export delay.
      flow.receivedMs = endMs + Math.floor(random() * 2000);
      encoder.add(flow);
      emitted += 1;
      if (encoder.rows >= BATCH_ROWS) commit(false);
    }
    // A minute whose start is more than the longest flow (60 s) behind the flows' end
    // times gets no more flows: its deltas go with the next batch.
    if (second % 60 === 59 || emitted >= plan.flows) {
      const closedBefore = secondStart + 1000 - MINUTE;
      for (const [key, delta] of buckets) {
        if (emitted < plan.flows && delta.bucketStartMs + MINUTE > closedBefore) continue;
        nextState.tunnelBuckets.push(delta);
        buckets.delete(key);
      }
    }
  }
  // The last transaction says what the file holds: a file without it was not filled to the end.
  nextState.collectorState.push({
    key: PLAN_KEY,
    value: JSON.stringify(plan),
    updatedMs: Date.now(),
  });
  pending.push({ flows: encoder.rows > 0 ? encoder.seal() : null, state: [sealed(nextState)] });
  commit(true);
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  sqlite.close();
  // On a shared machine the wall-clock rate depends on the neighbours; CPU per row does less.
  return {
    seconds,
    rowsPerSecond: Math.round(written / seconds),
    cpuUsPerRow: round((cpu.user + cpu.system) / written, 2),
  };
}

// --- the queries ---------------------------------------------------------------------

interface Timing {
  readonly ms: number[];
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

function summarise(kind: string, timing: Timing, targetP95Ms: number | null, extra: object = {}): object {
  const sorted = [...timing.ms].sort((a, b) => a - b);
  const p95 = percentile(sorted, 95);
  return {
    name: 'queries',
    kind,
    queries: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(p95),
    maxMs: round(sorted[sorted.length - 1]!),
    targetP95Ms,
    pass: targetP95Ms === null ? null : p95 < targetP95Ms,
    ...extra,
  };
}

interface FlowPageJson {
  readonly items: FlowJson[];
  readonly nextCursor: string | null;
}

async function timedGet(url: string): Promise<{ ms: number; body: FlowPageJson }> {
  const t = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
  return { ms, body: JSON.parse(text) as FlowPageJson };
}

const inTen = (address: string): boolean => {
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv4' && parsed.match(TEN);
};

function checkWindow(items: readonly FlowJson[], from: number, to: number, what: string): void {
  for (const item of items) {
    if (!(item.endMs >= from && item.startMs < to))
      throw new Error(
        `${what}: flow ${item.id} [${item.startMs}, ${item.endMs}] is outside [${from}, ${to})`,
      );
  }
  for (let i = 1; i < items.length; i += 1) {
    const a = items[i - 1]!;
    const b = items[i]!;
    if (a.endMs > b.endMs || (a.endMs === b.endMs && a.id >= b.id))
      throw new Error(`${what}: items out of (endMs, id) order at ${i}`);
  }
}

function checkEspNet(items: readonly FlowJson[], what: string): void {
  for (const item of items) {
    if (item.proto !== 50 || !(inTen(item.src) || inTen(item.dst)))
      throw new Error(
        `${what}: flow ${item.id} (${item.proto} ${item.src} → ${item.dst}) does not match '${NET_FILTER}'`,
      );
  }
}

/** Runs every kind of query; returns the process's memory once they are done. */
async function queries(path: string, plan: FillPlan, perKind: number): Promise<NodeJS.MemoryUsage> {
  const store = await openSqliteStore({ path });
  // The benchmark is one client asking as fast as it can: the per-client limit is off.
  const api = createApi(
    { host: '127.0.0.1', port: 0, rateLimit: { windowSeconds: 60, max: 0 } },
    { store, analysis: { bucketMs: MINUTE, observationPoints: [], ceilingRatio: 0.5 } },
  );
  const { address, port } = await api.start();
  const base = `http://${address}:${port}`;
  const random = randomFrom(mix(plan.seed, Date.now() & 0xffff_ffff));
  const hourStart = (): number => {
    const latest = plan.toMs - HOUR;
    return plan.fromMs + Math.floor(random() * (latest - plan.fromMs + 1));
  };
  try {
    // A few requests of each kind first, untimed: the JIT and the first statement preparations.
    const warm = async (n: number, f: () => Promise<unknown>) => {
      for (let i = 0; i < n; i += 1) await f();
    };

    // 1. drill-down: a tunnel-minute in which the tunnel exported at least one flow.
    const drill: Timing = { ms: [] };
    let drillItems = 0;
    const drillOnce = async (timed: boolean): Promise<void> => {
      const t = Math.floor(random() * plan.tunnels);
      const stream = t * 2 + Math.floor(random() * 2);
      const turns = Math.floor((plan.toMs - plan.fromMs) / 1000 / plan.espPeriodSeconds);
      const second = phaseOf(plan, stream) + Math.floor(random() * turns) * plan.espPeriodSeconds;
      const ms = plan.fromMs + second * 1000;
      const start = ms - (ms % MINUTE);
      const id = tunnelIdOf(t);
      const { ms: took, body } = await timedGet(
        `${base}/api/v1/tunnels/${encodeURIComponent(id)}/buckets/${start}/flows`,
      );
      if (body.items.length === 0) throw new Error(`drill-down ${id} at ${start}: no flows`);
      for (const item of body.items)
        if (item.tunnelId !== id) throw new Error(`drill-down ${id}: flow ${item.id} is of ${item.tunnelId}`);
      checkWindow(body.items, start, start + MINUTE, `drill-down ${id} at ${start}`);
      if (timed) {
        drill.ms.push(took);
        drillItems += body.items.length;
      }
    };
    await warm(5, () => drillOnce(false));
    for (let i = 0; i < perKind; i += 1) await drillOnce(true);
    print(summarise('drill-down', drill, 50, { meanItems: round(drillItems / perKind) }));

    // 2 and 3. The filter over one hour, and its second page.
    const filtered: Timing = { ms: [] };
    const second: Timing = { ms: [] };
    const filterOnce = async (timed: boolean): Promise<void> => {
      const from = hourStart();
      const to = from + HOUR;
      const query = `filter=${encodeURIComponent(NET_FILTER)}&from=${from}&to=${to}`;
      const first = await timedGet(`${base}/api/v1/flows?${query}`);
      const what = `flows ${NET_FILTER} [${from}, ${to})`;
      if (first.body.items.length === 0) throw new Error(`${what}: no flows`);
      checkEspNet(first.body.items, what);
      checkWindow(first.body.items, from, to, what);
      if (first.body.nextCursor === null) throw new Error(`${what}: one page only, no cursor to follow`);
      const next = await timedGet(
        `${base}/api/v1/flows?${query}&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      );
      if (next.body.items.length === 0) throw new Error(`${what}: an empty second page`);
      checkEspNet(next.body.items, `${what} page 2`);
      checkWindow([first.body.items.at(-1)!, ...next.body.items], from, to, `${what} page 2`);
      if (timed) {
        filtered.ms.push(first.ms);
        second.ms.push(next.ms);
      }
    };
    await warm(3, () => filterOnce(false));
    for (let i = 0; i < perKind; i += 1) await filterOnce(true);
    print(summarise('flows esp net 1h', filtered, 500, { filter: NET_FILTER }));
    print(summarise('flows esp net 1h page 2', second, 500, { filter: NET_FILTER }));

    // 4. One hour, no filter.
    const plain: Timing = { ms: [] };
    const plainOnce = async (timed: boolean): Promise<void> => {
      const from = hourStart();
      const to = from + HOUR;
      const { ms, body } = await timedGet(`${base}/api/v1/flows?from=${from}&to=${to}`);
      if (body.items.length === 0) throw new Error(`flows [${from}, ${to}): no flows`);
      checkWindow(body.items, from, to, `flows [${from}, ${to})`);
      if (timed) plain.ms.push(ms);
    };
    await warm(3, () => plainOnce(false));
    for (let i = 0; i < perKind; i += 1) await plainOnce(true);
    print(summarise('flows 1h', plain, 500));
    return process.memoryUsage();
  } finally {
    await api.stop();
    await store.close();
  }
}

// --- main ----------------------------------------------------------------------------

const flows = Math.trunc(Number(values.flows));
const perKind = Math.trunc(Number(values.queries));
if (!(flows >= 100_000)) throw new Error(`--flows must be a number of 100000 or more; got ${values.flows}`);
if (!(perKind >= 1)) throw new Error(`--queries must be a positive number; got ${values.queries}`);
const path = values.db ?? join(tmpdir(), `tunnelflow-bench-queries-${process.pid}.db`);
const keep = values.keep || values.db !== undefined;

try {
  let plan: FillPlan | undefined;
  if (existsSync(path)) {
    const store = await openSqliteStore({ path });
    plan = (await loadCollectorState(store.db, PLAN_KEY)) as FillPlan | undefined;
    await store.close();
    if (plan !== undefined && plan.flows >= flows) {
      note(`queries: ${path} holds ${plan.flows.toLocaleString('en')} flows; no fill`);
      print({ name: 'fill', reused: path, flows: plan.flows, fileBytes: statSync(path).size });
    } else {
      throw new Error(
        `${path} exists and ${plan === undefined ? 'was not filled by this benchmark to the end' : `holds ${plan.flows} flows, fewer than ${flows}`}; remove it or name another --db`,
      );
    }
  } else {
    const toMs = Date.now() - (Date.now() % MINUTE);
    plan = {
      flows,
      fromMs: toMs - SPAN_MS,
      toMs,
      tunnels: TUNNELS,
      // Each SA direction exports every this many seconds, for ESP_SHARE of the flows.
      espPeriodSeconds: Math.max(1, Math.round((TUNNELS * 2 * (SPAN_MS / 1000)) / (ESP_SHARE * flows))),
      seed: 11,
    };
    // Migrate (and create) the file the ordinary way, then write through the sink.
    await (await openSqliteStore({ path })).close();
    note(`queries: filling ${path} with ${flows.toLocaleString('en')} flows`);
    const result = fill(path, plan);
    print({
      name: 'fill',
      flows,
      spanHours: SPAN_MS / HOUR,
      flowsPerSecondOfSpan: Math.round(flows / (SPAN_MS / 1000)),
      tunnels: TUNNELS,
      espShare: ESP_SHARE,
      espPeriodSeconds: plan.espPeriodSeconds,
      seconds: round(result.seconds),
      rowsPerSecond: result.rowsPerSecond,
      cpuUsPerRow: result.cpuUsPerRow,
      fileBytes: statSync(path).size,
      bytesPerFlow: round(statSync(path).size / flows),
    });
  }
  const memory = await queries(path, plan, perKind);
  print({
    name: 'rss',
    note: 'this process (store and API) after the queries',
    rssMb: round(memory.rss / 2 ** 20),
    heapUsedMb: round(memory.heapUsed / 2 ** 20),
  });
} finally {
  if (!keep) for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

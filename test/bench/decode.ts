// Decode-only throughput on one core: datagram bytes → FlowRecords (decode + produce),
// for NetFlow v9 and IPFIX, from real corpus datagrams repeated and from synthetic
// datagrams of 30 records each. Prints one JSON line per case:
//   node --import tsx test/bench/decode.ts [--seconds 2]
// `runDecodeBench()` is exported for a bench runner.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../../collector/capture/index.js';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';

export interface DecodeBenchResult {
  readonly name: string;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

export interface DecodeBenchOptions {
  /** Time spent per case after warm-up. */
  readonly seconds?: number;
  /** Only the cases whose name contains this text. */
  readonly filter?: string;
}

const EXPORTS = fileURLToPath(new URL('../fixtures/corpus/exports/', import.meta.url));
const EXPORTER = '192.0.2.1';

interface BenchCase {
  readonly name: string;
  /** Datagrams that teach the templates, decoded once before timing. */
  readonly setup: readonly Buffer[];
  /** Datagrams decoded round-robin while timing. */
  readonly datagrams: readonly Buffer[];
}

function corpusCase(name: string, scenario: string, exporter: string): BenchCase {
  const datagrams = readCapture(readFileSync(`${EXPORTS}${scenario}/${exporter}.pcap`)).datagrams.map(
    (d) => d.payload,
  );
  // The first datagram carries the templates; timing it over and over would measure
  // template re-announcement, which exporters do once per minute or so.
  return {
    name,
    setup: datagrams.slice(0, 1),
    datagrams: datagrams.length > 1 ? datagrams.slice(1) : datagrams,
  };
}

// Synthetic datagrams: a pmacct-like v9 / softflowd-like IPFIX template, 30 records of
// varied addresses, ports and counters each.
const RECORDS_PER_DATAGRAM = 30;

const be16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
const be32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
const be64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
};

const FIELDS: readonly (readonly [id: number, length: number])[] = [
  [8, 4],
  [12, 4],
  [152, 8],
  [153, 8],
  [1, 8],
  [2, 8],
  [10, 4],
  [14, 4],
  [61, 1],
  [136, 1],
  [7, 2],
  [11, 2],
  [4, 1],
  [6, 1],
  [60, 1],
  [5, 1],
];

/** Record `i` of datagram `d`: with `d` > 0 every record of every datagram has new addresses. */
function syntheticRecord(i: number, d = 0): Buffer {
  const start = Date.UTC(2024, 2, 12, 9) + i * 137;
  const n = d * RECORDS_PER_DATAGRAM + i;
  const values: Record<number, Buffer> = {
    8: Buffer.from([10, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]),
    12: Buffer.from([172, 16 + ((n >> 16) & 0x0f), (n >> 8) & 0xff, (n * 7) & 0xff]),
    152: be64(start),
    153: be64(start + 60_000),
    1: be64(1400 * (i + 1)),
    2: be64(i + 1),
    10: be32(1),
    14: be32(2),
    61: Buffer.from([0]),
    136: Buffer.from([1]),
    7: be16(1024 + i),
    11: be16(i % 2 ? 443 : 4500),
    4: Buffer.from([i % 3 === 0 ? 50 : 17]),
    6: Buffer.from([0x18]),
    60: Buffer.from([4]),
    5: Buffer.from([0]),
  };
  return Buffer.concat(FIELDS.map(([id]) => values[id]!));
}

function templateRecord(id: number): Buffer {
  return Buffer.concat([
    be16(id),
    be16(FIELDS.length),
    ...FIELDS.map(([e, l]) => Buffer.concat([be16(e), be16(l)])),
  ]);
}

function withSetHeader(id: number, body: Buffer): Buffer {
  return Buffer.concat([be16(id), be16(body.length + 4), body]);
}

function syntheticIpfix(sets: readonly Buffer[], sequence: number): Buffer {
  const body = Buffer.concat(sets);
  return Buffer.concat([be16(10), be16(16 + body.length), be32(1710234336), be32(sequence), be32(17), body]);
}

function syntheticV9(sets: readonly Buffer[], count: number, sequence: number): Buffer {
  return Buffer.concat([
    be16(9),
    be16(count),
    be32(100_000),
    be32(1710234336),
    be32(sequence),
    be32(7),
    ...sets,
  ]);
}

function syntheticCases(): BenchCase[] {
  const data = withSetHeader(
    1024,
    Buffer.concat(Array.from({ length: RECORDS_PER_DATAGRAM }, (_, i) => syntheticRecord(i))),
  );
  // 4096 datagrams of 30 records with 122,880 different address pairs: far more than the
  // address text caches hold, so every address is formatted anew (the worst case).
  const distinct = Array.from({ length: 4096 }, (_, d) =>
    withSetHeader(
      1024,
      Buffer.concat(Array.from({ length: RECORDS_PER_DATAGRAM }, (_, i) => syntheticRecord(i, d + 1))),
    ),
  );
  return [
    {
      name: 'v9 synthetic, 30 records/datagram',
      setup: [syntheticV9([withSetHeader(0, templateRecord(1024))], 1, 0)],
      datagrams: [syntheticV9([data], RECORDS_PER_DATAGRAM, 1)],
    },
    {
      name: 'ipfix synthetic, 30 records/datagram',
      setup: [syntheticIpfix([withSetHeader(2, templateRecord(1024))], 0)],
      datagrams: [syntheticIpfix([data], 0)],
    },
    {
      name: 'v9 synthetic, 30 records/datagram, all addresses distinct',
      setup: [syntheticV9([withSetHeader(0, templateRecord(1024))], 1, 0)],
      datagrams: distinct.map((set, d) => syntheticV9([set], RECORDS_PER_DATAGRAM, d + 1)),
    },
    {
      name: 'ipfix synthetic, 30 records/datagram, all addresses distinct',
      setup: [syntheticIpfix([withSetHeader(2, templateRecord(1024))], 0)],
      datagrams: distinct.map((set, d) => syntheticIpfix([set], d * RECORDS_PER_DATAGRAM)),
    },
  ];
}

function measure(c: BenchCase, seconds: number): DecodeBenchResult {
  const cache = new TemplateCache();
  for (const d of c.setup) produceFlows(d, EXPORTER, 0, cache);
  const datagrams = c.datagrams;
  const run = (budgetMs: number): { records: number; ms: number } => {
    let records = 0;
    let next = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < budgetMs) {
      // Check the clock every few hundred datagrams only.
      for (let k = 0; k < 256; k++) {
        const produced = produceFlows(datagrams[next]!, EXPORTER, 0, cache);
        next = next + 1 === datagrams.length ? 0 : next + 1;
        records += produced.info.dataRecords;
      }
      elapsed = performance.now() - t0;
    }
    return { records, ms: elapsed };
  };
  run(Math.min(1000, seconds * 500)); // warm-up: let the optimising compiler settle
  const { records, ms } = run(seconds * 1000);
  return { name: c.name, records, seconds: ms / 1000, recordsPerSecond: Math.round(records / (ms / 1000)) };
}

export function runDecodeBench(options: DecodeBenchOptions = {}): DecodeBenchResult[] {
  const seconds = options.seconds ?? 2;
  const cases: BenchCase[] = [
    corpusCase('v9 corpus (h_multi_tunnel_mixed/softflowd_v9)', 'h_multi_tunnel_mixed', 'softflowd_v9'),
    corpusCase('v9 corpus (h_multi_tunnel_mixed/pmacct_v9)', 'h_multi_tunnel_mixed', 'pmacct_v9'),
    corpusCase(
      'ipfix corpus (h_multi_tunnel_mixed/softflowd_ipfix)',
      'h_multi_tunnel_mixed',
      'softflowd_ipfix',
    ),
    corpusCase('ipfix corpus (h_multi_tunnel_mixed/pmacct_ipfix)', 'h_multi_tunnel_mixed', 'pmacct_ipfix'),
    ...syntheticCases(),
  ];
  return cases
    .filter((c) => !options.filter || c.name.includes(options.filter))
    .map((c) => measure(c, seconds));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string): string | undefined => {
    const index = process.argv.indexOf(name);
    return index > 0 ? process.argv[index + 1] : undefined;
  };
  const filter = arg('--filter');
  const options: DecodeBenchOptions = {
    seconds: Number(arg('--seconds') ?? 2),
    ...(filter ? { filter } : {}),
  };
  for (const result of runDecodeBench(options)) console.log(JSON.stringify(result));
}

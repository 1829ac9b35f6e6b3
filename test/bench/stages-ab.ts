// Before/after of the collector's JS stages in one process (issue 11): decode + produce,
// the normalizer and the hand-off encoder (the receiving thread), and the block packing
// (the writer's thread) of this checkout and of another one (`--before DIR`, its sources
// loaded beside ours through tsx), on the synthetic IPFIX traffic of the end-to-end
// benchmark. The two versions run in alternating slices of a quarter second, so
// a machine whose speed drifts (a shared host) slows both alike; per version and stage it
// prints the median and the fastest slice in ns per record.
//
//   node --import tsx test/bench/stages-ab.ts --before /path/to/other/checkout [--rounds 12]
//   npm run bench -- --only stages-ab --before DIR
//
// The normalizer and encoder stages are fed by this checkout's producer (the same records
// for both versions), the packing by this checkout's encoder (the same sealed batches, whole
// blocks of 8192 rows); only the time inside the stage counts.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchMessages } from './bench-datagrams.js';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '12' },
    stage: { type: 'string' },
  },
});
if (values.before === undefined) throw new Error('--before DIR: the checkout to compare with');
const here = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const rounds = Number(values.rounds);
const STAGES = ['produce', 'normalize', 'encode', 'pack'] as const;
type Stage = (typeof STAGES)[number];

type Flowish = readonly unknown[];
interface Version {
  readonly name: string;
  produce(payload: Buffer): { flows: Flowish };
  normalize(flows: Flowish): Flowish;
  takeChanges(): void;
  encode(flows: Flowish): void;
  /** Seals what `encode` holds now, its whole dictionary restored (the writer's view). */
  sealWhole(): unknown;
  pack(batch: unknown, rows: readonly number[]): void;
}

const PER_MESSAGE = 30;
const startMs = Date.now() - 120_000;
const { messages, template } = benchMessages(512, PER_MESSAGE, startMs);

/** One checkout's producer, normalizer and encoder, each with its own state. */
async function load(root: string, name: string): Promise<Version> {
  const from = (path: string) => import(join(root, path));
  const [produce, cache, tracker, normalizer, config, codec, block] = await Promise.all([
    from('collector/produce/produce-flows.ts'),
    from('collector/wire/template-cache.ts'),
    from('collector/produce/sequence-tracker.ts'),
    from('collector/normalize/normalizer.ts'),
    from('collector/normalize/config.ts'),
    from('store/writer/flow-batch-codec.ts'),
    from('store/sqlite/flow-block-codec.ts'),
  ]);
  const templates = new cache.TemplateCache({ now: () => startMs });
  const sequence = new tracker.SequenceTracker();
  const n = normalizer.createNormalizer(config.parseNormalizeConfig({}));
  const encoder = new codec.FlowBatchEncoder(4096);
  const produceFlows = (payload: Buffer) =>
    produce.produceFlows(payload, '192.0.2.1', startMs, templates, sequence);
  produceFlows(template);
  return {
    name,
    produce: produceFlows,
    normalize: (flows) => n.normalize(flows),
    takeChanges: () => n.takeChanges(),
    encode(flows) {
      for (const flow of flows) encoder.add(flow);
      // The writer seals at its batch size and gives the buffers back.
      if (encoder.rows < 8192) return;
      const batch = encoder.seal(true);
      encoder.recycle(batch.integers.buffer, batch.texts.buffer, batch.ipv4.buffer);
    },
    sealWhole: () => encoder.seal(false),
    pack: (batch, rows) => block.encodeBlockTransient(batch, rows),
  };
}

const versions = [await load(values.before, 'before'), await load(here, 'after')];
// Records for the normalizer and encoder stages: this checkout's producer, fresh each time
// (the normalizer fills a producer's record in place).
const feeder = versions[1]!;
let next = 0;

const BLOCK_ROWS = 8192;
const blockRows = Array.from({ length: BLOCK_ROWS }, (_, r) => r);
/** Sealed batches of BLOCK_ROWS rows for the packing stage, made once. */
function packingBatches(count: number): unknown[] {
  const out: unknown[] = [];
  const encoder = versions[1]!;
  encoder.sealWhole(); // what the encoder stage left
  for (let b = 0; b < count; b++) {
    for (let rows = 0; rows < BLOCK_ROWS;) {
      const { flows } = feeder.produce(messages[next++ % messages.length] as Buffer);
      const normalized = encoder.normalize(flows).slice(0, BLOCK_ROWS - rows);
      encoder.encode(normalized);
      rows += normalized.length;
    }
    out.push(encoder.sealWhole());
  }
  return out;
}
let batches: unknown[] = [];

/** ns per record of `stage` of `version` over `ms` of alternating work. */
function slice(version: Version, stage: Stage, ms: number): number {
  let ns = 0;
  let records = 0;
  const until = Date.now() + ms;
  while (stage === 'pack' && Date.now() < until) {
    for (const batch of batches) {
      const t = process.hrtime.bigint();
      version.pack(batch, blockRows);
      ns += Number(process.hrtime.bigint() - t);
      records += BLOCK_ROWS;
    }
  }
  while (stage !== 'pack' && Date.now() < until) {
    for (let k = 0; k < 64; k++) {
      const payload = messages[next++ % messages.length] as Buffer;
      if (stage === 'produce') {
        const t = process.hrtime.bigint();
        const { flows } = version.produce(payload);
        ns += Number(process.hrtime.bigint() - t);
        records += flows.length;
        continue;
      }
      const { flows } = feeder.produce(payload);
      let t = process.hrtime.bigint();
      const normalized = version.normalize(flows);
      // The collector takes the normalizer's changes once per flush (a second).
      if (next % 3333 === 0) version.takeChanges();
      if (stage === 'encode') {
        t = process.hrtime.bigint();
        version.encode(normalized);
      }
      ns += Number(process.hrtime.bigint() - t);
      records += flows.length;
    }
  }
  return ns / records;
}

const median = (a: readonly number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
for (const stage of STAGES) {
  if (values.stage !== undefined && values.stage !== stage) continue;
  if (stage === 'pack') batches = packingBatches(8);
  for (let w = 0; w < 4; w++) for (const v of versions) slice(v, stage, 300);
  const times = versions.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) versions.forEach((v, i) => times[i]!.push(slice(v, stage, 250)));
  versions.forEach((v, i) => {
    const t = times[i]!;
    process.stdout.write(
      `${JSON.stringify({
        bench: 'stages-ab',
        stage,
        version: v.name,
        root: i === 0 ? values.before : here,
        medianNsPerRecord: Number(median(t).toFixed(1)),
        fastestNsPerRecord: Number(Math.min(...t).toFixed(1)),
        slices: t.length,
      })}\n`,
    );
  });
}

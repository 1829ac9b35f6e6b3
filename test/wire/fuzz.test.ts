// Property test: random datagrams and mutations of real ones (corpus exports, the
// malformed set, and built datagrams with variable-length, enterprise and options
// fields) never throw, never take long, and never yield more records than their bytes
// could hold. One template cache and one sequence tracker live across all iterations,
// so mutated templates meet later data, as they would in a long-running collector. A
// second cache decodes every datagram the other way (records collected, not streamed)
// and must agree exactly: the streaming path reuses one record per template.

import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { produceFlows, produceFromDecoded } from '../../collector/produce/produce-flows.js';
import { decodeDatagram } from '../../collector/wire/decode-datagram.js';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import type { TemplateSnapshot } from '../../collector/wire/template-cache.js';
import { CORPUS_DIR, listExportCaptures, readDatagrams } from '../produce/corpus-exports.js';
import {
  dataSet,
  ip,
  ipfixMessage,
  ipfixOptionsTemplateSet,
  ipfixTemplateSet,
  ipfixWithdrawalSet,
  u16,
  u32,
  u64,
  v9OptionsTemplateFlowSet,
  v9Packet,
  varlen,
} from './datagram-builder.js';

const RUNS = 100_000;

function builtSeeds(): Buffer[] {
  const varTemplate = {
    id: 700,
    fields: [
      { id: 8, length: 4 },
      { id: 82, length: 65535 },
      { id: 12, length: 4 },
      { id: 5, length: 10, pen: 9 },
      { id: 2, length: 4, pen: 29305 },
      { id: 1, length: 4, pen: 32473 },
      { id: 154, length: 8 },
    ],
  };
  const varRecord = Buffer.concat([
    ip('10.0.0.1'),
    varlen(Buffer.from('eth0')),
    ip('10.0.0.2'),
    Buffer.alloc(10, 7),
    u32(3),
    u32(9),
    u64(0xe9a0000000000000n),
  ]);
  const options = {
    id: 701,
    scopeCount: 1,
    fields: [
      { id: 302, length: 8 },
      { id: 305, length: 4 },
      { id: 306, length: 4 },
    ],
  };
  return [
    ipfixMessage({ domain: 5 }, [
      ipfixTemplateSet([varTemplate]),
      ipfixOptionsTemplateSet([options]),
      dataSet(701, [Buffer.concat([u64(1), u32(1), u32(9)])]),
      dataSet(700, [varRecord, varRecord]),
    ]),
    ipfixMessage({ domain: 5 }, [ipfixWithdrawalSet([700, 2]), dataSet(700, [varRecord])]),
    v9Packet({ count: 2, sourceId: 3 }, [
      v9OptionsTemplateFlowSet(
        300,
        [{ id: 2, length: 2 }],
        [
          { id: 48, length: 1 },
          { id: 34, length: 4 },
        ],
      ),
      dataSet(300, [Buffer.concat([u16(1), Buffer.from([3]), u32(100)])], 1),
    ]),
  ];
}

function corpusSeeds(): Buffer[] {
  const seeds = listExportCaptures().flatMap((c) => readDatagrams(c).map((d) => d.payload));
  const malformed = `${CORPUS_DIR}malformed/`;
  for (const file of readdirSync(malformed))
    if (file.endsWith('.bin')) seeds.push(readFileSync(`${malformed}${file}`));
  return seeds;
}

const seeds = [...corpusSeeds(), ...builtSeeds()];
const EXPORTERS = ['127.0.0.1', '192.0.2.1', '2001:db8::1'];
const INTERESTING_U16 = [0, 1, 2, 3, 4, 5, 8, 16, 255, 256, 1024, 32768, 65534, 65535];

/** One mutation step: [kind, position, value]. */
type Mutation = readonly [number, number, number];

function mutate(seed: Buffer, steps: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(seed);
  for (const [kind, position, value] of steps) {
    if (bytes.length === 0) break;
    const at = position % bytes.length;
    switch (kind) {
      case 0: // flip one byte
        bytes[at] = value & 0xff;
        break;
      case 1: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 2: // write an interesting 16-bit value (lengths, counts, ids) at an even offset
        if (bytes.length >= 2)
          bytes.writeUInt16BE(
            INTERESTING_U16[value % INTERESTING_U16.length]!,
            (at & ~1) % (bytes.length - 1),
          );
        break;
      case 3: // nudge a 16-bit field up or down a little
        if (bytes.length >= 2) {
          const o = (at & ~1) % (bytes.length - 1);
          bytes.writeUInt16BE((bytes.readUInt16BE(o) + (value % 9) - 4) & 0xffff, o);
        }
        break;
      case 4: // append or duplicate a slice (a second message, a repeated set)
        bytes = Buffer.concat([bytes, bytes.subarray(at, at + (value % 200))]);
        break;
      default: // flip one bit
        bytes[at] = bytes[at]! ^ (1 << (value % 8));
    }
  }
  return bytes;
}

const datagramArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.nat(seeds.length - 1),
        fc.array(fc.tuple(fc.nat(5), fc.nat(), fc.nat(65535)), { minLength: 1, maxLength: 6 }),
      )
      .map(([i, steps]) => mutate(seeds[i]!, steps)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(5, 9, 10), fc.uint8Array({ maxLength: 600 }))
      .map(([version, body]) => Buffer.concat([u16(version), Buffer.from(body)])),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
);

test(`${RUNS} random and mutated datagrams: no throw, bounded time, bounded output`, () => {
  const cache = new TemplateCache({ now: () => 1_000_000, maxTemplatesPerDomain: 512, maxDomains: 2048 });
  const tracker = new SequenceTracker();
  const collectingCache = new TemplateCache({
    now: () => 1_000_000,
    maxTemplatesPerDomain: 512,
    maxDomains: 2048,
  });
  const collectingTracker = new SequenceTracker();
  let disagreements = 0;
  let slowest = 0;
  let decodedRecords = 0;
  let iteration = 0;
  fc.assert(
    fc.property(datagramArb, (datagram) => {
      const exporter = EXPORTERS[iteration++ % EXPORTERS.length]!;
      const t0 = performance.now();
      const produced = produceFlows(datagram, exporter, 1_000_000, cache, tracker);
      const elapsed = performance.now() - t0;
      slowest = Math.max(slowest, elapsed);
      const { info, flows, issues } = produced;
      decodedRecords += info.dataRecords;
      const collected = produceFromDecoded(
        decodeDatagram(datagram, exporter, collectingCache),
        exporter,
        1_000_000,
        collectingCache,
        collectingTracker,
      );
      if (JSON.stringify(collected) !== JSON.stringify(produced)) disagreements++;
      // Every record takes at least one byte; a biflow record gives at most two flows.
      return (
        elapsed < 250 &&
        info.dataRecords + info.optionsRecords + info.templateRecords <= datagram.length &&
        flows.length <= 2 * info.dataRecords &&
        issues.length <= datagram.length + 4 &&
        flows.every((f) => Number.isFinite(f.startMs) && Number.isFinite(f.packets) && f.samplingRate >= 1)
      );
    }),
    { numRuns: RUNS, seed: Number(process.env['FUZZ_SEED'] ?? 20240312) },
  );
  // The mutations must exercise real decoding, not only rejections.
  expect(decodedRecords).toBeGreaterThan(RUNS / 4);
  expect(disagreements).toBe(0);
  expect(slowest).toBeLessThan(250);
  // Whatever the fuzzing left in the cache is still plain, restorable data.
  const snapshot = JSON.parse(JSON.stringify(cache.snapshot())) as TemplateSnapshot[];
  const restored = new TemplateCache({ now: () => 1_000_000 }).restore(snapshot);
  expect(restored.restored).toBe(snapshot.length);
});

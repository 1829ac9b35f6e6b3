// Per-datagram cost of the collector's CPU path on one core: decode + produce FlowRecords,
// then the same plus the IPsec normalizer (kinds, tunnels, SAs, bucket deltas, loss
// checks), then plus the hand-off encoder (store/writer/flow-batch-codec.ts, sealed every
// ENCODE_BATCH rows with its dictionary kept and its arrays given back, as the writer
// does), then plus packing the batches into flow blocks (the writer thread's JS), on the
// synthetic IPFIX traffic the end-to-end benchmark sends. The differences are each
// stage's cost; the last stage also times the packing alone (packNsPerRecord, wall time
// inside the packing calls). Prints JSON lines.
import { parseNormalizeConfig } from '../../collector/normalize/config.js';
import { createNormalizer } from '../../collector/normalize/normalizer.js';
import type { NormalizedFlow } from '../../model/flow.js';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import { encodeBlockTransient } from '../../store/sqlite/flow-block-codec.js';
import { FlowBatchEncoder, FlowDictionaryMirror } from '../../store/writer/flow-batch-codec.js';
import { benchMessages } from './bench-datagrams.js';

const PER_MESSAGE = 30;
/** Rows per sealed hand-off batch (the writer seals at its batch size or every flush). */
const ENCODE_BATCH = 8192;

/** Datagrams between two takes of the normalizer's changes: a second of 30-record datagrams at 100 k records/s. */
const CHANGES_EVERY = 3_333;

const STAGES = ['decode+produce', 'decode+produce+normalize', '+encode', '+encode+pack'] as const;

export function runPipelineBench(seconds = 3): Array<Record<string, unknown>> {
  const startMs = Date.now() - 120_000;
  const { messages, template } = benchMessages(512, PER_MESSAGE, startMs);
  const results: Array<Record<string, unknown>> = [];
  for (const [stage, name] of STAGES.entries()) {
    const withNormalizer = stage >= 1;
    const cache = new TemplateCache({ now: () => startMs });
    const tracker = new SequenceTracker();
    const normalizer = createNormalizer(parseNormalizeConfig({}));
    const encoder = new FlowBatchEncoder(4096);
    const mirror = new FlowDictionaryMirror();
    const rows = Array.from({ length: ENCODE_BATCH }, (_, r) => r);
    // The packing's own time: the stages' difference moves with the machine's load.
    let packNs = 0;
    let packRows = 0;
    const encode = (flows: readonly NormalizedFlow[]): void => {
      for (const flow of flows) encoder.add(flow);
      if (encoder.rows < ENCODE_BATCH) return;
      const batch = encoder.seal(true);
      if (stage === 3) {
        const restored = mirror.restore(batch);
        const blockRows = rows.slice(0, batch.rows);
        const t = process.hrtime.bigint();
        encodeBlockTransient(restored, blockRows);
        packNs += Number(process.hrtime.bigint() - t);
        packRows += blockRows.length;
      }
      encoder.recycle(
        batch.integers.buffer as ArrayBuffer,
        batch.texts.buffer as ArrayBuffer,
        batch.ipv4.buffer as ArrayBuffer,
      );
    };
    produceFlows(template, '192.0.2.1', startMs, cache, tracker);
    let records = 0;
    let i = 0;
    // Warm up, then measure for `seconds`.
    const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    const t0 = process.hrtime.bigint();
    while (process.hrtime.bigint() < until) {
      for (let k = 0; k < 64; k++) {
        const produced = produceFlows(
          messages[i % messages.length] as Buffer,
          '192.0.2.1',
          startMs,
          cache,
          tracker,
        );
        if (withNormalizer) {
          const flows = normalizer.normalize(produced.flows);
          // The collector takes the tunnel, SA and bucket changes once per flush (1 s).
          if (i % CHANGES_EVERY === CHANGES_EVERY - 1) normalizer.takeChanges();
          if (stage >= 2) encode(flows);
        }
        records += produced.flows.length;
        i++;
      }
    }
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    results.push({
      name,
      records,
      seconds: Number(elapsed.toFixed(3)),
      recordsPerSecond: Math.round(records / elapsed),
      ...(stage === 3 ? { packNsPerRecord: Math.round(packNs / packRows) } : {}),
    });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of runPipelineBench()) process.stdout.write(`${JSON.stringify(r)}\n`);
}

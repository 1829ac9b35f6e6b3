// SqliteStore benchmarks (`node --import tsx test/bench/store.ts [--quick] [--only transfer,writer]`, or benchStore() from
// a bench runner). Prints one JSON line per measurement:
//  - transfer: main-thread cost of handing flows to the writer's worker, structured
//    clone of flow objects vs the compact columnar encoding (store/writer/flow-batch-codec.ts);
//  - writer: sustained rows/s through createFlowWriter (worker thread, flow blocks),
//    with the main thread's busy share.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { NormalizedFlow } from '../../model/flow.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { FlowBatchEncoder, transferablesOf } from '../../store/writer/flow-batch-codec.js';
import type { WriterConfig } from '../../store/writer/config.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import { syntheticFlows } from '../store/synthetic-flows.js';

export type BenchLine = Record<string, unknown>;

export interface StoreBenchOptions {
  /** Rows through the writer. */
  readonly writerRows?: number;
  readonly print?: (line: BenchLine) => void;
  /** Which measurements to run (all by default). */
  readonly only?: ReadonlyArray<'transfer' | 'writer'>;
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** Runs every store benchmark; returns (and prints, when asked) one line per measurement. */
export async function benchStore(options: StoreBenchOptions = {}): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  const emit = (line: BenchLine): void => {
    lines.push(line);
    options.print?.(line);
  };
  const dir = mkdtempSync(join(tmpdir(), 'tunnelflow-bench-'));
  try {
    const run = (name: 'transfer' | 'writer') => options.only === undefined || options.only.includes(name);
    if (run('transfer')) benchTransfer(emit);
    if (run('writer')) {
      await benchWriter(dir, options.writerRows ?? 2_000_000, 'shipped: checkpointer thread', {}, emit);
      await benchWriter(
        dir,
        options.writerRows ?? 2_000_000,
        'checkpoints on the writer thread',
        { checkpointIntervalMs: 0 },
        emit,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

function benchTransfer(emit: (line: BenchLine) => void): void {
  const flows = syntheticFlows(20_000, { seed: 2 });
  const { port1, port2 } = new MessageChannel();
  const clone = { send: [] as number[], receive: [] as number[] };
  const compact = { encode: [] as number[], send: [] as number[], receive: [] as number[] };
  for (let rep = 0; rep < 7; rep += 1) {
    // postMessage serialises on the sending thread; receiving deserialises on the other.
    let t = performance.now();
    port1.postMessage(flows);
    clone.send.push(performance.now() - t);
    t = performance.now();
    receiveMessageOnPort(port2);
    clone.receive.push(performance.now() - t);

    t = performance.now();
    const encoder = new FlowBatchEncoder(4096);
    for (const flow of flows) encoder.add(flow);
    const batch = encoder.seal();
    compact.encode.push(performance.now() - t);
    t = performance.now();
    port1.postMessage(batch, transferablesOf(batch));
    compact.send.push(performance.now() - t);
    t = performance.now();
    receiveMessageOnPort(port2);
    compact.receive.push(performance.now() - t);
  }
  port1.close();
  const perRow = (ms: number) => round((ms * 1000) / flows.length, 3);
  emit({
    name: 'transfer',
    rows: flows.length,
    structuredCloneSendUsPerRow: perRow(median(clone.send)),
    structuredCloneReceiveUsPerRow: perRow(median(clone.receive)),
    compactEncodeUsPerRow: perRow(median(compact.encode)),
    compactSendUsPerRow: perRow(median(compact.send)),
    compactReceiveUsPerRow: perRow(median(compact.receive)),
    mainThreadUsPerRow: {
      structuredClone: perRow(median(clone.send)),
      compact: perRow(median(compact.encode) + median(compact.send)),
    },
  });
}

/** Flows in arrival order, `rounds` × `chunk` rows, generated once and shifted in time per round. */
function* arriving(total: number, chunk: number, seed: number): Generator<NormalizedFlow[]> {
  const base = syntheticFlows(Math.min(total, 200_000), { seed });
  const span = base.length / 10 + 1000;
  let sent = 0;
  for (let shift = 0; sent < total; shift += span) {
    if (shift > 0) {
      for (const flow of base) {
        const mutable = flow as { startMs: number; endMs: number };
        mutable.startMs += span;
        mutable.endMs += span;
      }
    }
    for (let i = 0; i < base.length && sent < total; i += chunk) {
      const part = base.slice(i, Math.min(i + chunk, base.length, i + total - sent));
      sent += part.length;
      yield part;
    }
  }
}

async function benchWriter(
  dir: string,
  rows: number,
  variant: string,
  config: Partial<WriterConfig>,
  emit: (line: BenchLine) => void,
): Promise<void> {
  const path = join(dir, `writer-${variant.replace(/\W+/g, '-')}.db`);
  const store = await openSqliteStore({ path });
  const writer = createFlowWriter(config, { storeConfig: store.config });
  await writer.start();
  const chunks = arriving(rows, 1000, 9);
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  for (const chunk of chunks) await writer.write(chunk);
  await writer.flush();
  const ms = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  const stats = writer.stats();
  await writer.stop();
  const info = store.infoNow();
  await store.close();
  emit({
    name: 'writer',
    variant,
    rows: stats.written,
    seconds: round(ms / 1000),
    rowsPerSecond: Math.round((stats.written / ms) * 1000),
    target: 300_000,
    mainThreadBusy: round(elu.utilization, 3),
    batches: stats.batches,
    transactions: stats.transactions,
    dropped: stats.dropped,
    bytesPerRow: Math.round(info.usedBytes / stats.written),
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  // --only transfer,writer
  const onlyArg = process.argv[process.argv.indexOf('--only') + 1];
  const only =
    process.argv.includes('--only') && onlyArg !== undefined
      ? (onlyArg.split(',') as Array<'transfer' | 'writer'>)
      : undefined;
  await benchStore({
    only,
    writerRows: quick ? 400_000 : 2_000_000,
    print: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
  });
}

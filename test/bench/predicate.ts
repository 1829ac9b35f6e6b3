// Filters evaluated in JavaScript over flow columns (store/filter/flow-predicate.ts):
// rows/s of typical predicates over an encoded batch of synthetic flows
// (`node --import tsx test/bench/predicate.ts [--rows N]`, or `npm run bench -- --only predicate`).
// Prints one JSON line per filter: bind time (the per-dictionary-string work), rows/s of the
// row test (median of 5 passes), and the share of rows selected.
import { parseArgs } from 'node:util';
import { compileFlowPredicate } from '../../store/filter/flow-predicate.js';
import { parseFilter } from '../../store/filter/parse-filter.js';
import { INTEGER_COUNT, TEXT_COUNT } from '../../store/flows/flow-columns.js';
import type { EncodedFlows } from '../../store/writer/flow-batch-codec.js';
import { encodedFlowsView, encodeFlows } from '../../store/writer/flow-batch-codec.js';
import { syntheticFlows } from '../store/synthetic-flows.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, filter: { type: 'string' } },
});
const rows = Math.max(1, Math.trunc(Number(values.rows)) || 1_000_000);

// 100k distinct flows, tiled up to `rows`: one dictionary of ~60k strings (hosts,
// tunnels, exporters), as a block of a busy uplink would have.
const distinct = Math.min(rows, 100_000);
const sample = encodeFlows(syntheticFlows(distinct, { seed: 7 }));
const integers = new Float64Array(rows * INTEGER_COUNT);
const texts = new Int32Array(rows * TEXT_COUNT);
const ipv4 = new Uint32Array(rows * 2);
for (let start = 0; start < rows; start += distinct) {
  const n = Math.min(distinct, rows - start);
  integers.set(sample.integers.subarray(0, n * INTEGER_COUNT), start * INTEGER_COUNT);
  texts.set(sample.texts.subarray(0, n * TEXT_COUNT), start * TEXT_COUNT);
  ipv4.set(sample.ipv4.subarray(0, n * 2), start * 2);
}
const batch: EncodedFlows = { rows, integers, texts, ipv4, strings: sample.strings };
const view = encodedFlowsView(batch);

const ALL_FILTERS = [
  'proto esp',
  'port 53',
  'not port 53',
  'kind esp and packets > 100',
  'net 10.0.0.0/12 and not port 53',
  'host 198.51.100.7 or port 500',
  'net 2001:db8::/40',
  'tunnel t-10.0.1.44-198.51.100.45',
  '(proto esp or proto udp) and dst net 198.51.100.0/25 and bytes >= 100k',
];

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;

const FILTERS = values.filter === undefined ? ALL_FILTERS : [values.filter];
for (const filter of FILTERS) {
  const predicate = compileFlowPredicate(parseFilter(filter));
  let bindMs = 0;
  const passes: number[] = [];
  let selected = 0;
  for (let pass = 0; pass < 6; pass += 1) {
    const bound = performance.now();
    const test = predicate(view);
    const started = performance.now();
    let count = 0;
    for (let row = 0; row < rows; row += 1) if (test(row)) count += 1;
    const ended = performance.now();
    // The first pass warms the JIT up and is left out.
    if (pass === 0) continue;
    bindMs = started - bound;
    passes.push(ended - started);
    selected = count;
  }
  const ms = median(passes);
  process.stdout.write(
    `${JSON.stringify({
      filter,
      rows,
      dictionary: batch.strings.length,
      bindMs: Number(bindMs.toFixed(2)),
      scanMs: Number(ms.toFixed(1)),
      rowsPerSecond: Math.round(rows / (ms / 1000)),
      selected: Number((selected / rows).toFixed(4)),
    })}\n`,
  );
}

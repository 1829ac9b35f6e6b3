// Export streams for the sequence-number tests: IPFIX messages with options and data records
// interleaved, NetFlow v9 packets with options, and each convention's sequence numbers worked
// out from its definition (test/produce/sequence-numbering.test.ts, test/e2e/decoder-accuracy.test.ts).

import type { SequenceConvention } from '../../collector/produce/sequence-tracker.js';
import {
  dataSet,
  ip,
  ipfixMessage,
  ipfixOptionsTemplateSet,
  ipfixTemplateSet,
  u32,
  u64,
  v9OptionsTemplateFlowSet,
  v9Packet,
  v9TemplateFlowSet,
} from '../wire/datagram-builder.js';
import type { FieldSpec } from '../wire/datagram-builder.js';

export const START = Date.UTC(2026, 11, 7, 1, 0, 0);

const FLOW_FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 1, length: 8 },
  { id: 152, length: 8 },
  { id: 153, length: 8 },
];
// Options: scope exportingProcessId (144), then exportedMessageTotalCount (41).
const OPTION_FIELDS: FieldSpec[] = [
  { id: 144, length: 4 },
  { id: 41, length: 8 },
];
const flowRecord = (i: number): Buffer =>
  Buffer.concat([
    ip('192.0.2.10'),
    ip(`198.51.100.${(i % 200) + 1}`),
    u64(100 + i),
    u64(START),
    u64(START + 500),
  ]);
const optionsRecord = (i: number): Buffer => Buffer.concat([u32(7), u64(i)]);

/** One message's content: flow records, options records, and whether templates lead it. */
export interface Content {
  readonly flows: number;
  readonly options: number;
  readonly templates?: boolean;
}

/**
 * The sequence number of each message under `convention`, from its definition: units sent
 * before the message (`pre`) or including it (`post`); template records never count.
 */
export function numbering(contents: readonly Content[], convention: SequenceConvention, start = 0): number[] {
  const units = (c: Content): number =>
    convention === 'packets' ? 1 : convention.startsWith('records') ? c.flows + c.options : c.flows;
  const post = convention.endsWith('post');
  let total = start;
  return contents.map((c) => {
    const before = total;
    total += units(c);
    return (post ? total : before) >>> 0;
  });
}

export function ipfixStream(
  contents: readonly Content[],
  sequences: readonly number[],
  domain = 0,
): Buffer[] {
  let n = 0;
  return contents.map((c, i) => {
    const sets: Buffer[] = [];
    if (c.templates === true) {
      sets.push(ipfixTemplateSet([{ id: 300, fields: FLOW_FIELDS }]));
      sets.push(ipfixOptionsTemplateSet([{ id: 400, scopeCount: 1, fields: OPTION_FIELDS }]));
    }
    // Options and data records interleaved: options before, between and after the flows.
    const half = Math.floor(c.flows / 2);
    const flowsA = Array.from({ length: half }, () => flowRecord(n++));
    const flowsB = Array.from({ length: c.flows - half }, () => flowRecord(n++));
    const optionsA = Array.from({ length: Math.ceil(c.options / 2) }, (_, k) => optionsRecord(k));
    const optionsB = Array.from({ length: Math.floor(c.options / 2) }, (_, k) => optionsRecord(k));
    if (optionsA.length > 0) sets.push(dataSet(400, optionsA));
    if (flowsA.length > 0) sets.push(dataSet(300, flowsA));
    if (optionsB.length > 0) sets.push(dataSet(400, optionsB));
    if (flowsB.length > 0) sets.push(dataSet(300, flowsB));
    return ipfixMessage({ domain, sequence: sequences[i] ?? 0, exportTime: START / 1000 }, sets);
  });
}

// v9 flow times are sysUptime ms (21 last, 22 first).
const V9_FLOW_FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 1, length: 4 },
  { id: 22, length: 4 },
  { id: 21, length: 4 },
];
const v9Flow = (i: number): Buffer =>
  Buffer.concat([
    ip('192.0.2.10'),
    ip(`198.51.100.${(i % 200) + 1}`),
    u32(100 + i),
    u32(90_000),
    u32(95_000),
  ]);

export function v9Stream(contents: readonly Content[], sequences: readonly number[], sourceId = 0): Buffer[] {
  return contents.map((c, i) => {
    const sets: Buffer[] = [];
    let count = c.flows + c.options;
    if (c.templates === true) {
      sets.push(v9TemplateFlowSet([{ id: 300, fields: V9_FLOW_FIELDS }]));
      // Scope 1 (system), 4 bytes; option: samplingInterval (34).
      sets.push(v9OptionsTemplateFlowSet(400, [{ id: 1, length: 4 }], [{ id: 34, length: 4 }]));
      count += 2;
    }
    if (c.options > 0) {
      sets.push(
        dataSet(
          400,
          Array.from({ length: c.options }, () => Buffer.concat([u32(0), u32(1)])),
        ),
      );
    }
    if (c.flows > 0)
      sets.push(
        dataSet(
          300,
          Array.from({ length: c.flows }, (_, k) => v9Flow(k)),
        ),
      );
    return v9Packet({ count, sourceId, sequence: sequences[i] ?? 0, uptimeMs: 100_000 }, sets);
  });
}

// Options records in most messages, not only beside the templates, in varying numbers.
export const INTERLEAVED: Content[] = [
  { flows: 5, options: 2, templates: true },
  { flows: 8, options: 0 },
  { flows: 3, options: 3 },
  { flows: 6, options: 1 },
  { flows: 0, options: 4 },
  { flows: 7, options: 2, templates: true },
  { flows: 4, options: 0 },
  { flows: 9, options: 1 },
];

// Export sequence numbers end to end (datagram bytes → produceFlows → sequence observation):
// what the number counts per RFC 7011 §3.1 (IPFIX: data records, options records included,
// template records not) and RFC 3954 §5.1 (v9: export packets), what real exporters do
// instead (softflowd: flow records only, after the message), several domains or source ids on
// one exporter, and restarts. Datagrams are built field by field; sequence numbers are worked
// out here from each convention's definition.

import { describe, expect, test } from 'vitest';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import type { SequenceConvention } from '../../collector/produce/sequence-tracker.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
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

const EXPORTER = '192.0.2.1';
const RECEIVED = 1_800_000_000_000;
const START = Date.UTC(2026, 11, 7, 1, 0, 0);

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
interface Content {
  readonly flows: number;
  readonly options: number;
  readonly templates?: boolean;
}

/**
 * The sequence number of each message under `convention`, from its definition: units sent
 * before the message (`pre`) or including it (`post`); template records never count.
 */
function numbering(contents: readonly Content[], convention: SequenceConvention, start = 0): number[] {
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

function ipfixStream(contents: readonly Content[], sequences: readonly number[], domain = 0): Buffer[] {
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

function v9Stream(contents: readonly Content[], sequences: readonly number[], sourceId = 0): Buffer[] {
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

function observe(datagrams: readonly Buffer[], tracker = new SequenceTracker(), cache = new TemplateCache()) {
  return datagrams.map((d) => {
    const produced = produceFlows(d, EXPORTER, RECEIVED, cache, tracker);
    expect(produced.issues).toEqual([]);
    const s = produced.info.sequence;
    if (s === null) throw new Error('no sequence observation');
    return s;
  });
}

const gaps = (observations: readonly { gap: number }[]): number =>
  observations.reduce((n, o) => n + o.gap, 0);

// Options records in most messages, not only beside the templates, in varying numbers.
const INTERLEAVED: Content[] = [
  { flows: 5, options: 2, templates: true },
  { flows: 8, options: 0 },
  { flows: 3, options: 3 },
  { flows: 6, options: 1 },
  { flows: 0, options: 4 },
  { flows: 7, options: 2, templates: true },
  { flows: 4, options: 0 },
  { flows: 9, options: 1 },
];

describe('IPFIX, numbered as RFC 7011 §3.1 says (data records incl. options, before the message)', () => {
  const sequences = numbering(INTERLEAVED, 'records-pre', 1000);

  test('interleaved options and data records, no loss: 0 gaps, all in order', () => {
    const seen = observe(ipfixStream(INTERLEAVED, sequences));
    expect(seen.map((o) => o.event)).toEqual(['first', ...Array(INTERLEAVED.length - 1).fill('in-order')]);
    expect(gaps(seen)).toBe(0);
    expect(seen.at(-1)?.convention).toBe('records-pre');
  });

  test.each([1, 2, 3, 4, 6])('datagram %i removed: the gap is exactly its records', (removed) => {
    const all = ipfixStream(INTERLEAVED, sequences);
    const seen = observe(all.filter((_, i) => i !== removed));
    const lost = INTERLEAVED[removed]!;
    expect(gaps(seen)).toBe(lost.flows + lost.options);
    expect(seen.filter((o) => o.event === 'gap')).toHaveLength(1);
  });
});

describe('IPFIX numbered as softflowd does (flow records only, including the message’s own)', () => {
  const sequences = numbering(INTERLEAVED, 'flows-post');

  test('no loss: learned from the stream, 0 gaps', () => {
    const seen = observe(ipfixStream(INTERLEAVED, sequences));
    expect(seen.slice(1).every((o) => o.event === 'in-order')).toBe(true);
    expect(seen.at(-1)?.convention).toBe('flows-post');
  });

  test('a datagram removed after learning: the gap is its flow records', () => {
    const seen = observe(ipfixStream(INTERLEAVED, sequences).filter((_, i) => i !== 5));
    expect(gaps(seen)).toBe(INTERLEAVED[5]!.flows);
  });
});

describe('several observation domains on one exporter are separate streams', () => {
  test('interleaved domains with their own numbering: 0 gaps; a loss in one is counted there', () => {
    const a = ipfixStream(INTERLEAVED, numbering(INTERLEAVED, 'records-pre', 0), 1);
    const b = ipfixStream(INTERLEAVED, numbering(INTERLEAVED, 'records-pre', 777_000), 2);
    const tracker = new SequenceTracker();
    const cache = new TemplateCache();
    const mixed = a.flatMap((d, i) => [d, b[i]!]);
    expect(gaps(observe(mixed, tracker, cache))).toBe(0);
    const lossInB = a.flatMap((d, i) => (i === 3 ? [d] : [d, b[i]!]));
    const seen = observe(lossInB, new SequenceTracker(), new TemplateCache());
    expect(gaps(seen)).toBe(INTERLEAVED[3]!.flows + INTERLEAVED[3]!.options);
  });
});

describe('IPFIX exporter restart', () => {
  test('back to 0 is a reset, not a gap (nor a late datagram)', () => {
    const before = INTERLEAVED.slice(0, 4);
    const after = INTERLEAVED.slice(4).map((c, i) => (i === 0 ? { ...c, templates: true } : c));
    const datagrams = [
      ...ipfixStream(before, numbering(before, 'records-pre', 5000)),
      ...ipfixStream(after, numbering(after, 'records-pre', 0)),
    ];
    const seen = observe(datagrams);
    expect(seen.map((o) => o.event)).toEqual([
      'first',
      'in-order',
      'in-order',
      'in-order',
      'reset',
      'in-order',
      'in-order',
      'in-order',
    ]);
    expect(gaps(seen)).toBe(0);
  });
});

describe('NetFlow v9', () => {
  const V9: Content[] = [
    { flows: 3, options: 1, templates: true },
    { flows: 5, options: 0 },
    { flows: 2, options: 0 },
    { flows: 6, options: 1 },
    { flows: 4, options: 0 },
    { flows: 1, options: 0 },
  ];

  test('several source ids, packet counting (RFC 3954), a restart of one: no gap; a lost packet is 1', () => {
    const one = v9Stream(V9, numbering(V9, 'packets', 1), 1);
    const two = v9Stream(V9, numbering(V9, 'packets', 40_000), 2);
    // Source 2 restarts after its third packet: back to 1, templates again.
    const twoRestarted = v9Stream(
      V9.slice(3).map((c, i) => (i === 0 ? { ...c, templates: true } : c)),
      [1, 2, 3],
      2,
    );
    const interleaved = [one[0]!, two[0]!, one[1]!, two[1]!, one[2]!, two[2]!, one[3]!, twoRestarted[0]!];
    const rest = [one[4]!, twoRestarted[1]!, one[5]!, twoRestarted[2]!];
    const seen = observe([...interleaved, ...rest]);
    expect(gaps(seen)).toBe(0);
    expect(seen.filter((o) => o.event === 'reset')).toHaveLength(1);
    expect(seen[7]?.event).toBe('reset');
    expect(seen.every((o) => o.convention === 'packets')).toBe(true);

    const lossy = observe([one[0]!, two[0]!, one[1]!, one[3]!, two[1]!, one[4]!]);
    expect(lossy.map((o) => o.gap)).toEqual([0, 0, 0, 1, 0, 0]);
  });

  test('a record-counting exporter (later softflowd: flow records after the packet) is learned: no false gaps', () => {
    const sequences = numbering(V9, 'flows-post');
    const seen = observe(v9Stream(V9, sequences));
    expect(gaps(seen)).toBe(0);
    expect(seen.at(-1)?.convention).toBe('flows-post');
    // And a packet lost later costs its flow records, not 1.
    const lossy = observe(v9Stream(V9, sequences).filter((_, i) => i !== 4));
    expect(gaps(lossy)).toBe(V9[4]!.flows);
  });

  test('records counted before the packet, options included, also learned', () => {
    const seen = observe(v9Stream(V9, numbering(V9, 'records-pre', 10)));
    expect(gaps(seen)).toBe(0);
    expect(seen.at(-1)?.convention).toBe('records-pre');
  });

  test('a restart back to about 0 with packet counting is a reset', () => {
    const seen = observe(v9Stream(V9, [500, 501, 502, 0, 1, 2]));
    expect(seen.map((o) => o.event)).toEqual([
      'first',
      'in-order',
      'in-order',
      'reset',
      'in-order',
      'in-order',
    ]);
  });
});

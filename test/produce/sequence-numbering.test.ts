// Export sequence numbers end to end (datagram bytes → produceFlows → sequence observation):
// what the number counts per RFC 7011 §3.1 (IPFIX: data records, options records included,
// template records not) and RFC 3954 §5.1 (v9: export packets), what real exporters do
// instead (softflowd: flow records only, after the message), several domains or source ids on
// one exporter, and restarts. Datagrams are built field by field; sequence numbers are worked
// out here from each convention's definition.

import { describe, expect, test } from 'vitest';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import { INTERLEAVED, ipfixStream, numbering, v9Stream } from './sequence-streams.js';
import type { Content } from './sequence-streams.js';

const EXPORTER = '192.0.2.1';
const RECEIVED = 1_800_000_000_000;

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

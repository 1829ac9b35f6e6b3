// RFC 7011 §3.1: the IPFIX sequence number counts every Data Record sent before the message,
// Options Data Records included (RFC 7011 §2 calls both Data Records). tunnelflow probe sends
// options records (RFC 5610 type records, capture counters) between its flow records.

import { expect, test } from 'vitest';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import {
  encodeDataRecord,
  encodeDataSet,
  encodeMessage,
  encodeOptionsTemplateSet,
  encodeTemplateSet,
} from '../../collector/wire/ipfix-encoder.js';
import type { EncodeField } from '../../collector/wire/ipfix-encoder.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';

const flow: EncodeField[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 2, length: 8 },
  { id: 152, length: 8 },
  { id: 153, length: 8 },
];
const options: EncodeField[] = [
  { id: 149, length: 4 },
  { id: 41, length: 8 },
];
const rec = (n: number) => encodeDataRecord(flow, ['192.0.2.1', '192.0.2.2', n, 1_000, 2_000]);

test('options data records count in the IPFIX sequence number: no gap is invented', () => {
  const cache = new TemplateCache({ now: () => 0 });
  const tracker = new SequenceTracker();
  const m1 = encodeMessage({
    exportTimeSec: 10,
    sequence: 0,
    observationDomainId: 4,
    sets: [
      encodeTemplateSet([{ templateId: 256, fields: flow }]),
      encodeOptionsTemplateSet([{ templateId: 257, scopeFieldCount: 1, fields: options }]),
      encodeDataSet(257, [encodeDataRecord(options, [4, 0])]),
      encodeDataSet(256, [rec(1), rec(2)]),
    ],
  });
  // One options record and two flow records before it: 3.
  const m2 = encodeMessage({
    exportTimeSec: 10,
    sequence: 3,
    observationDomainId: 4,
    sets: [encodeDataSet(256, [rec(3)]), encodeDataSet(257, [encodeDataRecord(options, [4, 1])])],
  });
  const m3 = encodeMessage({
    exportTimeSec: 10,
    sequence: 5,
    observationDomainId: 4,
    sets: [encodeDataSet(256, [rec(4)])],
  });
  const events = [m1, m2, m3].map((m) => produceFlows(m, '192.0.2.9', 0, cache, tracker).info.sequence);
  expect(events.map((e) => [e?.event, e?.gap])).toEqual([
    ['first', 0],
    ['in-order', 0],
    ['in-order', 0],
  ]);
});

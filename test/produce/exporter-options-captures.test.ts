// Real exporters with options records in mid-stream (test/fixtures/exports-options, see its
// PROVENANCE): pmacct's IPFIX counts options records in its sequence numbers as RFC 7011 §3.1
// says, softflowd's counts flow records only (after the message), both v9 exporters count
// packets. Each must read with no sequence gap, and with one datagram taken out, with a gap of
// exactly what that datagram held in the stream's own units.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readCapture } from '../../collector/capture/index.js';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import type { ProducedDatagram } from '../../collector/produce/produce-flows.js';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import type { SequenceConvention } from '../../collector/produce/sequence-tracker.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'exports-options');

function produce(payloads: readonly Buffer[]): ProducedDatagram[] {
  const tracker = new SequenceTracker();
  const cache = new TemplateCache();
  return payloads.map((p) => produceFlows(p, '127.0.0.1', 0, cache, tracker));
}

const cases: readonly (readonly [string, number, number, SequenceConvention])[] = [
  ['pmacct_ipfix_sampling.pcap', 131, 8, 'records-pre'],
  ['pmacct_v9_sampling.pcap', 131, 8, 'packets'],
  ['softflowd_ipfix.pcap', 38, 3, 'flows-post'],
  ['softflowd_v9.pcap', 38, 3, 'packets'],
];

describe.each(cases)('%s', (file, datagrams, options, convention) => {
  const payloads = readCapture(readFileSync(join(DIR, file))).datagrams.map((d) => d.payload);
  const produced = produce(payloads);

  test('all datagrams, flows and options records, options past the first datagram', () => {
    expect(produced).toHaveLength(datagrams);
    expect(produced.reduce((n, p) => n + p.flows.length, 0)).toBe(1000);
    expect(produced.reduce((n, p) => n + p.info.optionsRecords, 0)).toBe(options);
    expect(produced.slice(1).some((p) => p.info.optionsRecords > 0)).toBe(true);
  });

  test('no sequence gap, and the convention the exporter uses is the one learned', () => {
    expect(produced[0]?.info.sequence?.event).toBe('first');
    expect(produced.slice(1).map((p) => p.info.sequence?.event)).toEqual(
      Array(datagrams - 1).fill('in-order'),
    );
    expect(produced.at(-1)?.info.sequence?.convention).toBe(convention);
  });

  test('a datagram with options records taken out: the gap is what it held, in the stream’s units', () => {
    const at = produced.findIndex((p, i) => i > 4 && p.info.optionsRecords > 0);
    expect(at).toBeGreaterThan(0);
    const removed = produced[at]!.info;
    const expected =
      convention === 'packets'
        ? 1
        : convention === 'records-pre'
          ? removed.dataRecords + removed.optionsRecords
          : removed.dataRecords;
    const lossy = produce(payloads.filter((_, i) => i !== at));
    expect(lossy.reduce((n, p) => n + (p.info.sequence?.gap ?? 0), 0)).toBe(expected);
    expect(lossy.filter((p) => p.info.sequence?.event === 'gap')).toHaveLength(1);
  });
});

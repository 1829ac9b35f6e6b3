import { describe, expect, test } from 'vitest';
import { FLOW_INTEGER_COLUMNS, FLOW_TEXT_COLUMNS } from '../../store/flows/flow-columns.js';
import {
  DICTIONARY_LIMIT,
  encodedText,
  encodeFlows,
  FlowBatchEncoder,
  FlowDictionaryMirror,
} from '../../store/writer/flow-batch-codec.js';
import type { EncodedFlows } from '../../store/writer/flow-batch-codec.js';
import type { NormalizedFlow } from '../../model/flow.js';
import { IPV4_TEXT } from '../../store/flows/flow-columns-view.js';
import { missingRequired } from '../../store/writer/sink-outcome.js';
import { syntheticFlows } from './synthetic-flows.js';

/** The text columns of every row, read through a batch's dictionary. */
function texts(batch: EncodedFlows): Array<Array<string | null>> {
  return Array.from({ length: batch.rows }, (_, r) =>
    FLOW_TEXT_COLUMNS.map((_, c) => encodedText(batch, r, c)),
  );
}

function sealInto(encoder: FlowBatchEncoder, flows: readonly NormalizedFlow[]): EncodedFlows {
  for (const flow of flows) encoder.add(flow);
  return encoder.seal(true);
}

describe('addresses on the way to the writer', () => {
  test('IPv4 addresses travel as numbers, never in the dictionary; any other text as a string', () => {
    const base = syntheticFlows(1, { seed: 9 })[0]!;
    const sources = ['10.1.2.3', '2001:db8::1', '010.1.2.3', '0.0.0.0', '255.255.255.255'];
    const batch = encodeFlows(sources.map((src) => ({ ...base, src, dst: '192.0.2.9' })));
    expect(texts(batch).map((row) => [row[1], row[2]])).toEqual(sources.map((src) => [src, '192.0.2.9']));
    const src = FLOW_TEXT_COLUMNS.indexOf('src');
    expect(sources.map((_, r) => batch.texts[r * FLOW_TEXT_COLUMNS.length + src])).toEqual([
      IPV4_TEXT,
      batch.strings.indexOf('2001:db8::1'),
      batch.strings.indexOf('010.1.2.3'),
      IPV4_TEXT,
      IPV4_TEXT,
    ]);
    expect([...batch.ipv4.subarray(0, 2)]).toEqual([0x0a010203, 0xc0000209]);
    expect(batch.strings).not.toContain('10.1.2.3');
    expect(batch.strings).not.toContain('192.0.2.9');
  });

  test("the producer's IPv4 number is used only when it is the address's own", () => {
    const base = syntheticFlows(1, { seed: 9 })[0]!;
    const batch = encodeFlows([
      { ...base, src: '10.1.2.3', srcIpv4: 0x0a010203, dst: '192.0.2.9', dstIpv4: 0x01020304 },
      { ...base, src: '2001:db8::1', srcIpv4: 0x0a010203, dst: '192.0.2.9', dstIpv4: -1 },
    ]);
    expect(texts(batch).map((row) => [row[1], row[2]])).toEqual([
      ['10.1.2.3', '192.0.2.9'],
      ['2001:db8::1', '192.0.2.9'],
    ]);
    expect([...batch.ipv4.subarray(0, 2)]).toEqual([0x0a010203, 0xc0000209]);
  });

  test('an address held as a number is present; a missing one is refused', () => {
    const base = syntheticFlows(1, { seed: 9 })[0]!;
    const batch = encodeFlows([base, { ...base, src: null as unknown as string }]);
    expect(missingRequired(batch, 0)).toBeNull();
    expect(missingRequired(batch, 1)).toBe('flow row refused: src is missing');
  });
});

describe('integers on the way to the writer (store/bigint-policy.ts)', () => {
  test('null, undefined and NaN are null; past 2^53 saturates; fractions round; in every batch of a recycling encoder', () => {
    const base = syntheticFlows(1, { seed: 4 })[0]!;
    const cases: Array<[number | null | undefined, number]> = [
      [null, NaN],
      [undefined, NaN],
      [NaN, NaN],
      [0, 0],
      [-7, -7],
      [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      [2 ** 64, Number.MAX_SAFE_INTEGER],
      [Infinity, Number.MAX_SAFE_INTEGER],
      [-(2 ** 60), -Number.MAX_SAFE_INTEGER],
      [-Infinity, -Number.MAX_SAFE_INTEGER],
      [1234.6, 1235],
      [-2.5, -2],
    ];
    const octets = FLOW_INTEGER_COLUMNS.indexOf('octets');
    const spi = FLOW_INTEGER_COLUMNS.indexOf('spi');
    const encoder = new FlowBatchEncoder(4);
    for (let round = 0; round < 3; round++) {
      const flows = cases.map(([value]) => ({ ...base, octets: value as number, spi: value as number }));
      const batch = sealInto(encoder, flows);
      const column = (c: number) =>
        Array.from({ length: batch.rows }, (_, r) => batch.integers[r * FLOW_INTEGER_COLUMNS.length + c]);
      expect(column(octets)).toEqual(cases.map(([, stored]) => stored));
      expect(column(spi)).toEqual(cases.map(([, stored]) => stored));
      encoder.recycle(
        batch.integers.buffer as ArrayBuffer,
        batch.texts.buffer as ArrayBuffer,
        batch.ipv4.buffer as ArrayBuffer,
      );
    }
  });
});

describe('the flow dictionary kept from batch to batch', () => {
  test('each batch carries only its new strings, and the mirror gives every batch its texts back', () => {
    const flows = syntheticFlows(3000, { seed: 21 });
    const encoder = new FlowBatchEncoder(16);
    const mirror = new FlowDictionaryMirror();
    const parts = [flows.slice(0, 1000), flows.slice(1000, 2000), flows.slice(2000)];
    const sealed = parts.map((part) => sealInto(encoder, part));
    // Later batches reuse what earlier ones sent: addresses repeat.
    expect(sealed[0]!.stringBase).toBe(0);
    expect(sealed[1]!.stringBase).toBe(sealed[0]!.strings.length);
    expect(sealed[2]!.strings.length).toBeLessThan(encodeFlows(parts[2]!).strings.length);
    const restored = sealed.map((batch) => mirror.restore(batch));
    restored.forEach((batch, i) => expect(texts(batch)).toEqual(texts(encodeFlows(parts[i]!))));
  });

  test('past the limit the encoder starts afresh, and batches restored before keep their strings', () => {
    const base = syntheticFlows(1, { seed: 2 })[0]!;
    const encoder = new FlowBatchEncoder(1024);
    const mirror = new FlowDictionaryMirror();
    // Distinct IPv6 source addresses until the dictionary is full (IPv4 ones are numbers).
    const distinct = (from: number, count: number): NormalizedFlow[] =>
      Array.from({ length: count }, (_, i) => ({
        ...base,
        src: `2001:db8::${((from + i) >> 16).toString(16)}:${((from + i) & 0xffff).toString(16)}`,
      }));
    const first = mirror.restore(sealInto(encoder, distinct(0, DICTIONARY_LIMIT)));
    const kept = texts(first);
    const second = sealInto(encoder, distinct(DICTIONARY_LIMIT, 10));
    expect(second.stringBase).toBe(0);
    const restored = mirror.restore(second);
    expect(texts(restored)).toEqual(texts(encodeFlows(distinct(DICTIONARY_LIMIT, 10))));
    expect(texts(first)).toEqual(kept);
  });

  test('a batch that does not continue the mirror is refused, not misread', () => {
    const flows = syntheticFlows(200, { seed: 5 });
    const encoder = new FlowBatchEncoder(16);
    const first = sealInto(encoder, flows.slice(0, 100));
    const second = sealInto(encoder, flows.slice(100));
    expect(() => new FlowDictionaryMirror().restore(second)).toThrow(/continues a dictionary/);
    expect(new FlowDictionaryMirror().restore(first).rows).toBe(100);
  });

  test('given-back buffers are filled by a later batch, and the batches sealed before keep their values', () => {
    const flows = syntheticFlows(800, { seed: 8 });
    const parts = [0, 1, 2, 3].map((i) => flows.slice(i * 200, (i + 1) * 200));
    const encoder = new FlowBatchEncoder(256);
    const mirror = new FlowDictionaryMirror();
    const first = mirror.restore(sealInto(encoder, parts[0]!));
    const second = mirror.restore(sealInto(encoder, parts[1]!));
    // The writer is done with the first batch: its buffers come back. The encoder is
    // filling the arrays it took at the second seal; the one after takes them.
    encoder.recycle(
      first.integers.buffer as ArrayBuffer,
      first.texts.buffer as ArrayBuffer,
      first.ipv4.buffer as ArrayBuffer,
    );
    const third = mirror.restore(sealInto(encoder, parts[2]!));
    const fourth = mirror.restore(sealInto(encoder, parts[3]!));
    expect(fourth.integers.buffer).toBe(first.integers.buffer);
    expect(fourth.ipv4.buffer).toBe(first.ipv4.buffer);
    for (const [batch, part] of [
      [second, parts[1]!],
      [third, parts[2]!],
      [fourth, parts[3]!],
    ] as const) {
      expect(batch.integers).toEqual(encodeFlows(part).integers);
      expect(texts(batch)).toEqual(texts(encodeFlows(part)));
    }
  });
});

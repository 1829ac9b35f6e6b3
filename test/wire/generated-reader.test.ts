// The generated per-template readers (decode-plan.ts fieldReader) against the plan loop
// they replace: for random fixed-length templates over every element tunnelflow stores,
// with lengths right and wrong for their types and repeated elements, both must fill a
// record with exactly the same values from the same bytes.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DataRecord } from '../../collector/wire/data-record.js';
import {
  compileTemplate,
  generatedReaders,
  readFlowRecord,
  READER_LIMIT,
} from '../../collector/wire/decode-plan.js';
import type { CompiledTemplate } from '../../collector/wire/decode-plan.js';
import {
  ianaElement,
  REVERSE_PEN,
  TUNNELFLOW_PEN,
  tunnelflowElements,
} from '../../collector/wire/elements.js';
import type { FieldSpecifier, TemplateRecord } from '../../collector/wire/template.js';

/** Every (enterprise, id) that fills a record slot, plus two that fill none. */
function storedElements(): Array<{ enterprise: number; elementId: number }> {
  const out: Array<{ enterprise: number; elementId: number }> = [];
  for (let id = 1; id < 512; id++) {
    const element = ianaElement(id);
    if (element?.slot !== undefined) out.push({ enterprise: 0, elementId: id });
    if (element?.reverseSlot !== undefined) out.push({ enterprise: REVERSE_PEN, elementId: id });
  }
  for (const element of tunnelflowElements()) {
    if (element.slot !== undefined) out.push({ enterprise: TUNNELFLOW_PEN, elementId: element.id });
  }
  out.push({ enterprise: 0, elementId: 82 }, { enterprise: 9, elementId: 1 });
  return out;
}

const ELEMENTS = storedElements();

function compile(fields: FieldSpecifier[], templateId = 300): CompiledTemplate {
  const record: TemplateRecord = { templateId, options: false, scopeFieldCount: 0, fields };
  const result = compileTemplate(record, 10);
  if (!result.ok) throw new Error(result.reason);
  return result.template;
}

function decodeBoth(template: CompiledTemplate, bytes: Uint8Array): [DataRecord, DataRecord] {
  const generated = new DataRecord();
  const looped = new DataRecord();
  const end = readFlowRecord(template, bytes, 0, bytes.length, generated);
  const loopEnd = readFlowRecord({ ...template, reader: null }, bytes, 0, bytes.length, looped);
  expect(end).toBe(loopEnd);
  return [generated, looped];
}

const field = fc.record({
  element: fc.constantFrom(...ELEMENTS),
  length: fc.constantFrom(1, 2, 3, 4, 4, 4, 5, 6, 7, 8, 8, 16),
});

describe('generated record readers', () => {
  test('a typical IPv4 template gets a reader that fills addresses, counters and times', () => {
    const fields = [
      { enterprise: 0, elementId: 8, length: 4 },
      { enterprise: 0, elementId: 12, length: 4 },
      { enterprise: 0, elementId: 4, length: 1 },
      { enterprise: 0, elementId: 2, length: 8 },
      { enterprise: 0, elementId: 152, length: 8 },
      { enterprise: 0, elementId: 102, length: 4 },
    ];
    const template = compile(fields);
    expect(template.reader).not.toBeNull();
    const bytes = Uint8Array.from([
      192, 0, 2, 1, 198, 51, 100, 7, 50, 0, 0, 0, 0, 0, 0, 1, 44, 0, 0, 1, 0x8c, 0x2b, 0x6d, 0x20, 0, 0, 0, 0,
      0, 0, 0, 9,
    ]);
    const [generated, looped] = decodeBoth(template, bytes);
    expect(generated).toEqual(looped);
    expect(generated.src).toBe('192.0.2.1');
    expect(generated.dst).toBe('198.51.100.7');
    expect(generated.addressFamily).toBe(4);
    expect([generated.src4, generated.dst4]).toEqual([0xc0000201, 0xc6336407]);
    expect(generated.proto).toBe(50);
    expect(generated.packets).toBe(300);
    expect(generated.startAbsMs).toBe(0x018c2b6d2000);
    // Element 102 is one tunnelflow does not know: it stores nothing: it is not in the plan.
    expect(template.planOps.length).toBe(5);
  });

  test('templates with the same plan share one reader; mixed-family templates get none', () => {
    const fields = [
      { enterprise: 0, elementId: 8, length: 4 },
      { enterprise: 0, elementId: 7, length: 2 },
    ];
    const first = compile(fields, 300);
    const second = compile(fields, 301);
    expect(first.reader).not.toBeNull();
    expect(second.reader).toBe(first.reader);
    const mixed = compile([
      { enterprise: 0, elementId: 8, length: 4 },
      { enterprise: 0, elementId: 27, length: 16 },
    ]);
    expect(mixed.mixedFamilyFirst).toBe(4);
    expect(mixed.reader).toBeNull();
    // Only its IPv6 field set (0.0.0.0 beside it): the IPv6 text, and no IPv4 number.
    const bytes = new Uint8Array(20);
    bytes.set([0x20, 0x01, 0x0d, 0xb8], 4);
    bytes[19] = 1;
    const record = new DataRecord();
    readFlowRecord(mixed, bytes, 0, bytes.length, record);
    expect([record.src, record.src4, record.addressFamily]).toEqual(['2001:db8::1', -1, 6]);
  });

  test('decode every random fixed-length template exactly as the plan loop does', () => {
    let generatedSeen = 0;
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 24 }), fc.integer(), (specs, seed) => {
        const fields = specs.map((s) => ({ ...s.element, length: s.length }));
        const template = compile(fields);
        if (template.reader !== null) generatedSeen++;
        const bytes = new Uint8Array(template.fixedRecordLength);
        // Random bytes with runs of zeros, so "not set" times and 0.0.0.0 come up.
        let state = seed >>> 0 || 1;
        for (let i = 0; i < bytes.length; i++) {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          bytes[i] = state >>> 28 < 4 ? 0 : state >>> 24;
        }
        const [generated, looped] = decodeBoth(template, bytes);
        expect(generated).toEqual(looped);
      }),
      { numRuns: 3000 },
    );
    // Most random templates have one address family and get a generated reader, until the
    // distinct plans reach READER_LIMIT.
    expect(generatedSeen).toBeGreaterThan(READER_LIMIT / 2);
  });

  test(`past ${READER_LIMIT} distinct plans, templates decode through the plan loop`, () => {
    // Distinct plans: an ever longer run of skipped bytes before the ports.
    for (let pad = 1; generatedReaders() < READER_LIMIT; pad++) {
      compile([
        { enterprise: 0, elementId: 102, length: pad },
        { enterprise: 0, elementId: 7, length: 2 },
      ]);
    }
    const late = compile([
      { enterprise: 0, elementId: 102, length: 4000 },
      { enterprise: 0, elementId: 11, length: 2 },
    ]);
    expect(late.reader).toBeNull();
    expect(generatedReaders()).toBe(READER_LIMIT);
    const bytes = new Uint8Array(4002);
    bytes[4000] = 1;
    bytes[4001] = 187;
    const record = new DataRecord();
    expect(readFlowRecord(late, bytes, 0, bytes.length, record)).toBe(4002);
    expect(record.dstPort).toBe(443);
  });
});

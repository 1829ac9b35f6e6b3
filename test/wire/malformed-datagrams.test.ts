// Every hand-made malformed datagram of the corpus (malformed/index.json): the expected
// behaviour, the issue kind it must be counted under, and never an exception.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { decodeDatagram } from '../../collector/wire/decode-datagram.js';
import type { WireIssueKind } from '../../collector/wire/issues.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import { CORPUS_DIR, FIXED_NOW } from '../produce/corpus-exports.js';

const DIR = `${CORPUS_DIR}malformed/`;

interface IndexEntry {
  readonly file: string;
  readonly family: string;
  readonly expect: string;
  readonly description: string;
  readonly bytes?: number;
}

const index = JSON.parse(readFileSync(`${DIR}index.json`, 'utf8')) as { files: IndexEntry[] };
const read = (file: string): Buffer => readFileSync(`${DIR}${file}`);

/** The issue each file must raise (and, for bad templates, why). */
const expectedIssue: Record<string, { kind: WireIssueKind; reason?: string } | null> = {
  'valid_ipfix_base.bin': null,
  'ipfix_truncated_header.bin': { kind: 'truncated' },
  'ipfix_empty_datagram.bin': { kind: 'truncated' },
  'ipfix_header_only_len_zero.bin': { kind: 'bad-message-length' },
  'ipfix_length_longer_than_datagram.bin': { kind: 'bad-message-length' },
  // The message ends inside the first set: the set overruns the message.
  'ipfix_length_shorter_than_datagram.bin': { kind: 'set-overruns-packet' },
  'ipfix_set_length_zero.bin': { kind: 'zero-length-set' },
  'ipfix_set_length_3.bin': { kind: 'short-set' },
  'ipfix_set_length_beyond_message.bin': { kind: 'set-overruns-packet' },
  'ipfix_template_field_count_past_end.bin': { kind: 'bad-template', reason: 'field-count-past-end' },
  'ipfix_template_huge_field_count.bin': { kind: 'bad-template', reason: 'field-count-past-end' },
  'ipfix_template_field_length_zero.bin': { kind: 'bad-template', reason: 'zero-length-field' },
  'ipfix_template_field_length_65535_no_varlen.bin': {
    kind: 'bad-template',
    reason: 'variable-length-not-allowed',
  },
  'ipfix_template_id_below_256.bin': { kind: 'bad-template', reason: 'template-id-below-256' },
  'ipfix_enterprise_bit_pen_missing.bin': { kind: 'bad-template', reason: 'enterprise-number-missing' },
  'ipfix_data_before_template.bin': { kind: 'template-missing' },
  'ipfix_unknown_version_11.bin': { kind: 'unknown-version' },
  // Read as v9 (as its version says), the IPFIX body is nonsense flowsets; the walk ends
  // at a set length of 1.
  'ipfix_version_9_with_ipfix_body.bin': { kind: 'short-set' },
  'ipfix_set_id_reserved_4.bin': { kind: 'reserved-set-id' },
  'ipfix_data_set_shorter_than_one_record.bin': { kind: 'bad-padding' },
  'valid_v9_base.bin': null,
  'v9_truncated_header.bin': { kind: 'truncated' },
  'v9_flowset_length_zero.bin': { kind: 'zero-length-set' },
  'v9_flowset_length_beyond_packet.bin': { kind: 'set-overruns-packet' },
  'v9_template_field_count_past_end.bin': { kind: 'bad-template', reason: 'field-count-past-end' },
  'v9_template_field_length_zero.bin': { kind: 'bad-template', reason: 'zero-length-field' },
  'v9_template_field_length_65535.bin': { kind: 'bad-template', reason: 'variable-length-not-allowed' },
  'v9_data_before_template.bin': { kind: 'template-missing' },
  'v9_count_says_200.bin': { kind: 'count-mismatch' },
  'v9_unknown_version_8.bin': { kind: 'unknown-version' },
  'valid_v5_base.bin': null,
  'v5_truncated_record.bin': { kind: 'truncated' },
  'v5_count_huge.bin': { kind: 'count-mismatch' },
  'v5_count_zero_with_records.bin': { kind: 'trailing-bytes' },
  'v5_header_only_truncated.bin': { kind: 'truncated' },
  'garbage_64_bytes.bin': { kind: 'unknown-version' },
  'version_0_short.bin': { kind: 'unknown-version' },
};

const baseOf: Record<string, string> = {
  ipfix: 'valid_ipfix_base.bin',
  v9: 'valid_v9_base.bin',
  v5: 'valid_v5_base.bin',
};

test('the table covers every file of the index and nothing else', () => {
  expect(index.files.map((f) => f.file).sort()).toEqual(Object.keys(expectedIssue).sort());
});

test.each([
  ['valid_ipfix_base.bin', 4, 1, 5],
  ['valid_v9_base.bin', 2, 0, 4],
  ['valid_v5_base.bin', 4, 0, 0],
])('%s decodes: %i flow records, %i options records, %i templates', (file, records, options, templates) => {
  const decoded = decodeDatagram(read(file), '127.0.0.1', new TemplateCache({ now: () => FIXED_NOW }));
  expect(decoded.issues).toEqual([]);
  expect(decoded.records).toHaveLength(records);
  expect(decoded.optionsRecords).toHaveLength(options);
  expect(decoded.templatesLearned).toBe(templates);
  for (const r of decoded.records) {
    expect(r.src).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(r.packets).toBeGreaterThan(0);
  }
});

describe.each(index.files.map((f) => [f.file, f] as const))('%s', (file, entry) => {
  const bytes = read(file);
  const expected = expectedIssue[file] ?? null;

  test(`${entry.expect}: counted as ${expected?.kind ?? 'nothing'}, never thrown`, () => {
    if (entry.bytes !== undefined) expect(bytes.length).toBe(entry.bytes);
    const cache = new TemplateCache({ now: () => FIXED_NOW });
    const produced = produceFlows(bytes, '127.0.0.1', FIXED_NOW, cache);
    const issues = produced.issues;
    if (expected === null) {
      expect(issues).toEqual([]);
    } else {
      const match = issues.find((i) => i.kind === expected.kind);
      expect(match, JSON.stringify(issues)).toBeDefined();
      if (expected.reason !== undefined) expect(match).toMatchObject({ reason: expected.reason });
      for (const issue of issues) expect(issue.exporter).toBe('127.0.0.1');
    }
    const base = baseOf[entry.family];
    const baseRecords = base
      ? decodeDatagram(read(base), '127.0.0.1', new TemplateCache()).records.length
      : 0;
    switch (entry.expect) {
      case 'accept':
        expect(produced.flows.length).toBeGreaterThan(0);
        break;
      case 'reject':
        // Rejected as a whole or the broken set: no flow comes out of the damaged part,
        // which in every one of these files holds all the flow records.
        expect(produced.flows).toEqual([]);
        break;
      case 'drop_records_count_missing_template':
        expect(produced.flows).toEqual([]);
        expect(produced.info.missingTemplateRecords).toBeGreaterThan(0);
        expect(produced.info.missingTemplateRecords).toBe(
          issues
            .filter((i) => i.kind === 'template-missing')
            .reduce((n, i) => n + (i.kind === 'template-missing' ? i.estimatedRecords : 0), 0),
        );
        break;
      case 'skip_set_or_reject':
        // The reserved set (it held the templates) is skipped; the data after it has no template.
        expect(issues.some((i) => i.kind === 'template-missing')).toBe(true);
        expect(produced.info.malformed).toBe(false);
        break;
      case 'reject_or_ignore_padding':
        // Whole records are kept, the partial one is not read.
        expect(produced.flows.length).toBeLessThan(baseRecords);
        break;
      case 'accept_records_present_or_reject':
        // The count is not trusted: exactly the records present are decoded.
        expect(produced.info.dataRecords).toBe(baseRecords);
        expect(issues).toMatchObject([{ kind: 'count-mismatch', declared: 200, found: 6 }]);
        break;
      case 'reject_or_accept_zero_records':
        expect(produced.flows).toEqual([]);
        break;
      default:
        throw new Error(`unknown expectation ${entry.expect}`);
    }
  });

  test('after the valid datagram of its family taught the templates, still no exception', () => {
    const cache = new TemplateCache({ now: () => FIXED_NOW });
    const base = baseOf[entry.family];
    if (base) produceFlows(read(base), '127.0.0.1', FIXED_NOW, cache);
    const produced = produceFlows(bytes, '127.0.0.1', FIXED_NOW, cache);
    expect(produced.info.exporter).toBe('127.0.0.1');
    if (file.endsWith('data_before_template.bin')) {
      // Templates are scoped per observation domain / source id: the base's templates
      // (domain 0 / source id 7) must not decode data of another domain.
      expect(produced.flows).toEqual([]);
      expect(produced.issues.every((i) => i.kind === 'template-missing')).toBe(true);
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { csvColumns } from '../../reports/render.js';
import { lossTable, probeArgusTable } from './loss-table.js';

/** A markdown table's cells, whatever the column padding a formatter gave it. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    )
    .filter((row) => !row.every((c) => /^:?-+:?$/.test(c)));
}

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  test('shows the set-up commands the project promises', () => {
    expect(README).toContain('npm ci && npm start');
    expect(README).toContain('npm ci && npm test');
  });

  test('the loss table is what the fixtures give today', () => {
    const start = README.indexOf('\n', README.indexOf('<!-- loss-table:start')) + 1;
    const end = README.indexOf('<!-- loss-table:end -->');
    expect(start).toBeGreaterThan(0);
    expect(cells(README.slice(start, end))).toEqual(cells(lossTable()));
  });

  test('the probe vs Argus table is what the probe gives on the scenario pcaps today', () => {
    const start = README.indexOf('\n', README.indexOf('<!-- probe-argus-table:start')) + 1;
    const end = README.indexOf('<!-- probe-argus-table:end -->');
    expect(start).toBeGreaterThan(0);
    expect(cells(README.slice(start, end))).toEqual(cells(probeArgusTable()));
  });

  test('the CSV report sample has the columns the report writes today', () => {
    const start = README.indexOf('<!-- report-csv:start -->');
    const sample = README.slice(start, README.indexOf('<!-- report-csv:end -->'));
    expect(start).toBeGreaterThan(0);
    expect(sample.split('\n').find((l) => l.startsWith('period_from'))).toBe(csvColumns.join(','));
  });
});

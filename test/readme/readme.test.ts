import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { lossTable } from './loss-table.js';

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
    expect(README.slice(start, end).trim()).toBe(lossTable().trim());
  });
});

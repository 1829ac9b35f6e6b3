import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { findProjectRoot } from '../../api/web/project-root.js';

// The page's pure modules (formatting, URL state) are plain browser JavaScript without a
// bundler; they import nothing from the DOM, so Node can load them as they are served.
const staticDir = join(findProjectRoot(import.meta.url), 'api', 'web', 'static');

interface FormatModule {
  si(v: number | null): string;
  bytes(v: number | null): string;
  percent(r: number | null): string;
  spiHex(spi: number | null): string;
  utc(ms: number): string;
  duration(ms: number): string;
  icmpText(proto: number, type: number | null, code: number | null): string;
  clearedTotal(c: Record<string, number> | null): number;
}

interface PageState {
  range: string | null;
  from: number | null;
  to: number | null;
  step: number | null;
  tunnel: string | null;
  bucket: number | null;
  span: number | null;
  filter: string | null;
  minRatio: number | null;
}

interface StateModule {
  parseTime(text: string | null): number | null;
  readState(search: string): PageState;
  writeState(state: PageState): string;
  stepFor(state: { step: number | null }, fromMs: number, toMs: number, bucketSeconds?: number): number;
  stepsFor(bucketSeconds: number): number[];
}

async function load<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(join(staticDir, file)).href)) as T;
}

const format = await load<FormatModule>('format.js');
const state = await load<StateModule>('state.js');

describe('format.js', () => {
  test.each([
    [0, '0'],
    [999, '999'],
    [1000, '1k'],
    [1234, '1.23k'],
    [5_600_000, '5.6M'],
    [31_748_770, '31.7M'],
    [2.5e9, '2.5G'],
    [null, '—'],
  ])('si(%s) = %s', (value, text) => {
    expect(format.si(value)).toBe(text);
  });

  test.each([
    [0, '0 B'],
    [512, '512 B'],
    [421_000_000, '421 MB'],
  ])('bytes(%s) = %s', (value, text) => {
    expect(format.bytes(value)).toBe(text);
  });

  test.each([
    [0, '0 %'],
    [0.0328, '3.28 %'],
    [0.25, '25.0 %'],
    [0.000024, '0.0024 %'],
    [null, '—'],
  ])('percent(%s) = %s', (ratio, text) => {
    expect(format.percent(ratio)).toBe(text);
  });

  test.each([
    [0x6b1d2e93, '0x6b1d2e93'],
    [0xc0ffee, '0x00c0ffee'],
    [0xffffffff, '0xffffffff'],
    [null, '—'],
  ])('spiHex(%s) = %s', (spi, text) => {
    expect(format.spiHex(spi)).toBe(text);
  });

  test('times and durations', () => {
    expect(format.utc(Date.parse('2024-05-14T03:12:00.250Z'))).toBe('2024-05-14 03:12:00Z');
    expect(format.duration(59_720)).toBe('1 min');
    expect(format.duration(3_900_000)).toBe('1 h 5 min');
    expect(format.duration(250)).toBe('250 ms');
  });

  test('ICMP names the messages of a path-MTU problem', () => {
    expect(format.icmpText(1, 3, 4)).toBe('3/4 frag needed');
    expect(format.icmpText(58, 2, 0)).toBe('2/0 packet too big');
    expect(format.icmpText(1, 11, 0)).toBe('11/0');
  });

  test('cleared counts add up over reasons', () => {
    expect(format.clearedTotal({ negative: 2, 'sa-change': 1, fragments: 0 })).toBe(3);
    expect(format.clearedTotal(null)).toBe(0);
  });
});

describe('state.js', () => {
  test.each([
    ['1715656320000', 1715656320000],
    ['2024-05-14T03:12:00Z', 1715656320000],
    ['2024-05-14T03:12Z', 1715656320000],
    // No zone: UTC, as everything on the page is.
    ['2024-05-14 03:12', 1715656320000],
    ['2024-05-14T05:12:00+02:00', 1715656320000],
    ['2024-05-14', Date.parse('2024-05-14T00:00:00Z')],
    ['yesterday', null],
    ['', null],
  ])('parseTime(%j) = %s', (text, ms) => {
    expect(state.parseTime(text)).toBe(ms);
  });

  test('a drill-down survives the URL round trip', () => {
    const search =
      '?from=2024-05-14T03:00:00Z&to=2024-05-14T04:00:00Z&step=60&tunnel=192.0.2.140_198.51.100.150_esp&bucket=2024-05-14T03:12:00Z&span=60&filter=kind+icmp-frag-needed';
    const s = state.readState(search);
    expect(s).toMatchObject({
      range: null,
      from: Date.parse('2024-05-14T03:00:00Z'),
      to: Date.parse('2024-05-14T04:00:00Z'),
      step: 60,
      tunnel: '192.0.2.140_198.51.100.150_esp',
      bucket: Date.parse('2024-05-14T03:12:00Z'),
      span: 60,
      filter: 'kind icmp-frag-needed',
    });
    expect(state.readState(`?${state.writeState(s)}`)).toEqual(s);
  });

  test.each([
    ['', '24h'],
    ['?range=all', 'all'],
    ['?range=7d', '7d'],
    ['?range=bogus', '24h'],
    // A range that ends before it starts is no range: back to the default.
    ['?from=2024-05-14T04:00Z&to=2024-05-14T03:00Z', '24h'],
  ])('readState(%j).range = %s', (search, range) => {
    expect(state.readState(search).range).toBe(range);
  });

  test.each([
    [3600e3, 60],
    [86400e3, 60],
    [7 * 86400e3, 900],
    [400 * 86400e3, 86400],
  ])('automatic bucket for a range of %d ms: %d s', (span, step) => {
    expect(state.stepFor({ step: null }, 0, span)).toBe(step);
  });

  test('a chosen bucket size is kept, rounded to whole minutes', () => {
    expect(state.stepFor({ step: 300 }, 0, 3600e3)).toBe(300);
    expect(state.stepFor({ step: 90 }, 0, 3600e3)).toBe(120);
  });

  test.each([
    // collector bucket, chosen step, range → step the page asks for
    [10, null, 600e3, 10],
    [10, 25, 3600e3, 30],
    [10, null, 86400e3, 60],
    [300, null, 3600e3, 300],
    [300, 60, 3600e3, 300],
    [300, null, 7 * 86400e3, 900],
    [7, null, 3600e3, 7],
  ])('with %d s collector buckets, step %j over %d ms is %d s', (bucket, step, span, expected) => {
    expect(state.stepFor({ step }, 0, span, bucket)).toBe(expected);
    expect(expected % bucket).toBe(0);
  });

  test('the steps offered are the collector bucket and its multiples', () => {
    expect(state.stepsFor(60)).toEqual([60, 300, 900, 3600, 21600, 86400]);
    expect(state.stepsFor(300)).toEqual([300, 900, 3600, 21600, 86400]);
    expect(state.stepsFor(7)).toEqual([7]);
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FlowPosition } from '../../store/flows/flow-repository.js';
import type { StoredFlow } from '../../store/flows/stored-flow.js';
import { readMaxFlowDuration } from '../../store/meta/store-meta-repository.js';
import type { NormalizedFlow } from '../../model/flow.js';
import type { Store } from '../../store/open-store.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import type { FlowWriter } from '../../store/writer/flow-writer.js';
import { corpusFlows } from './corpus-flows.js';
import { openTestStore } from '../helpers/test-store.js';

// pmacct splits long flows every ~60 s, so its records overlap minute windows in every
// way: starting before, ending after, inside, spanning.
let store: Store;
let writer: FlowWriter;
const LONG: NormalizedFlow = {
  ...corpusFlows('a_healthy_v4', 'pmacct_ipfix')[0]!,
  startMs: Date.UTC(2024, 2, 12, 8, 50),
  endMs: Date.UTC(2024, 2, 12, 9, 10),
  packets: 424242,
};
const flows: NormalizedFlow[] = [
  ...corpusFlows('h_multi_tunnel_mixed', 'pmacct_ipfix'),
  ...corpusFlows('i_reorder_dup_v4', 'pmacct_v9'),
  LONG,
];

beforeAll(async () => {
  store = await openTestStore('flow-query');
  writer = createFlowWriter({ worker: false }, { storeConfig: store.config });
  await writer.start();
  await writer.write(flows);
  await writer.flush();
});
afterAll(async () => {
  await writer.stop();
  await store.close();
});

const T0 = Date.UTC(2024, 2, 12, 9, 0);
const MIN = 60_000;
const key = (f: NormalizedFlow) =>
  `${f.src}|${f.dst}|${f.proto}|${f.srcPort}|${f.dstPort}|${f.startMs}|${f.endMs}|${f.packets}`;

async function walk(query: { from?: number; to?: number }, limit: number): Promise<StoredFlow[]> {
  const seen: StoredFlow[] = [];
  let after: FlowPosition | null = null;
  for (let pages = 0; pages < 10_000; pages += 1) {
    const page = await store.flowReader.query({ ...query, after, limit });
    seen.push(...page.items);
    if (page.next === null) return seen;
    after = page.next;
  }
  throw new Error('pagination did not end');
}

describe('store.flowReader.query', () => {
  test('remembers the longest flow so that windows after its start still find it', async () => {
    expect(await readMaxFlowDuration(store.db)).toBe(LONG.endMs - LONG.startMs);
  });

  test.each<[string, number | undefined, number | undefined]>([
    ['minute 0', T0, T0 + MIN],
    ['minute 2', T0 + 2 * MIN, T0 + 3 * MIN],
    ['minute 4', T0 + 4 * MIN, T0 + 5 * MIN],
    ['one millisecond', T0 + 90_000, T0 + 90_001],
    ['before the capture (only the long flow)', T0 - 5 * MIN, T0 - 4 * MIN],
    ['after the capture', T0 + 60 * MIN, T0 + 61 * MIN],
    ['open start', undefined, T0 + 2 * MIN],
    ['open end', T0 + 3 * MIN, undefined],
    ['everything', undefined, undefined],
  ])('%s: the flows overlapping [from, to), each once, in (endMs, id) order', async (_name, from, to) => {
    const expected = flows.filter(
      (f) => (from === undefined || f.endMs >= from) && (to === undefined || f.startMs < to),
    );
    const got = await walk({ from, to }, 7);
    expect(got.map(key).sort()).toEqual(expected.map(key).sort());
    expect(new Set(got.map((f) => f.id)).size).toBe(got.length);
    for (let i = 1; i < got.length; i += 1) {
      const [a, b] = [got[i - 1]!, got[i]!];
      expect(a.endMs < b.endMs || (a.endMs === b.endMs && a.id < b.id)).toBe(true);
    }
  });

  test('nonsense bounds and limits give a sane query, not an SQL error', async () => {
    const page = await store.flowReader.query({
      from: Number.NaN,
      to: Number.POSITIVE_INFINITY,
      limit: Number.NaN,
    });
    expect(page.items).toHaveLength(100);
    expect((await store.flowReader.query({ limit: -5 })).items).toHaveLength(1);
  });

  test('a window that only the long flow overlaps', async () => {
    const page = await store.flowReader.query({ from: T0 - 5 * MIN, to: T0 - 4 * MIN, limit: 10 });
    expect(page.items.map((f) => f.packets)).toEqual([424242]);
  });

  test('a walk stays exact while rows are inserted before and after its position', async () => {
    const before = (await walk({}, 1000)).map((f) => f.id);
    const seen: number[] = [];
    let after: FlowPosition | null = null;
    let round = 0;
    while (true) {
      const page = await store.flowReader.query({ after, limit: 9 });
      seen.push(...page.items.map((f) => f.id));
      if (page.next === null) break;
      after = page.next;
      // New rows that sort before the position (early endMs) and after it.
      round += 1;
      await writer.write([
        { ...LONG, startMs: T0 - 10 * MIN, endMs: T0 - 9 * MIN, packets: round },
        { ...LONG, startMs: T0 + 30 * MIN, endMs: T0 + 31 * MIN + round, packets: round },
      ]);
      await writer.flush();
    }
    // Every row that existed when the walk began, exactly once; no row twice.
    expect(new Set(seen).size).toBe(seen.length);
    expect(before.every((id) => seen.includes(id))).toBe(true);
    // Rows inserted behind the position were not seen; those ahead of it were.
    const late = (await walk({ from: T0 + 30 * MIN + 1 }, 1000)).filter((f) => f.endMs > T0 + 30 * MIN);
    expect(late.length).toBe(round);
    expect(late.every((r) => seen.includes(r.id))).toBe(true);
  });

  test('a window over hundreds of separate commits comes whole and in order, in pages and at once', async () => {
    // Each flush is its own commit: on SQLite its own blocks, read a chunk of blocks at a time.
    const base = T0 + 120 * MIN;
    for (let i = 0; i < 150; i += 1) {
      await writer.write([
        { ...LONG, startMs: base + i * 1000, endMs: base + i * 1000 + 500, packets: 1_000_000 + i },
      ]);
      await writer.flush();
    }
    const window = { from: base, to: base + 150 * 1000 };
    const all = await store.flowReader.query({ ...window, limit: 1000 });
    expect(all.items.map((f) => f.packets)).toEqual(Array.from({ length: 150 }, (_, i) => 1_000_000 + i));
    expect(all.next).toBeNull();
    const paged = await walk(window, 13);
    expect(paged.map((f) => f.id)).toEqual(all.items.map((f) => f.id));
  });
});

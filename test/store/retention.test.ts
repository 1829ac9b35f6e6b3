import { afterAll, describe, expect, test } from 'vitest';
import type { FlowKind, NormalizedFlow } from '../../model/flow.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { SqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { retentionConfigSchema } from '../../store/retention-config.js';
import { RetentionStepper } from '../../store/sqlite/retention-stepper.js';
import { allStoredFlows } from '../../store/sqlite/flow-block-reader.js';
import type { RetentionStep, RetentionStepResult } from '../../store/retention-step.js';
import { createRetention } from '../../store/retention.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import { corpusFlows } from './corpus-flows.js';
import { syntheticFlows } from './synthetic-flows.js';
import { tempDir } from './temp-store.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let counter = 0;

const NOW = Date.UTC(2024, 2, 12, 12, 0, 0);
const MINUTE = 60_000;

/**
 * Real flows, with received times and kinds chosen per row. Rows get their ids in the
 * order they are received, batch by batch (within one batch the writer groups rows by
 * shape), so storeWith() commits each received time as its own batch, as a live
 * collector would.
 */
function aged(
  base: readonly NormalizedFlow[],
  ages: ReadonlyArray<{ ageMs: number; kind: FlowKind }>,
): NormalizedFlow[] {
  return ages.map(({ ageMs, kind }, i) => ({ ...base[i % base.length]!, receivedMs: NOW - ageMs, kind }));
}

async function storeWith(flows: readonly NormalizedFlow[]): Promise<SqliteStore> {
  counter += 1;
  const store = await openSqliteStore({ path: tmp.path(`retention-${counter}.db`) });
  const writer = createFlowWriter({ worker: false }, { storeConfig: store.config });
  await writer.start();
  let start = 0;
  for (let i = 1; i <= flows.length; i += 1) {
    if (i === flows.length || flows[i]!.receivedMs !== flows[start]!.receivedMs) {
      await writer.write(flows.slice(start, i));
      await writer.flush();
      start = i;
    }
  }
  await writer.stop();
  return store;
}

const remaining = (store: SqliteStore) =>
  allStoredFlows(store.sqlite).map((f) => ({ kind: f.kind, age: NOW - f.receivedMs }));

/** A runner on the test's own connection (the writer's job in production). */
const runnerOn = (store: SqliteStore) => {
  const stepper = new RetentionStepper(store.sqlite);
  const steps: RetentionStepResult[] = [];
  return {
    steps,
    retentionStep: async (step: RetentionStep) => {
      const result = stepper.run(step);
      steps.push(result);
      return result;
    },
  };
};

const config = (overrides: Record<string, unknown>) => retentionConfigSchema.parse(overrides);

describe('retention', () => {
  test('deletes `other` after its window and tunnel kinds after theirs, by received time', async () => {
    const base = corpusFlows('h_multi_tunnel_mixed', 'pmacct_ipfix');
    // In arrival order: older first, as ids are assigned.
    const plan: Array<{ ageMs: number; kind: FlowKind }> = [
      { ageMs: 100 * MINUTE, kind: 'other' },
      { ageMs: 90 * MINUTE, kind: 'esp' },
      { ageMs: 70 * MINUTE, kind: 'ike' },
      { ageMs: 50 * MINUTE, kind: 'other' },
      { ageMs: 45 * MINUTE, kind: 'esp-fragment' },
      { ageMs: 20 * MINUTE, kind: 'other' },
      { ageMs: 15 * MINUTE, kind: 'icmp-frag-needed' },
      { ageMs: 5 * MINUTE, kind: 'cleartext-leak' },
      { ageMs: 1 * MINUTE, kind: 'other' },
    ];
    const store = await storeWith(aged(base, plan));
    const runner = runnerOn(store);
    const retention = createRetention(config({ otherFlowsMs: 30 * MINUTE, tunnelFlowsMs: 60 * MINUTE }), {
      runner,
      clock: () => NOW,
    });
    const result = await retention.runOnce();
    expect(result.deletedByAge).toBe(4);
    expect(remaining(store).map((r) => r.kind)).toEqual([
      'esp-fragment',
      'other',
      'icmp-frag-needed',
      'cleartext-leak',
      'other',
    ]);
    // Nothing else is old enough: a second run deletes nothing.
    expect((await retention.runOnce()).deletedByAge).toBe(0);
    expect(retention.stats()).toMatchObject({ runs: 2, deletedByAge: 4, deletedBySize: 0, lastError: null });
    await store.close();
  });

  test('works in bounded steps and continues where it stopped, across runs and restarts', async () => {
    const base = syntheticFlows(50, { seed: 9 });
    const plan = Array.from({ length: 300 }, (_, i) => ({
      ageMs: (300 - i) * MINUTE,
      kind: (i % 3 === 0 ? 'esp' : 'other') as FlowKind,
    }));
    const store = await storeWith(aged(base, plan));
    const runner = runnerOn(store);
    const settings = config({
      otherFlowsMs: 100 * MINUTE,
      tunnelFlowsMs: 250 * MINUTE,
      stepRows: 25,
      maxStepsPerRun: 3,
    });
    const retention = createRetention(settings, { runner, clock: () => NOW });
    const first = await retention.runOnce();
    expect(first.steps).toBe(3);
    for (const step of runner.steps) expect(step.deletedByAge).toBeLessThanOrEqual(2 * 25);
    // The oldest ids went first.
    const ages = remaining(store).map((r) => r.age);
    expect(Math.max(...ages)).toBeLessThan(300 * MINUTE);

    // A new retention (a restart) goes on from what is left: the blocks carry their class
    // and latest receipt, so no cursor is needed.
    const again = createRetention(settings, { runner: runnerOn(store), clock: () => NOW });
    for (let i = 0; i < 20; i += 1) await again.runOnce();
    const left = remaining(store);
    // Expected from the plan itself: a row is deleted once it is older than its window,
    // so `other` up to 100 min and `esp` up to 250 min stay (the boundary row too).
    const expected = plan.filter((p) =>
      p.kind === 'other' ? p.ageMs <= 100 * MINUTE : p.ageMs <= 250 * MINUTE,
    );
    expect(left.length).toBe(expected.length);
    expect(left.every((r) => (r.kind === 'other' ? r.age <= 100 * MINUTE : r.age <= 250 * MINUTE))).toBe(
      true,
    );
    await store.close();
  });

  test('caps the database size, oldest rows first', async () => {
    const flows = syntheticFlows(20_000, { seed: 4, receivedMs: NOW });
    const store = await storeWith(flows);
    const before = store.infoNow().usedBytes;
    // Half the flows' bytes over the cap: tunnels, SAs and buckets stay, so a cap of half
    // the file could need more than every flow.
    const { blockBytes } = store.sqlite
      .prepare<[], { blockBytes: number }>('SELECT sum(length(data)) AS blockBytes FROM flow_blocks')
      .get()!;
    const cap = before - Math.floor(blockBytes / 2);
    const retention = createRetention(
      config({ maxDatabaseBytes: cap, stepRows: 1000, maxStepsPerRun: 100 }),
      {
        runner: runnerOn(store),
        clock: () => NOW,
      },
    );
    const result = await retention.runOnce();
    expect(result.deletedByAge).toBe(0);
    expect(result.deletedBySize).toBeGreaterThan(0);
    expect(store.infoNow().usedBytes).toBeLessThanOrEqual(cap);
    const low = Math.min(...allStoredFlows(store.sqlite).map((f) => f.id));
    expect(low).toBe(result.deletedBySize + 1);
    await store.close();
  });

  test('runs on its timer through the flow writer, between batches, until stopped', async () => {
    counter += 1;
    const store = await openSqliteStore({ path: tmp.path(`retention-${counter}.db`) });
    const writer = createFlowWriter({ flushIntervalMs: 20 }, { storeConfig: store.config });
    await writer.start();
    let now = NOW;
    const retention = createRetention(config({ otherFlowsMs: 10 * MINUTE, intervalMs: 20 }), {
      runner: writer,
      clock: () => now,
    });
    retention.start();
    const flows = syntheticFlows(2000, { seed: 8, receivedMs: NOW, tunnelShare: 0 });
    await writer.write(flows);
    await writer.flush();
    now = NOW + 11 * MINUTE;
    const started = Date.now();
    while (retention.stats().deletedByAge < 2000 && Date.now() - started < 10_000)
      await new Promise((r) => setTimeout(r, 20));
    await retention.stop();
    expect(retention.stats().deletedByAge).toBe(2000);
    expect(retention.stats().runs).toBeGreaterThanOrEqual(2);
    await writer.stop();
    expect(await store.flowReader.count()).toBe(0);
    await store.close();
  });

  test('exporter buckets are kept for their own, longer window', async () => {
    const store = await storeWith([]);
    const writer = createFlowWriter({ worker: false }, { storeConfig: store.config });
    await writer.start();
    const bucket = {
      exporter: '192.0.2.1',
      domainId: 0,
      records: 1,
      datagrams: 1,
      issues: 0,
      sequenceGaps: 0,
    };
    writer.submit({
      exporterBuckets: [100, 50, 10].map((ageMinutes) => ({
        ...bucket,
        bucketStartMs: NOW - ageMinutes * MINUTE,
      })),
    });
    await writer.flush();
    const retention = createRetention(config({ exporterBucketsMs: 60 * MINUTE, otherFlowsMs: MINUTE }), {
      runner: writer,
      clock: () => NOW,
    });
    await retention.runOnce();
    const left = store.sqlite
      .prepare<[number], { age: number }>(
        'SELECT (? - bucket_start_ms) / 60000 AS age FROM exporter_buckets ORDER BY age',
      )
      .all(NOW);
    expect(left.map((r) => r.age)).toEqual([10, 50]);
    await writer.stop();
    await store.close();
  });

  test('a failing step is counted and logged, not thrown', async () => {
    const retention = createRetention(config({}), {
      runner: { retentionStep: async () => Promise.reject(new Error('database is locked')) },
    });
    await expect(retention.runOnce()).resolves.toMatchObject({ steps: 0 });
    expect(retention.stats().lastError).toBe('database is locked');
  });
});

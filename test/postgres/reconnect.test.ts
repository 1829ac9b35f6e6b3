// A PostgreSQL outage while the collector runs (issue 10): the writer holds what it accepted
// in its bounded queue, says it is failing, drops and counts only what overflows the bound,
// and writes everything it held once the server is back. A server still down when the writer
// stops is given up on after giveUpOnStopMs, and the rows are counted as failed.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import type { NormalizedFlow } from '../../model/flow.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/open-store.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import { corpusFlows } from '../store/corpus-flows.js';
import { eventually } from '../e2e/helpers.js';
import { startPostgresCluster } from '../system/postgres-cluster.js';
import type { PostgresCluster } from '../system/postgres-cluster.js';

const flows: NormalizedFlow[] = corpusFlows('h_multi_tunnel_mixed', 'pmacct_ipfix');

async function countFlows(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM flows')).rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe('the PostgreSQL server goes away while the writer runs', () => {
  // A cluster of its own: this test stops and starts it.
  let cluster: PostgresCluster;
  let store: Store;
  let url: string;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    cluster.createDatabase('outage');
    url = cluster.url('outage');
    store = await openStore({ url });
  });
  afterAll(async () => {
    await store?.close();
    cluster?.stop();
  });

  test('accepted rows wait for the server, the overflow is dropped and counted, nothing else is lost', async () => {
    expect(flows.length).toBeGreaterThan(100);
    const bound = flows.length + 50;
    const writer = createFlowWriter(
      { maxPendingRows: bound, flushIntervalMs: 20, batchRows: 100 },
      { storeConfig: store.config },
    );
    await writer.start();
    await writer.write(flows);
    await writer.flush();
    expect(await countFlows(url)).toBe(flows.length);

    cluster.pause();
    expect(writer.offer(flows)).toBe(flows.length);
    await eventually(() => writer.stats().failing, 15_000);
    expect(writer.stats()).toMatchObject({ failed: 0, dropped: 0, pending: flows.length });
    // Only 50 more fit under the bound: the rest is dropped and counted, never silently.
    expect(writer.offer(flows)).toBe(50);
    expect(writer.stats().dropped).toBe(flows.length - 50);

    cluster.resume();
    await writer.flush();
    const stats = writer.stats();
    expect(stats).toMatchObject({ failing: false, failed: 0, pending: 0, dropped: flows.length - 50 });
    expect(stats.written).toBe(2 * flows.length + 50);
    expect(await countFlows(url)).toBe(2 * flows.length + 50);
    await writer.stop();
  });

  test('a server still down when the writer stops: given up after giveUpOnStopMs, counted as failed', async () => {
    const writer = createFlowWriter(
      { flushIntervalMs: 20, giveUpOnStopMs: 1_000 },
      { storeConfig: store.config },
    );
    await writer.start();
    const before = await countFlows(url);
    cluster.pause();
    try {
      writer.offer(flows);
      await eventually(() => writer.stats().failing, 15_000);
      const started = Date.now();
      await writer.stop();
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(writer.stats()).toMatchObject({ failed: flows.length, written: 0 });
    } finally {
      cluster.resume();
    }
    expect(await countFlows(url)).toBe(before);
  });
});

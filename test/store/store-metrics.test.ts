import { Registry } from 'prom-client';
import { afterAll, expect, test } from 'vitest';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { retentionConfigSchema } from '../../store/retention-config.js';
import { createRetention } from '../../store/retention.js';
import { registerStoreMetrics } from '../../store/store-metrics.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import { corpusFlows } from './corpus-flows.js';
import { tempDir } from './temp-store.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

test('writer and retention counters are exposed at scrape time', async () => {
  const store = await openSqliteStore({ path: tmp.path('metrics.db') });
  const writer = createFlowWriter({ worker: false, maxPendingRows: 10 }, { storeConfig: store.config });
  const flows = corpusFlows('a_healthy_v4', 'softflowd_ipfix');
  const accepted = writer.offer(flows);
  await writer.start();
  await writer.flush();
  const retention = createRetention(retentionConfigSchema.parse({ otherFlowsMs: 1 }), { runner: writer });
  await retention.runOnce();
  const registry = new Registry();
  registerStoreMetrics(registry, { writer, retention, usedBytes: () => store.infoNow().usedBytes });
  const text = await registry.metrics();
  expect(text).toContain(`tunnelflow_store_rows_written_total ${accepted}`);
  expect(text).toContain(`tunnelflow_store_rows_dropped_total ${flows.length - accepted}`);
  expect(text).toContain('tunnelflow_store_rows_pending 0');
  const deleted = retention.stats().deletedByAge;
  expect(deleted).toBeGreaterThan(0);
  expect(text).toContain(`tunnelflow_store_retention_deleted_by_age_total ${deleted}`);
  expect(text).toMatch(/tunnelflow_store_used_bytes \d+/);
  // A second scrape reports the same totals, not twice them.
  expect(await registry.metrics()).toContain(`tunnelflow_store_rows_written_total ${accepted}`);
  await writer.stop();
  await store.close();
});

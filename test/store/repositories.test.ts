import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listExporterBuckets } from '../../store/exporter-buckets/exporter-bucket-repository.js';
import type { ExporterCounters } from '../../store/exporters/exporter-counters.js';
import { loadExporterCounters, upsertExporterCounters } from '../../store/exporters/exporter-repository.js';
import { readMaxFlowDuration } from '../../store/meta/store-meta-repository.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import type { SqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { deleteTemplate, loadTemplates, saveTemplate } from '../../store/templates/template-repository.js';
import { tempDir } from './temp-store.js';

// The kysely repositories that work without the writer (tools, tests, a future
// PostgreSQL store); the writer's prepared statements are tested in flow-writer.test.ts.
const tmp = tempDir();
let store: SqliteStore;
beforeAll(async () => {
  store = await openSqliteStore({ path: tmp.path('repos.db') });
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

describe('templates', () => {
  test('save, replace, delete and load', async () => {
    const key = { exporter: '2001:db8::9', domainId: 7, templateId: 300 };
    await saveTemplate(store.db, { ...key, version: 9, body: { fields: [1, 2] }, updatedMs: 10 });
    await saveTemplate(store.db, {
      ...key,
      templateId: 301,
      version: 9,
      body: { fields: [3] },
      updatedMs: 11,
    });
    await saveTemplate(store.db, { ...key, version: 9, body: { fields: [1, 2, 4] }, updatedMs: 12 });
    expect(await loadTemplates(store.db)).toEqual([
      { ...key, version: 9, body: { fields: [1, 2, 4] }, updatedMs: 12 },
      { ...key, templateId: 301, version: 9, body: { fields: [3] }, updatedMs: 11 },
    ]);
    expect(await deleteTemplate(store.db, { ...key, templateId: 301 })).toBe(true);
    expect(await deleteTemplate(store.db, { ...key, templateId: 301 })).toBe(false);
    // A body that is not JSON (hand-edited file) is skipped, not fatal.
    store.sqlite
      .prepare(
        'INSERT INTO templates (exporter, domain_id, template_id, version, body, updated_ms) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run('x', 0, 256, 10, '{broken', 0);
    expect((await loadTemplates(store.db)).map((t) => t.templateId)).toEqual([300]);
  });
});

describe('exporters', () => {
  test('counters are absolute, first/last seen only widen, broken issues read as none', async () => {
    const counters: ExporterCounters = {
      exporter: '198.51.100.1',
      domainId: 0,
      version: 5,
      datagrams: 3,
      records: 90,
      templates: 0,
      optionsRecords: 0,
      malformed: 0,
      missingTemplateRecords: 0,
      sequenceGaps: 30,
      dropped: 2,
      issues: { 'bad-count': 1 },
      firstSeenMs: 100,
      lastSeenMs: 200,
    };
    await upsertExporterCounters(store.db, counters);
    await upsertExporterCounters(store.db, {
      ...counters,
      version: null,
      datagrams: 4,
      firstSeenMs: 150,
      lastSeenMs: 190,
    });
    expect(await loadExporterCounters(store.db)).toEqual([{ ...counters, datagrams: 4 }]);
    store.sqlite.prepare("UPDATE exporters SET issues = 'nope'").run();
    expect((await loadExporterCounters(store.db))[0]!.issues).toEqual({});
  });
});

describe('exporter buckets and meta', () => {
  test('buckets are listed by window, exporter and domain', async () => {
    const insert = store.sqlite.prepare(
      'INSERT INTO exporter_buckets (exporter, domain_id, bucket_start_ms, records, datagrams, issues, sequence_gaps) VALUES (?, ?, ?, 1, 1, 0, 0)',
    );
    for (const [exporter, domain, start] of [
      ['a', 0, 0],
      ['a', 0, 60_000],
      ['a', 1, 60_000],
      ['b', 0, 60_000],
      ['a', 0, 120_000],
    ] as const) {
      insert.run(exporter, domain, start);
    }
    const list = await listExporterBuckets(store.db, { from: 60_000, to: 120_000 });
    expect(list.map((b) => `${b.exporter}/${b.domainId}@${b.bucketStartMs}`)).toEqual([
      'a/0@60000',
      'a/1@60000',
      'b/0@60000',
    ]);
    const one = await listExporterBuckets(store.db, { from: 0, to: 1e9, exporter: 'a', domainId: 0 });
    expect(one.map((b) => b.bucketStartMs)).toEqual([0, 60_000, 120_000]);
  });

  test('the longest flow duration is 0 on an empty store', async () => {
    expect(await readMaxFlowDuration(store.db)).toBe(0);
  });
});

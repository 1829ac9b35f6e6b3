import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { migrationProvider } from '../../migrations/index.js';
import { tunnelKey } from '../../store/flows/tunnel-key.js';
import { openConnection } from '../../store/sqlite/connection.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { TUNNEL_CLASS } from '../../store/sqlite/flow-block-writer.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import { corpusFlows } from './corpus-flows.js';
import { tempDir } from './temp-store.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('tunnelKey', () => {
  // FNV-1a 32-bit test vectors (draft-eastlake-fnv), as signed 32-bit integers.
  test.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('FNV-1a of %j', (text, unsigned) => {
    expect(tunnelKey(text)).toBe(unsigned | 0);
  });

  test('fits a signed 32-bit integer for real tunnel ids', () => {
    for (const flow of corpusFlows('h_multi_tunnel_mixed', 'pmacct_ipfix')) {
      if (flow.tunnelId === null) continue;
      const key = tunnelKey(flow.tunnelId);
      expect(Number.isInteger(key)).toBe(true);
      expect(Math.abs(key)).toBeLessThanOrEqual(2 ** 31);
    }
  });
});

describe('flow blocks by tunnel key', () => {
  const flows = corpusFlows('h_multi_tunnel_mixed', 'pmacct_ipfix');
  const tunnelIds = [...new Set(flows.map((f) => f.tunnelId).filter((id) => id !== null))];

  test('the writer indexes the blocks of every tunnel by its key, and nothing else', async () => {
    const store = await openSqliteStore({ path: tmp.path('written.db') });
    const writer = createFlowWriter({}, { storeConfig: store.config });
    await writer.start();
    await writer.write(flows);
    await writer.stop();
    const blocks = store.sqlite
      .prepare<[], { tunnel_key: number; class: number }>(
        'SELECT t.tunnel_key, b.class FROM flow_block_tunnels t JOIN flow_blocks b ON b.id = t.block_id',
      )
      .all();
    await store.close();
    expect(tunnelIds.length).toBeGreaterThan(1);
    // One drill-down row per tunnel, in a tunnel block, and none for anything else.
    expect(new Set(blocks.map((b) => b.tunnel_key))).toEqual(new Set(tunnelIds.map(tunnelKey)));
    expect(blocks.every((b) => b.class === TUNNEL_CLASS)).toBe(true);
  });

  test('a store from before the key and the blocks: its rows move into blocks at open, ids kept, and drill-downs find them', async () => {
    const path = tmp.path('before.db');
    // The schema as the previous release left it, with flows in it.
    const sqlite = openConnection({
      path,
      cacheSizeMb: 16,
      busyTimeoutMs: 1000,
      mmapSizeMb: 0,
      journalSizeLimitMb: 16,
    });
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
    const migrated = await new Migrator({
      db: old,
      provider: migrationProvider,
    }).migrateTo('20261123010000-tunnels');
    expect(migrated.error).toBeUndefined();
    const insert = sqlite.prepare(
      `INSERT INTO flows (exporter, domain_id, version, received_ms, start_ms, end_ms, ip_version, src, dst,
         proto, packets, octets, raw_packets, raw_octets, sampling_rate, kind, tunnel_id)
       VALUES (?, 0, 10, ?, ?, ?, 4, ?, ?, 50, ?, ?, ?, ?, 1, ?, ?)`,
    );
    for (const f of flows) {
      insert.run(
        f.exporter,
        f.receivedMs,
        f.startMs,
        f.endMs,
        f.src,
        f.dst,
        f.packets,
        f.octets,
        f.packets,
        f.octets,
        f.kind,
        f.tunnelId,
      );
    }
    // Gaps in the ids (rows deleted by retention) are kept as they are.
    sqlite.prepare('DELETE FROM flows WHERE id IN (2, 5)').run();
    const ids = (sqlite.prepare('SELECT id FROM flows ORDER BY id').all() as Array<{ id: number }>).map(
      (r) => r.id,
    );
    await old.destroy();

    const store = await openSqliteStore({ path });
    try {
      expect(store.sqlite.prepare('SELECT count(*) AS n FROM flows').get()).toEqual({ n: 0 });
      expect(await store.flowReader.count()).toBe(ids.length);
      const all = await store.flowReader.query({ limit: 10_000 });
      expect(all.items.map((f) => f.id).sort((a, b) => a - b)).toEqual(ids);
      const id = tunnelIds[0]!;
      const from = Math.min(...flows.map((f) => f.endMs));
      const to = Math.max(...flows.map((f) => f.endMs)) + 1;
      const page = await store.flowReader.query({
        from,
        to,
        filter: { type: 'tunnel', tunnelId: id },
        limit: 10_000,
      });
      const expected = flows.filter((f, i) => f.tunnelId === id && i !== 1 && i !== 4).length;
      expect(expected).toBeGreaterThan(0);
      expect(page.items).toHaveLength(expected);
      expect(page.items.every((f) => f.tunnelId === id)).toBe(true);
      // New flows get ids above the moved ones.
      const writer = createFlowWriter({ worker: false }, { storeConfig: store.config });
      await writer.start();
      await writer.write(flows.slice(0, 3));
      await writer.stop();
      const after = await store.flowReader.query({ limit: 10_000 });
      const fresh = after.items.map((f) => f.id).filter((i) => !ids.includes(i));
      expect(fresh).toHaveLength(3);
      expect(Math.min(...fresh)).toBeGreaterThan(Math.max(...ids));
    } finally {
      await store.close();
    }
  });
});

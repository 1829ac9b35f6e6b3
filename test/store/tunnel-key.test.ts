import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { migrationProvider } from '../../migrations/index.js';
import { compileFilter } from '../../store/filter/compile-filter.js';
import { queryFlows } from '../../store/flows/flow-repository.js';
import { tunnelKey } from '../../store/flows/tunnel-key.js';
import { openConnection } from '../../store/sqlite/connection.js';
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
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

describe('flows.tunnel_key', () => {
  const flows = corpusFlows('h_multi_tunnel_mixed', 'pmacct_ipfix');
  const tunnelIds = [...new Set(flows.map((f) => f.tunnelId).filter((id) => id !== null))];

  test('the writer stores the key of every tunnel flow, and none for the others', async () => {
    const store = await openSqliteStore({ path: tmp.path('written.db') });
    const writer = createFlowWriter({}, { storeConfig: store.config });
    await writer.start();
    await writer.write(flows);
    await writer.stop();
    const rows = store.sqlite
      .prepare<[], { tunnel_id: string | null; tunnel_key: number | null }>(
        'SELECT tunnel_id, tunnel_key FROM flows',
      )
      .all();
    await store.close();
    expect(rows).toHaveLength(flows.length);
    expect(tunnelIds.length).toBeGreaterThan(1);
    for (const row of rows) {
      expect(row.tunnel_key).toBe(row.tunnel_id === null ? null : tunnelKey(row.tunnel_id));
    }
  });

  test('a store from before the key gets it on open, and drill-downs use its index', async () => {
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
    await old.destroy();

    const store = await openSqliteStore({ path });
    try {
      const rows = store.sqlite
        .prepare<[], { tunnel_id: string | null; tunnel_key: number | null }>(
          'SELECT tunnel_id, tunnel_key FROM flows',
        )
        .all();
      expect(rows).toHaveLength(flows.length);
      for (const row of rows) {
        expect(row.tunnel_key).toBe(row.tunnel_id === null ? null : tunnelKey(row.tunnel_id));
      }
      const indexes = store.sqlite
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flows'",
        )
        .all()
        .map((r) => r.name);
      expect(indexes).toContain('flows_tunnel_key_end_ms');
      expect(indexes).not.toContain('flows_tunnel_end_ms');

      // The drill-down's query finds the tunnel's flows through the key index.
      const id = tunnelIds[0]!;
      const where = compileFilter({ type: 'tunnel', tunnelId: id });
      const from = Math.min(...flows.map((f) => f.endMs));
      const to = Math.max(...flows.map((f) => f.endMs)) + 1;
      const query = store.db
        .selectFrom('flows')
        .selectAll()
        .where('end_ms', '>=', from)
        .where('start_ms', '<', to)
        .where(where)
        .orderBy('end_ms')
        .orderBy('id')
        .compile();
      const plan = store.sqlite
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${query.sql}`)
        .all(...query.parameters)
        .map((r) => r.detail)
        .join('\n');
      expect(plan).toContain('flows_tunnel_key_end_ms');
      const page = await queryFlows(store.db, { from, to, where, limit: 10_000 });
      const expected = flows.filter((f) => f.tunnelId === id).length;
      expect(expected).toBeGreaterThan(0);
      expect(page.items).toHaveLength(expected);
      expect(page.items.every((f) => f.tunnelId === id)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { addressKey, IP_KEY_FUNCTION } from '../address-key.js';
import { TUNNEL_KEY_FUNCTION, tunnelKey } from '../flows/tunnel-key.js';

/** The part of the store configuration a single SQLite connection needs. */
export interface ConnectionOptions {
  readonly path: string;
  readonly cacheSizeMb: number;
  readonly busyTimeoutMs: number;
  readonly mmapSizeMb: number;
  readonly journalSizeLimitMb: number;
}

/**
 * Page size of new databases. A commit writes every page it dirtied to the WAL, one
 * frame each, and the checkpoint copies them again: the flows' indexes take rows all
 * over their key range (one insertion point per tunnel, end times out of order across
 * exporters), so a batch dirties about as many index pages as it has rows. Bigger pages
 * mean fewer frames per commit: the writer measured ~1.3x faster with 16 KiB pages than
 * with SQLite's default 4 KiB on the end-to-end benchmark (test/bench/e2e.ts); 32 KiB
 * measured no better.
 */
export const PAGE_SIZE = 16_384;

/**
 * Opens one better-sqlite3 connection with the store's pragmas. Both the reading
 * connection (kysely) and the writer's connection (in its worker) come from here, so
 * they cannot disagree about journal mode or durability.
 */
export function openConnection(options: ConnectionOptions): SqliteDatabase {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const sqlite = new BetterSqlite3(options.path, { timeout: options.busyTimeoutMs });
  try {
    // Only takes effect on a new, empty database (before WAL mode and the first table);
    // an existing file keeps its page size. See PAGE_SIZE.
    sqlite.pragma(`page_size = ${PAGE_SIZE}`);
    // WAL lets the API read while the writer commits; both run at the same time.
    sqlite.pragma('journal_mode = WAL');
    // In WAL mode NORMAL is still consistent after a crash; a power loss may forget the
    // last commits, which a flow collector can afford (the exporter's next export repeats
    // nothing, but the counters say what was lost).
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
    // A negative cache_size is in KiB rather than pages.
    sqlite.pragma(`cache_size = ${-Math.trunc(options.cacheSizeMb * 1024)}`);
    sqlite.pragma(`mmap_size = ${Math.trunc(options.mmapSizeMb * 1024 * 1024)}`);
    sqlite.pragma(`journal_size_limit = ${Math.trunc(options.journalSizeLimitMb * 1024 * 1024)}`);
    sqlite.pragma('temp_store = MEMORY');
    sqlite.pragma('foreign_keys = OFF');
    // For migrations that key rows stored before (the writer computes new keys itself).
    sqlite.function(TUNNEL_KEY_FUNCTION, { deterministic: true }, (id: unknown) =>
      typeof id === 'string' ? tunnelKey(id) : null,
    );
    // For IPv6 `net` filters (store/filter/compile-filter.ts).
    sqlite.function(IP_KEY_FUNCTION, { deterministic: true }, (text: unknown) =>
      typeof text === 'string' ? addressKey(text) : null,
    );
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return sqlite;
}

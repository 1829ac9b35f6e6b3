import { z } from 'zod';
import { retentionConfigSchema } from './retention-config.js';
import { writerConfigSchema } from './writer/config.js';

/** The store's configuration: the database (a SQLite file or a PostgreSQL URL), its writer and its retention. */
export const storeConfigSchema = z.strictObject({
  /** SQLite file; its folder is created when missing. Unused when `url` is set. */
  path: z.string().min(1).default('data/tunnelflow.db'),
  /**
   * A `postgres://` or `postgresql://` URL: the store then runs on that PostgreSQL
   * database (several collectors may share it). Checked when the store opens.
   */
  url: z.string().min(1).optional(),
  /** SQLite: page cache per connection (PRAGMA cache_size), in MiB. */
  cacheSizeMb: z.number().int().min(1).max(65_536).default(256),
  /** How long a connection waits for another one's lock before failing (PRAGMA busy_timeout). */
  busyTimeoutMs: z.number().int().min(0).default(5_000),
  /** Memory-mapped I/O for reads (PRAGMA mmap_size), in MiB; 0 turns it off. */
  mmapSizeMb: z.number().int().min(0).default(256),
  /** The WAL file is truncated back to this after a checkpoint (PRAGMA journal_size_limit), in MiB. */
  journalSizeLimitMb: z.number().int().min(1).default(64),
  writer: writerConfigSchema.prefault({}),
  retention: retentionConfigSchema.prefault({}),
});

export type StoreConfig = z.infer<typeof storeConfigSchema>;

/** Parses a partial store configuration, filling in the defaults; throws zod's error on bad keys. */
export function parseStoreConfig(input: unknown): StoreConfig {
  return storeConfigSchema.parse(input ?? {});
}

import type { Database as SqliteDatabase } from 'better-sqlite3';

/**
 * How a later part of the store (tunnels, buckets) writes its own tables through the
 * flow writer, inside the same transactions, on the writer's connection.
 *
 * The writer runs in a worker thread, so an extension is named by module rather than
 * passed as a function: the module at `module` (a file URL or absolute path) must export
 * `createStoreExtension(sqlite)` returning a StoreExtensionWriter. Its `apply` is called
 * inside the batch's transaction with each payload submitted under `extra[name]`, in
 * submission order; it must be synchronous (prepared statements).
 */
export interface StoreExtensionModule {
  readonly name: string;
  readonly module: string;
}

export interface StoreExtensionWriter {
  apply(payload: unknown): void;
  close?(): void;
}

/** What an extension module exports. */
export type CreateStoreExtension = (sqlite: SqliteDatabase) => StoreExtensionWriter;

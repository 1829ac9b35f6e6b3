/** Why the store refused to start: the file could not be opened or a migration failed. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  /** The migration that failed, when one did. */
  readonly migration: string | null;

  constructor(message: string, options: { cause?: unknown; migration?: string | null } = {}) {
    super(message, { cause: options.cause });
    this.migration = options.migration ?? null;
  }
}

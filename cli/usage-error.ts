/** A command line that cannot be carried out as given (exit 2, like a bad flag); the message says what to fix. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The one error type of the HTTP API. Handlers throw it; the error handler turns it into
 * an `application/problem+json` body (RFC 9457). `message` becomes the problem's
 * `detail` and must say what to fix; `code` is a stable machine-readable name.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  /** Extra members for the problem body (e.g. a filter error's position). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: string,
    message: string,
    extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.extensions = extensions;
  }
}

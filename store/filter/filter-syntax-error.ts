/**
 * A filter that does not parse. `position` is the 0-based offset in the filter text
 * where something else was expected; the message says what, like
 * "expected an address after 'host' at position 5, found 'foo'".
 */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
  readonly position: number;
  /** What the parser wanted there, e.g. "an address". */
  readonly expected: string;
  /** The text it found instead; null at the end of the filter. */
  readonly found: string | null;

  constructor(expected: string, position: number, found: string | null, after: string | null = null) {
    const context = after === null ? '' : ` after '${after}'`;
    const got = found === null ? 'the end of the filter' : `'${found}'`;
    super(`expected ${expected}${context} at position ${position}, found ${got}`);
    this.position = position;
    this.expected = expected;
    this.found = found;
  }
}

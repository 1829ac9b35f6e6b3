import { z } from 'zod';
import { ApiError } from './api-error.js';

/** Most rows one list request may ask for. */
export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 100;

// ISO 8601 as people type it: a date, or a date and time with a zone. A time without a
// zone is refused rather than read in the server's local time.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/;
const EPOCH_MS = /^-?\d{1,16}$/;

/**
 * A time parameter: ISO 8601 (2024-03-12T09:00:00Z, or a date for its UTC midnight) or
 * epoch milliseconds. Returns epoch ms, or throws ApiError 400 naming the parameter.
 */
export function parseTime(name: string, value: string): number {
  let ms = Number.NaN;
  if (EPOCH_MS.test(value)) ms = Number(value);
  else if (ISO_DATE.test(value)) ms = Date.parse(`${value}T00:00:00Z`);
  else if (ISO_DATE_TIME.test(value)) ms = Date.parse(value.replace(' ', 'T'));
  if (!Number.isSafeInteger(ms)) {
    const hint =
      /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}/.test(value) && !/([Zz]|[+-]\d{2}:?\d{2})$/.test(value)
        ? ' (add Z or an offset such as +01:00)'
        : '';
    throw new ApiError(
      400,
      'bad-parameter',
      `parameter '${name}' must be an ISO 8601 time like 2024-03-12T09:00:00Z or epoch milliseconds${hint}; got '${value}'`,
      { parameter: name },
    );
  }
  return ms;
}

/** `limit`: a whole number from 1 to max (default when absent). */
export function parseLimit(
  value: string | undefined,
  options: { default?: number; max?: number } = {},
): number {
  const max = options.max ?? MAX_LIMIT;
  if (value === undefined) return options.default ?? DEFAULT_LIMIT;
  const limit = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= max)) {
    throw new ApiError(
      400,
      'bad-parameter',
      `parameter 'limit' must be a whole number from 1 to ${max}; got '${value}'`,
      {
        parameter: 'limit',
      },
    );
  }
  return limit;
}

/**
 * Query parameters through a zod schema (a z.strictObject of the parameters). Turns
 * zod's issues into one ApiError 400 that names the parameter: an unknown name (with
 * the list of known ones), a repeated one, or a value the schema refused.
 */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const known = schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : [];
    const name = issue.keys[0] ?? '';
    const suggestion = known.find((k) => closeTo(k, name));
    throw new ApiError(
      400,
      'unknown-parameter',
      `unknown parameter '${name}'${suggestion ? `; did you mean '${suggestion}'?` : ''} (this endpoint takes ${known.join(', ')})`,
      { parameter: name },
    );
  }
  const name = String(issue.path[0] ?? '');
  if (issue.code === 'invalid_type' && Array.isArray(getField(query, name))) {
    throw new ApiError(400, 'bad-parameter', `parameter '${name}' was given more than once; give it once`, {
      parameter: name,
    });
  }
  throw new ApiError(
    400,
    'bad-parameter',
    issue.message.startsWith('parameter') ? issue.message : `parameter '${name}': ${issue.message}`,
    {
      parameter: name,
    },
  );
}

/**
 * A zod string parameter run through a parser that returns null for a bad value;
 * `expected` completes "parameter 'x' must be …".
 */
export function parsedParam<T>(name: string, parse: (value: string) => T | null, expected: string) {
  return z.string().transform((value, ctx): T => {
    const parsed = parse(value);
    if (parsed === null) {
      ctx.addIssue({ code: 'custom', message: `parameter '${name}' must be ${expected}; got '${value}'` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** A time parameter for a zod query schema. */
export function timeParam(name: string) {
  return z.string().transform((value, ctx): number => {
    try {
      return parseTime(name, value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  });
}

function getField(query: unknown, name: string): unknown {
  return typeof query === 'object' && query !== null ? (query as Record<string, unknown>)[name] : undefined;
}

// One edit apart, or a prefix: enough to catch "form", "limt", "filters".
function closeTo(a: string, b: string): boolean {
  if (a === b) return false;
  if (a.startsWith(b) || b.startsWith(a)) return Math.abs(a.length - b.length) <= 2;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i += 1;
  const tail = (x: string, n: number) => x.slice(i + n);
  return (
    tail(a, 1) === tail(b, 1) ||
    tail(a, 1) === tail(b, 0) ||
    tail(a, 0) === tail(b, 1) ||
    (a[i] === b[i + 1] && a[i + 1] === b[i] && tail(a, 2) === tail(b, 2))
  );
}

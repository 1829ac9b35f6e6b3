// The page's only way to the server: the JSON API on the same origin, with URLs relative to
// the page so that a mount under a prefix keeps working.

/** An API answer that is not a success, with the problem+json `detail` when there is one. */
export class ApiProblem extends Error {
  constructor(url, status, title, detail, body = null) {
    super(detail || title || `HTTP ${status}`);
    this.name = 'ApiProblem';
    this.url = url;
    this.status = status;
    this.title = title;
    this.detail = detail;
    /** The parsed JSON body, when there was one (a 503 health answer still describes the collector). */
    this.body = body;
  }
}

/** `api/v1/<path>?<params>` relative to the page; null and undefined params are left out. */
export function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return `api/v1/${path}${text ? `?${text}` : ''}`;
}

/** The same URL made absolute, for "open as JSON" links and for messages. */
export function absoluteUrl(relative) {
  return new URL(relative, document.baseURI).href;
}

const cache = new Map();

/** Forgets every answer: the Refresh button and a new time range start from scratch. */
export function clearCache() {
  cache.clear();
}

/**
 * GET a JSON document. Answers are kept per URL until clearCache(), so moving between a
 * tunnel and its buckets does not refetch what the page already shows.
 */
export function getJson(url) {
  let pending = cache.get(url);
  if (pending === undefined) {
    pending = load(url);
    cache.set(url, pending);
    // A failed request is not remembered: the next render asks again.
    pending.catch(() => cache.delete(url));
  }
  return pending;
}

/** POST a JSON body; answers the parsed JSON, or throws an ApiProblem. Never cached. */
export function postJson(url, body) {
  return load(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function load(url, init = {}) {
  let response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { accept: 'application/json, application/problem+json', ...(init.headers ?? {}) },
    });
  } catch (err) {
    throw new ApiProblem(url, 0, 'collector unreachable', `${err.message} (${url})`);
  }
  const type = response.headers.get('content-type') ?? '';
  let body = null;
  if (type.includes('json')) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const title = body?.title ?? response.statusText;
    const detail =
      body?.detail ?? (body === null ? `${response.status} ${response.statusText} from ${url}` : null);
    throw new ApiProblem(url, response.status, title, detail, body);
  }
  if (body === null)
    throw new ApiProblem(
      url,
      response.status,
      'not JSON',
      `expected JSON from ${url}, got ${type || 'nothing'}`,
    );
  return body;
}

/**
 * Follows `nextCursor` until the list ends or `maxPages` pages were read. Answers
 * `{items, truncated}`, truncated when more pages were left.
 */
export async function getAllItems(path, params, maxPages = 20) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const body = await getJson(apiUrl(path, { ...params, cursor }));
    items.push(...(body.items ?? []));
    cursor = body.nextCursor ?? null;
    if (cursor === null) return { items, truncated: false };
  }
  return { items, truncated: true };
}

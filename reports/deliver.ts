import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** File names we write: no separators, no leading dot (temp files start with one). */
const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Writes one report's files (`<baseName>.<ext>` each) into `directory`, creating it. Each
 * file is written to a temp file in the same directory, fsynced, and renamed over its name,
 * so a reader (a mail script, a file share) sees the old file or the whole new one, never a
 * part. All temp files are written before the first rename, so a failed write leaves none
 * of the new set behind. Returns the paths, in the order given.
 */
export async function writeReportFiles(
  directory: string,
  baseName: string,
  files: Array<{ ext: string; body: string | Buffer }>,
): Promise<string[]> {
  if (!NAME_PART.test(baseName)) {
    throw new Error(`report file name ${JSON.stringify(baseName)}: letters, digits, ".", "_" or "-" only`);
  }
  const exts = new Set<string>();
  for (const { ext } of files) {
    if (!NAME_PART.test(ext))
      throw new Error(`report file extension ${JSON.stringify(ext)} is not a plain name`);
    if (exts.has(ext)) throw new Error(`report file extension ${ext} given twice`);
    exts.add(ext);
  }
  await mkdir(directory, { recursive: true });
  const written: Array<{ temp: string; path: string }> = [];
  try {
    for (const { ext, body } of files) {
      const path = join(directory, `${baseName}.${ext}`);
      const temp = join(
        directory,
        `.${baseName}.${ext}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
      );
      written.push({ temp, path });
      await writeDurably(temp, body);
    }
    for (const w of written) {
      await rename(w.temp, w.path);
      w.temp = '';
    }
  } catch (err) {
    await Promise.all(written.filter((w) => w.temp !== '').map((w) => unlink(w.temp).catch(() => {})));
    throw err;
  }
  // The renames are durable once the directory is: without this a crash can bring back the
  // old names (ext4 and XFS order data before the rename, not the rename itself).
  await syncDirectory(directory);
  return written.map((w) => w.path);
}

async function writeDurably(path: string, body: string | Buffer): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'wx', 0o644);
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle?.close();
  }
}

async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Some platforms and file systems (Windows, some network mounts) cannot fsync a
    // directory; the files themselves are already synced.
  } finally {
    await handle?.close().catch(() => {});
  }
}

export interface WebhookOptions {
  /** Tries in all, the first included. Default 3. */
  readonly attempts?: number;
  /** The wait before the second try; it doubles for each one after. Default 1000. */
  readonly backoffMs?: number;
  /** Each try is abandoned after this long. Default 10000. */
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

export interface WebhookResult {
  readonly ok: boolean;
  /** Tries made. */
  readonly attempts: number;
  /** The status of the last answer, if there was one. */
  readonly status?: number;
  /** Why the last try failed. */
  readonly error?: string;
}

/** A Retry-After longer than this is not waited for. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * POSTs `json` to a webhook. Network errors, time-outs, 5xx and 429 (too many requests) are
 * tried again after a doubling wait (or the server's Retry-After, when longer, up to a
 * minute); any other answer is final: a 4xx means the request itself is wrong, and sending it
 * again would not help. Never throws.
 */
export async function postWebhook(
  url: string,
  json: unknown,
  opts: WebhookOptions = {},
): Promise<WebhookResult> {
  const attempts = Math.max(1, Math.floor(opts.attempts ?? 3));
  const backoffMs = Math.max(0, opts.backoffMs ?? 1000);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const fetchImpl = opts.fetchImpl ?? fetch;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    return { ok: false, attempts: 0, error: `not an http(s) URL: ${url}` };
  }
  let body: string;
  try {
    body = JSON.stringify(json);
  } catch (err) {
    return { ok: false, attempts: 0, error: `the report is not JSON: ${errorText(err)}` };
  }
  let status: number | undefined;
  let error = '';
  for (let attempt = 1; ; attempt++) {
    let waitMs = backoffMs * 2 ** (attempt - 1);
    try {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'tunnelflow' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      // The answer's body is not needed; cancelling it frees the connection.
      await res.body?.cancel().catch(() => {});
      if (res.ok) return { ok: true, attempts: attempt, status };
      error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      if (res.status !== 429 && res.status < 500) return { ok: false, attempts: attempt, status, error };
      waitMs = Math.max(waitMs, retryAfterMs(res.headers.get('retry-after')));
    } catch (err) {
      status = undefined;
      error = fetchErrorText(err, timeoutMs);
    }
    if (attempt >= attempts)
      return { ok: false, attempts: attempt, ...(status !== undefined && { status }), error };
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

/** Retry-After in seconds or as an HTTP date (RFC 9110 §10.2.3), capped; 0 if absent or bad. */
function retryAfterMs(value: string | null): number {
  if (value === null) return 0;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : 0;
}

function fetchErrorText(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  // Node's fetch says "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND) in cause.
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail === '' ? errorText(err) : `${errorText(err)} (${detail})`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

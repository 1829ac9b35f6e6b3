import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { TunnelflowConfig } from '../../cli/config-schema.js';
import { resolveConfig } from '../../cli/resolve-config.js';
import { startTunnelflow } from '../../cli/run-command.js';
import type { RunningTunnelflow } from '../../cli/run-command.js';

export const silentLog = pino({ level: 'silent' });

export function tempDir(prefix = 'tunnelflow-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A config for a test: a fresh database, every listener on a free loopback port. */
/** `db`: a SQLite file or a PostgreSQL URL; default a file in `dir`. */
export function testConfig(dir: string, yaml?: string, db?: string): TunnelflowConfig {
  const file = join(dir, 'tunnelflow.yaml');
  writeFileSync(file, yaml ?? '');
  return resolveConfig({
    config: file,
    db: db ?? join(dir, 'tunnelflow.db'),
    listen: '127.0.0.1',
    netflowPort: 0,
    ipfixPort: 0,
    http: '127.0.0.1:0',
  });
}

export async function start(config: TunnelflowConfig): Promise<RunningTunnelflow & { url: string }> {
  const app = await startTunnelflow(config, silentLog);
  return Object.assign(app, { url: `http://127.0.0.1:${app.http.port}` });
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; type: string; body: T }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as T };
}

/** Polls until `check` returns true (the live path is asynchronous by nature). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test } from 'vitest';
import { tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

// The README's promise: `npm start` runs the collector, and SIGTERM stops it cleanly —
// also when the signal goes to npm, as a service manager or a test harness sends it.
// Ports come from the TUNNELFLOW_* variables that mirror the flags (0: any free port).
test('npm start serves, and a SIGTERM to npm stops the collector with exit 0', async () => {
  const dir = tempDir();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TUNNELFLOW_DB: join(dir, 'start.db'),
      TUNNELFLOW_LISTEN: '127.0.0.1',
      TUNNELFLOW_NETFLOW_PORT: '0',
      TUNNELFLOW_IPFIX_PORT: '0',
      TUNNELFLOW_HTTP: '127.0.0.1:0',
      TUNNELFLOW_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let http = '';
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line) as { event?: string; http?: string };
    if (msg.event === 'listening') {
      http = msg.http as string;
      break;
    }
  }
  const health = await fetch(`http://${http}/api/v1/health`);
  expect(health.status).toBe(200);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  // The collector itself is gone too, not only npm.
  await new Promise((r) => setTimeout(r, 1000));
  await expect(fetch(`http://${http}/api/v1/health`)).rejects.toThrow();
});

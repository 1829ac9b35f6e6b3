// `tunnelflow run` refuses to serve the API on a routable address without tokens.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { tempDir } from './helpers.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

test('run --http 0.0.0.0:0 without tokens exits 2 with what to do, before opening anything', () => {
  const dir = tempDir();
  const run = spawnSync(
    process.execPath,
    [
      MAIN,
      'run',
      '--db',
      join(dir, 'x.db'),
      '--http',
      '0.0.0.0:0',
      '--netflow-port',
      '0',
      '--ipfix-port',
      '0',
      '--listen',
      '127.0.0.1',
    ],
    { encoding: 'utf8', timeout: 20_000, env: { ...process.env, TUNNELFLOW_HTTP_TOKENS: '' } },
  );
  expect(run.stderr).toMatch(
    /tunnelflow: the HTTP API would listen on 0\.0\.0\.0 without authentication; set http\.tokensFile/,
  );
  expect(run.status).toBe(2);
});

import { afterAll, expect, test } from 'vitest';
import { createApi } from '../../api/create-api.js';
import { openStore } from '../../store/open-store.js';
import { tempDir } from '../store/temp-store.js';
import { TEST_ANALYSIS } from './api-test-server.js';

const tmp = tempDir('tunnelflow-api-');
afterAll(() => tmp.cleanup());

test('start() binds 127.0.0.1 on a port of the OS, stop() closes it (keep-alive included)', async () => {
  const store = await openStore({ path: tmp.path('life.db') });
  const api = createApi({ host: '127.0.0.1', port: 0 }, { store, analysis: TEST_ANALYSIS });
  const bound = await api.start();
  expect(bound.address).toBe('127.0.0.1');
  expect(bound.port).toBeGreaterThan(0);
  expect(await api.start()).toEqual(bound);
  const res = await fetch(`http://127.0.0.1:${bound.port}/api/v1/health`, {
    headers: { connection: 'keep-alive' },
  });
  const health = await res.json();
  // No writer given: the section says so instead of inventing numbers.
  expect(health).toMatchObject({ status: 'ok', writer: null, version: null });
  await api.stop();
  await expect(fetch(`http://127.0.0.1:${bound.port}/api/v1/health`)).rejects.toThrow();
  await api.stop();
  await store.close();
});

test('the default configuration is loopback port 8080, and a port in use is an error from start()', async () => {
  const store = await openStore({ path: tmp.path('busy.db') });
  const first = createApi({ port: 0 }, { store, analysis: TEST_ANALYSIS });
  const { port } = await first.start();
  const second = createApi({ port }, { store, analysis: TEST_ANALYSIS });
  await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
  await first.stop();
  expect(() => createApi({ port: 70_000 }, { store, analysis: TEST_ANALYSIS })).toThrow();
  await store.close();
});

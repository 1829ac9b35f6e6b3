import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a module of the store, named by its URL without extension
 * (`new URL('./writer-worker', import.meta.url)`). Compiled (dist/*.js) it starts
 * plainly. From .ts sources (vitest, tsx) the worker has to load TypeScript:
 * `execArgv: ['--import', 'tsx']` does not reach a worker's entry module on Node 20
 * (measured: "Unknown file extension .ts"), so a two-line bootstrap registers tsx's
 * loader in the worker, then imports the entry.
 */
export function spawnWorker(entry: URL, workerData: unknown): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) return new Worker(new URL(`${entry.href}.js`), { workerData });
  const url = `${entry.href}.ts`;
  return new Worker(
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`,
    { eval: true, workerData },
  );
}

import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import type { ApiRoute } from '../../api/api-deps.js';
import { createApi } from '../../api/create-api.js';
import type { Api } from '../../api/create-api.js';
import type { NormalizedFlow } from '../../model/flow.js';
import type { Store } from '../../store/open-store.js';
import type { StoreBatch } from '../../store/writer/store-batch.js';
import { createFlowWriter } from '../../store/writer/flow-writer.js';
import type { FlowWriter } from '../../store/writer/flow-writer.js';
import { openTestStore } from '../helpers/test-store.js';

/** The analysis options of the default configuration (60 s buckets, no observation points). */
export const TEST_ANALYSIS = { bucketMs: 60_000, observationPoints: [], ceilingRatio: 0.5 } as const;

/** A store filled with the given flows and state, and the API on 127.0.0.1:0 in front of it. */
export interface ApiTestServer {
  readonly store: Store;
  readonly writer: FlowWriter;
  readonly api: Api;
  readonly base: string;
  readonly logs: Array<Record<string, unknown>>;
  get(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startApiTestServer(
  flows: readonly NormalizedFlow[],
  options: { state?: StoreBatch; routes?: readonly ApiRoute[]; registry?: Registry } = {},
): Promise<ApiTestServer> {
  const store = await openTestStore('api');
  const writer = createFlowWriter({ worker: false }, { storeConfig: store.config });
  await writer.start();
  await writer.write(flows);
  if (options.state !== undefined) writer.submit(options.state);
  await writer.flush();

  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n'))
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger: Logger = pino({ level: 'info' }, sink);
  const registry = options.registry ?? new Registry();
  if (options.registry === undefined) {
    new Counter({
      name: 'tunnelflow_test_datagrams_total',
      help: 'datagrams in the test',
      registers: [registry],
    }).inc(42);
  }
  const api = createApi(
    { host: '127.0.0.1', port: 0 },
    {
      store,
      analysis: TEST_ANALYSIS,
      registry,
      logger,
      version: '0.1.0-test',
      writerStats: () => writer.stats(),
      routes: options.routes ?? [],
    },
  );
  const { address, port } = await api.start();
  const base = `http://${address}:${port}`;
  return {
    store,
    writer,
    api,
    base,
    logs,
    get: (path, init) => fetch(`${base}${path}`, init),
    close: async () => {
      await api.stop();
      await writer.stop();
      await store.close();
    },
  };
}

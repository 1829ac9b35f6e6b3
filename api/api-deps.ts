import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Store } from '../store/open-store.js';
import type { FlowWriterStats } from '../store/writer/flow-writer.js';

/** Registers more routes on the API's router (the tunnels API, reports...). */
export type ApiRoute = (router: Router) => void;

/** What the API is given by the composition root. */
export interface ApiDeps {
  readonly store: Store;
  /** Served on GET /metrics; a fresh empty registry when absent. */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** The version reported by /api/v1/health. */
  readonly version?: string;
  readonly writerStats?: () => FlowWriterStats;
  /** More health sections (retention, collector...), merged into /api/v1/health. */
  readonly health?: () => Readonly<Record<string, unknown>>;
  /** Extra routes, registered after the built-in ones and before the 404 handler. */
  readonly routes?: readonly ApiRoute[];
  /** Replaces the placeholder page on GET / (the web UI). */
  readonly indexPage?: ApiRoute;
  /** Process start, for uptime; now when absent. */
  readonly startedMs?: number;
}

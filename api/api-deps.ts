import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TunnelQueryOptions } from '../analysis/tunnel-queries.js';
import type { TunnelReader } from '../model/tunnel-reader.js';
import type { RefusedSource } from '../model/refused-source.js';
import type { ReportService } from '../reports/report-service.js';
import type { Store } from '../store/open-store.js';
import type { FlowWriterStats } from '../store/writer/flow-writer.js';

/** Registers routes on the API's router. */
export type ApiRoute = (router: Router) => void;

/** What the API is given by the composition root. */
export interface ApiDeps {
  readonly store: Store;
  /** Tunnels, SAs and buckets for the tunnels API; the store's SQLite reader when absent. */
  readonly tunnelReader?: TunnelReader;
  /** Bucket size, observation points and loss ceiling (from the configuration). */
  readonly analysis: TunnelQueryOptions;
  /** SLA reports (GET/POST /api/v1/reports); the routes are absent without it. */
  readonly reports?: ReportService;
  /** Served on GET /metrics; a fresh empty registry when absent. */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** The version reported by /api/v1/health. */
  readonly version?: string;
  readonly writerStats?: () => FlowWriterStats;
  /** Sources the collector refused (its exporter allowlist), for /api/v1/exporters. */
  readonly refusedSources?: () => readonly RefusedSource[];
  /** More health sections (retention, collector...), merged into /api/v1/health. */
  readonly health?: () => Readonly<Record<string, unknown>>;
  /** More routes after the built-in ones, before the web page and the 404 handler (tests use it). */
  readonly routes?: readonly ApiRoute[];
  /** Replaces the placeholder page on GET / (the web UI). */
  readonly indexPage?: ApiRoute;
  /** Where TUNNELFLOW_HTTP_TOKENS is read from; process.env when absent. */
  readonly env?: NodeJS.ProcessEnv;
  /** Process start, for uptime; now when absent. */
  readonly startedMs?: number;
}

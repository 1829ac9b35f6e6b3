import type { Router } from 'express';
import { z } from 'zod';
import type { Store } from '../../store/open-store.js';
import { lossBuckets, tunnelDetail, tunnelSeries, tunnelSummaries } from '../../analysis/tunnel-queries.js';
import type { TunnelQueryOptions } from '../../analysis/tunnel-queries.js';
import type { TunnelReader } from '../../model/tunnel-reader.js';
import { ApiError } from '../api-error.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../cursor.js';
import { toFlowJson } from '../flow-json.js';
import { parseLimit, parseQuery, parseTime, parsedParam, timeParam } from '../params.js';

export interface TunnelRouteDeps {
  /** Raw flows (the drill-down). */
  readonly store: Store;
  /** Tunnels, SAs, buckets and completeness, engine-neutral. */
  readonly reader: TunnelReader;
  readonly options: TunnelQueryOptions;
  /** Wall clock, for the default window; injectable for tests. */
  readonly clock?: () => number;
}

/** Default window when a request names none: the last 24 hours (what a dashboard opens on). */
const DEFAULT_WINDOW_MS = 86_400_000;
/** A buckets request may return at most this many steps. */
const MAX_STEPS = 20_000;

const windowQuery = {
  from: timeParam('from').optional(),
  to: timeParam('to').optional(),
};

/** `step`: seconds (`300`) or a duration (`5m`, `1h`, `1d`), a multiple of the bucket size. */
function parseStepSeconds(value: string): number | null {
  const m = /^(\d{1,7})([smhd]?)$/.exec(value.trim());
  if (m === null) return null;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  return seconds > 0 ? seconds : null;
}

/**
 * The tunnels API (DESIGN.md "HTTP"): tunnels with state, SAs and loss per direction;
 * a tunnel's time series per bucket with the completeness of the data behind every
 * figure; the loss buckets across tunnels, worst first; and the drill-down from one
 * bucket to the exact flows behind it.
 */
export function tunnelRoutes(deps: TunnelRouteDeps): (router: Router) => void {
  const clock = deps.clock ?? Date.now;
  const opts = deps.options;
  const { bucketMs } = opts;
  const bucketSeconds = bucketMs / 1000;
  const { reader } = deps;

  const window = (q: { from?: number | undefined; to?: number | undefined }): [number, number] => {
    const to = q.to ?? clock();
    const from = q.from ?? to - DEFAULT_WINDOW_MS;
    if (from >= to) {
      throw new ApiError(
        400,
        'bad-parameter',
        "parameter 'from' must be before 'to' (the window is [from, to))",
        {
          parameter: 'from',
        },
      );
    }
    return [from, to];
  };

  const notFound = (id: string) =>
    new ApiError(
      404,
      'tunnel-not-found',
      `no tunnel '${id}'; GET /api/v1/tunnels lists the tunnels and their ids`,
    );

  return (router) => {
    router.get('/api/v1/tunnels', async (req, res) => {
      const [from, to] = window(parseQuery(z.strictObject(windowQuery), req.query));
      res.json({ items: await tunnelSummaries(reader, from, to, opts), nextCursor: null });
    });

    router.get('/api/v1/tunnels/:id', async (req, res) => {
      const [from, to] = window(parseQuery(z.strictObject(windowQuery), req.query));
      const detail = await tunnelDetail(reader, req.params.id, from, to, opts);
      if (detail === undefined) throw notFound(req.params.id);
      res.json(detail.summary);
    });

    router.get('/api/v1/tunnels/:id/buckets', async (req, res) => {
      const q = parseQuery(
        z.strictObject({
          ...windowQuery,
          step: parsedParam('step', parseStepSeconds, 'seconds (300) or a duration (5m, 1h, 1d)').optional(),
        }),
        req.query,
      );
      const [from, to] = window(q);
      const stepMs = (q.step ?? bucketSeconds) * 1000;
      if (stepMs % bucketMs !== 0) {
        throw new ApiError(
          400,
          'bad-parameter',
          `parameter 'step' must be a multiple of the bucket size (${bucketSeconds} s); got ${stepMs / 1000} s`,
          { parameter: 'step' },
        );
      }
      if ((to - from) / stepMs > MAX_STEPS) {
        throw new ApiError(
          400,
          'bad-parameter',
          `the window holds more than ${MAX_STEPS} steps of ${stepMs / 1000} s; use a larger 'step' or a shorter window`,
          { parameter: 'step' },
        );
      }
      const series = await tunnelSeries(reader, req.params.id, from, to, opts, stepMs);
      if (series === undefined) throw notFound(req.params.id);
      // Over data rolled up to hours (older than store.retention.rollupAfterMs) the step is
      // raised to a multiple of 1 h; stepSeconds says which step the items are in.
      res.json({ items: series.buckets, stepSeconds: series.stepMs / 1000, nextCursor: null });
    });

    router.get('/api/v1/loss', async (req, res) => {
      const q = parseQuery(
        z.strictObject({
          ...windowQuery,
          minRatio: parsedParam(
            'minRatio',
            (v) => (/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(v) ? Number(v) : null),
            'a loss ratio from 0 to 1 (0.01 = 1 %)',
          ).optional(),
          limit: z.string().optional(),
        }),
        req.query,
      );
      const [from, to] = window(q);
      const limit = parseLimit(q.limit, { default: 100, max: 10_000 });
      const items = await lossBuckets(reader, from, to, q.minRatio ?? 0, opts);
      res.json({ items: items.slice(0, limit), nextCursor: null });
    });

    router.get('/api/v1/tunnels/:id/buckets/:start/flows', async (req, res) => {
      const q = parseQuery(
        z.strictObject({ limit: z.string().optional(), cursor: z.string().optional() }),
        req.query,
      );
      const start = parseTime('start', req.params.start);
      if (start % bucketMs !== 0) {
        throw new ApiError(
          400,
          'bad-parameter',
          `'${req.params.start}' is not the start of a ${bucketSeconds} s bucket; use a bucket's 'start' from /buckets`,
          { parameter: 'start' },
        );
      }
      const id = req.params.id;
      const series = await tunnelSeries(reader, id, start, start + bucketMs, opts);
      if (series === undefined) throw notFound(id);
      const limit = parseLimit(q.limit, { default: 1000 });
      const fingerprint = queryFingerprint({ id, start });
      const after = q.cursor === undefined ? null : decodeCursor(q.cursor, fingerprint);
      const page = await deps.store.flowReader.query({
        from: start,
        to: start + bucketMs,
        filter: { type: 'tunnel', tunnelId: id },
        after: after === null ? null : { endMs: after.key, id: after.id },
        limit,
      });
      const { summary } = series;
      const { completeness = [], ...bucket } = series.buckets[0] ?? {};
      // A rolled-up hour is shown whole (its start and end), like /buckets does.
      const shownStart = series.buckets[0]?.start ?? start;
      res.json({
        tunnel: { id, name: summary.name, peerA: summary.peerA, peerB: summary.peerB },
        bucket: { start, ...bucket, end: shownStart + series.stepMs },
        completeness,
        items: page.items.map(toFlowJson),
        nextCursor:
          page.next === null ? null : encodeCursor({ key: page.next.endMs, id: page.next.id }, fingerprint),
      });
    });
  };
}

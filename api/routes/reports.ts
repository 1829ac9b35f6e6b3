import type { Router } from 'express';
import { z } from 'zod';
import { ReportRequestError } from '../../reports/build-report.js';
import { reportFormats } from '../../reports/policy.js';
import type { ReportFormat } from '../../reports/policy.js';
import { renderReport } from '../../reports/render.js';
import type { ReportService, StoredReport } from '../../reports/report-service.js';
import { ApiError } from '../api-error.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../cursor.js';
import { parseLimit, parseQuery, parseTime } from '../params.js';

/** A time in a JSON body: epoch ms, or the same ISO 8601 forms as the query parameters. */
const bodyTime = (name: string) =>
  z.union([z.number(), z.string()]).transform((v) => (typeof v === 'number' ? v : parseTime(name, v)));

const createBody = z.strictObject({
  from: bodyTime('from'),
  to: bodyTime('to'),
  tunnels: z.union([z.literal('all'), z.array(z.string().min(1)).min(1).max(10_000)]).optional(),
  policy: z.string().min(1).optional(),
});

/**
 * SLA reports over HTTP: the stored runs, newest first (paged), a report on demand for a
 * period, and one report in any of its formats.
 */
export function reportRoutes(service: ReportService): (router: Router) => void {
  const listing = (r: Omit<StoredReport, 'report'>) => ({
    id: r.id,
    policy: r.policy,
    trigger: r.trigger,
    from: r.fromMs,
    to: r.toMs,
    generatedAt: r.generatedMs,
    scheduledAt: r.scheduledMs,
    tunnels: r.tunnels,
    breaching: r.breaching,
    worstAvailability: r.worstAvailability,
    links: Object.fromEntries(reportFormats.map((f) => [f, `/api/v1/reports/${r.id}?format=${f}`])),
  });

  return (router) => {
    router.get('/api/v1/reports', async (req, res) => {
      const q = parseQuery(
        z.strictObject({
          limit: z.string().optional(),
          cursor: z.string().optional(),
          policy: z.string().optional(),
        }),
        req.query,
      );
      const limit = parseLimit(q.limit, { default: 50, max: 1000 });
      const fingerprint = queryFingerprint({ policy: q.policy });
      const after = q.cursor === undefined ? null : decodeCursor(q.cursor, fingerprint);
      const rows = await service.list({ limit: limit + 1, beforeId: after?.id ?? null, policy: q.policy });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      res.json({
        items: page.map(listing),
        nextCursor:
          rows.length > limit && last !== undefined
            ? encodeCursor({ key: last.id, id: last.id }, fingerprint)
            : null,
      });
    });

    router.post('/api/v1/reports', async (req, res) => {
      const parsed = createBody.safeParse(req.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const where = issue.path.join('.') || 'body';
        throw new ApiError(
          400,
          'bad-report-request',
          `${where}: ${issue.message}; send {"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z", "tunnels": ["id or name"], "policy": "name"}`,
          { parameter: where },
        );
      }
      const body = parsed.data;
      let created: StoredReport;
      try {
        created = await service.create(
          { fromMs: body.from, toMs: body.to, tunnels: body.tunnels, policy: body.policy },
          { trigger: 'on-demand' },
        );
      } catch (err) {
        if (err instanceof ReportRequestError) {
          throw new ApiError(400, 'bad-report-request', err.message, { parameter: err.parameter });
        }
        throw err;
      }
      res
        .status(201)
        .location(`/api/v1/reports/${created.id}`)
        .json({ ...listing(created), report: created.report });
    });

    router.get('/api/v1/reports/:id', async (req, res) => {
      const q = parseQuery(z.strictObject({ format: z.enum(reportFormats).optional() }), req.query);
      const id = /^[1-9]\d{0,15}$/.test(req.params.id) ? Number(req.params.id) : null;
      const found = id === null ? undefined : await service.get(id);
      if (found === undefined) {
        throw new ApiError(404, 'not-found', `no report '${req.params.id}'; GET /api/v1/reports lists them`);
      }
      const format: ReportFormat = q.format ?? 'json';
      const rendered = renderReport(found.report, format);
      res.type(rendered.contentType);
      // CSV is saved; HTML opens in the browser and saves under its name.
      const name = `tunnelflow-report-${found.policy}-${found.id}.${rendered.ext}`;
      if (format === 'csv') res.attachment(name);
      if (format === 'html') res.set('Content-Disposition', `inline; filename="${name}"`);
      res.send(rendered.body);
    });
  };
}

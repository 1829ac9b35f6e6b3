import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ApiError } from './api-error.js';
import { problem, sendProblem } from './problem.js';

/** Any route nobody registered: 404 in the same problem+json form as every other error. */
export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    sendProblem(
      res,
      problem(404, 'not-found', `no route for ${req.method} ${req.path}; GET / lists the API`),
    );
  };
}

/**
 * The one error handler. ApiError and express's own 4xx errors (a malformed body, say)
 * become problems that say what to fix; anything else is an honest generic 500 whose
 * cause, with the failing SQL when it came from the store, is logged under an id that
 * the response quotes.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof ApiError) {
      sendProblem(res, problem(error.status, error.code, error.message, error.extensions));
      return;
    }
    const status = statusOf(error);
    if (status !== null && status >= 400 && status < 500) {
      const message = error instanceof Error ? error.message : 'the request could not be read';
      sendProblem(res, problem(status, 'bad-request', `${message}; check the request's body and headers`));
      return;
    }
    const incident = randomUUID();
    const sql = typeof error === 'object' && error !== null ? (error as { sql?: unknown }).sql : undefined;
    logger.error({ err: error, sql, incident, method: req.method, url: req.originalUrl }, 'request failed');
    sendProblem(
      res,
      problem(
        500,
        'internal',
        `the server failed to answer this request; the cause is logged as incident ${incident}`,
        { incident },
      ),
    );
  };
}

function statusOf(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const candidate =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof candidate === 'number' && Number.isInteger(candidate) ? candidate : null;
}

import { rateLimit } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import { ApiError } from './api-error.js';
import type { ApiConfig } from './config.js';

/**
 * Requests per client address per window (express-rate-limit, in memory: one process serves
 * the API). Over the limit the answer is a 429 problem with `Retry-After` and the standard
 * RateLimit headers (draft-7), so a script backs off instead of hammering the store.
 */
export function perClientRateLimit(config: ApiConfig['rateLimit']): RequestHandler | null {
  if (config.max === 0) return null;
  return rateLimit({
    windowMs: config.windowSeconds * 1000,
    limit: config.max,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next) =>
      next(
        new ApiError(
          429,
          'rate-limited',
          `more than ${config.max} requests in ${config.windowSeconds} s from this address; wait and retry (http.rateLimit)`,
        ),
      ),
  });
}

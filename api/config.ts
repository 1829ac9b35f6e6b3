import { z } from 'zod';

/**
 * Where the HTTP API listens and who may use it. Loopback by default. With `tokens` (or
 * `tokensFile`, or the TUNNELFLOW_HTTP_TOKENS variable) every request needs one of them as a
 * bearer token; a non-loopback `host` without any token is refused unless
 * `allowUnauthenticated` says so explicitly.
 */
export const apiConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 lets the OS choose (tests). */
  port: z.number().int().min(0).max(65_535).default(8080),
  /** Bearer tokens (16 characters at least). Prefer `tokensFile` or the environment: a config file is often readable. */
  tokens: z.array(z.string().min(16, 'a token needs 16 characters at least')).default([]),
  /** A file with one token per line (blank lines and `#` comments ignored). */
  tokensFile: z.string().min(1).optional(),
  /** GET /metrics without a token (for a Prometheus that cannot send one). */
  openMetrics: z.boolean().default(false),
  /** Listen on a non-loopback address without tokens: anyone who reaches it reads everything. */
  allowUnauthenticated: z.boolean().default(false),
  /** Requests per client address per window; over it the answer is 429. 0 turns it off. */
  rateLimit: z
    .strictObject({
      windowSeconds: z.number().int().min(1).default(60),
      max: z.number().int().min(0).default(1200),
    })
    .prefault({}),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

import { z } from 'zod';

/** Where the HTTP API listens. Loopback by default: it has no authentication. */
export const apiConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 lets the OS choose (tests). */
  port: z.number().int().min(0).max(65_535).default(8080),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

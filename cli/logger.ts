import { pino } from 'pino';
import type { Logger } from 'pino';

/** Structured JSON logs on stderr (stdout stays free for command output). */
export function createLogger(level: string = process.env.TUNNELFLOW_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'tunnelflow' } }, pino.destination(2));
}

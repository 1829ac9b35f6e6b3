// The PostgreSQL engine's connection: a `postgres://` / `postgresql://` URL checked once, a `pg`
// Pool with the store's integer policy, and kysely on top (PostgresDialect). Every way the
// connection can fail at start is one StoreOpenError line that names the server and what to do.
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { KyselyConfig } from 'kysely';
import pg from 'pg';
import { StoreOpenError } from '../store-open-error.js';

/** A checked PostgreSQL URL, split into what `pg` needs. The password is never printed. */
export interface PostgresTarget {
  /** A host name or address; or, with `?host=/dir`, the directory of a unix socket. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string | null;
  readonly password: string | null;
  /** `sslmode`: disable (the default, as the store's usual server is local), require, verify-full. */
  readonly ssl: 'disable' | 'require' | 'verify-full';
  readonly applicationName: string;
}

export interface PostgresConnectionOptions {
  readonly url: string;
  /** Pool size; the connections are opened when needed. */
  readonly maxConnections?: number;
  /** How long one connection attempt may take before it counts as failed. */
  readonly connectTimeoutMs?: number;
  /**
   * An idle pooled connection that fails (the server restarted, the network dropped) is
   * dropped from the pool by `pg` and reported here; the next query opens a new one. Without a
   * listener `pg` would let the error crash the process.
   */
  readonly onIdleError?: (error: Error) => void;
  /** kysely's query log (the store uses it to remember the SQL of failed queries). */
  readonly log?: KyselyConfig['log'];
}

export interface PostgresConnection<DB> {
  readonly db: Kysely<DB>;
  readonly target: PostgresTarget;
  /** Ends the pool (waits for queries in flight). */
  close(): Promise<void>;
}

const DEFAULT_PORT = 5432;
const SSL_MODES = ['disable', 'require', 'verify-full'] as const;
const PARAMETERS = ['host', 'sslmode', 'application_name'] as const;

/** What a URL is shown as in messages: everything but the password. */
export function describeTarget(target: PostgresTarget): string {
  const where = target.host.startsWith('/')
    ? `socket ${target.host}:${target.port}`
    : `${target.host}:${target.port}`;
  return `${target.user === null ? '' : `${target.user}@`}${where}/${target.database}`;
}

function wrongUrl(what: string): StoreOpenError {
  return new StoreOpenError(
    `wrong PostgreSQL URL: ${what} (expected postgres://user:password@host:port/database)`,
  );
}

function decoded(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw wrongUrl(`the ${what} is not valid percent-encoding`);
  }
}

/** Checks a `postgres://` or `postgresql://` URL with node's URL parser; throws one clear line. */
export function parsePostgresUrl(text: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw wrongUrl('not a URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw wrongUrl(`scheme ${url.protocol.replace(/:$/, '')}:// is not postgres:// or postgresql://`);
  }
  for (const key of url.searchParams.keys()) {
    if (!(PARAMETERS as readonly string[]).includes(key)) {
      throw wrongUrl(`unknown parameter '${key}' (known: ${PARAMETERS.join(', ')})`);
    }
  }
  const socketDir = url.searchParams.get('host');
  if (socketDir !== null && !socketDir.startsWith('/')) {
    throw wrongUrl(`?host= must be the absolute directory of a unix socket, not '${socketDir}'`);
  }
  // node keeps an IPv6 literal in brackets; pg wants the bare address.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const host = socketDir ?? (hostname === '' ? null : decoded(hostname, 'host'));
  if (host === null) throw wrongUrl('no host');
  const path = url.pathname.replace(/^\//, '');
  if (path === '') throw wrongUrl('no database name after the host');
  if (path.includes('/')) throw wrongUrl(`database name '${decoded(path, 'database name')}' contains '/'`);
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  if (port === 0) throw wrongUrl('port 0');
  const sslmode = url.searchParams.get('sslmode') ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw wrongUrl(`sslmode '${sslmode}' (known: ${SSL_MODES.join(', ')})`);
  }
  return {
    host,
    port,
    database: decoded(path, 'database name'),
    user: url.username === '' ? null : decoded(url.username, 'user name'),
    password: url.password === '' ? null : decoded(url.password, 'password'),
    ssl: sslmode as PostgresTarget['ssl'],
    applicationName: url.searchParams.get('application_name') ?? 'tunnelflow',
  };
}

/**
 * The store's integer policy (store/bigint-policy.ts) on PostgreSQL. `pg` returns int8
 * (bigint: the store's counter columns, COUNT(*)) and numeric (what SUM() over bigint gives)
 * as strings, so that no digit is lost; the store keeps every counter at or below 2^53 - 1,
 * so it reads them as numbers, and a SUM past 2^53 comes back as the nearest double, as it
 * does on SQLite. Set on this pool's own TypeOverrides: `pg.types` is global to the process,
 * and changing it would change every other `pg` user in it.
 */
export function storeTypeParsers(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (text: string) => Number(text));
  types.setTypeParser(pg.types.builtins.NUMERIC, (text: string) => Number(text));
  return types;
}

interface ErrorWithCode {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
}

/** The code of a pg/server error, or of the first of node's connection errors (AggregateError). */
function errorCode(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as ErrorWithCode;
  if (typeof e.code === 'string') return e.code;
  if (Array.isArray(e.errors) && e.errors.length > 0) return errorCode(e.errors[0]);
  return null;
}

function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const e = error as ErrorWithCode;
    if (typeof e.message === 'string' && e.message !== '') return e.message;
    if (Array.isArray(e.errors) && e.errors.length > 0) return messageOf(e.errors[0]);
  }
  return String(error);
}

/** One line for a failed connection attempt, by pg/node error code. */
export function describeConnectError(error: unknown, target: PostgresTarget): string {
  const where = describeTarget(target);
  const server = target.host.startsWith('/') ? `socket ${target.host}` : `${target.host}:${target.port}`;
  switch (errorCode(error)) {
    case 'ECONNREFUSED':
      return `cannot connect to PostgreSQL at ${server}: connection refused (is the server running and listening there?)`;
    case 'ENOENT':
      return `cannot connect to PostgreSQL at ${server}: no server socket there (is the server running?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to PostgreSQL at ${server}: host '${target.host}' not found`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot connect to PostgreSQL at ${server}: ${messageOf(error)}`;
    case '3D000':
      return `PostgreSQL database '${target.database}' does not exist on ${server} (create it: createdb ${target.database})`;
    case '28P01':
      return `PostgreSQL refused ${where}: password authentication failed for user '${target.user ?? '(default)'}'`;
    case '28000':
      return `PostgreSQL refused ${where}: ${messageOf(error)} (see the server's pg_hba.conf)`;
    case '57P03':
      return `PostgreSQL at ${server} is starting up or shutting down; try again`;
    default:
      return `cannot connect to PostgreSQL ${where}: ${messageOf(error)}`;
  }
}

/**
 * Opens a pool and kysely over it, and connects once right away, so that a wrong URL, a refused
 * connection, a missing database or a wrong password stops the start with one clear
 * StoreOpenError line rather than surfacing at the first write.
 */
export async function openPostgres<DB>(options: PostgresConnectionOptions): Promise<PostgresConnection<DB>> {
  const target = parsePostgresUrl(options.url);
  const pool = new pg.Pool({
    host: target.host,
    port: target.port,
    database: target.database,
    ...(target.user === null ? {} : { user: target.user }),
    ...(target.password === null ? {} : { password: target.password }),
    ssl: target.ssl === 'disable' ? false : { rejectUnauthorized: target.ssl === 'verify-full' },
    application_name: target.applicationName,
    max: options.maxConnections ?? 10,
    // pg's default is to wait for ever on a server that does not answer.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types: storeTypeParsers(),
  });
  const onIdleError = options.onIdleError ?? (() => {});
  pool.on('error', (error) => onIdleError(error));
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  try {
    // Through kysely, so that its driver owns the pool from here on and destroy() ends it.
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => {});
    throw new StoreOpenError(describeConnectError(error, target), { cause: error });
  }
  return { db, target, close: () => db.destroy() };
}

/** A database URL as it may be shown or logged: the password, if any, replaced by `***`. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Request, RequestHandler } from 'express';
import { ApiError } from './api-error.js';
import type { ApiConfig } from './config.js';

/** The cookie the web page's requests carry once `/?token=…` was opened. */
export const TOKEN_COOKIE = 'tunnelflow_token';
const MIN_TOKEN_LENGTH = 16;

/** A configuration problem of the API (unreadable token file, short token, open bind). */
export class ApiConfigError extends Error {
  override readonly name = 'ApiConfigError';
}

/**
 * Every accepted token: `tokens`, the lines of `tokensFile`, and the comma-separated
 * `TUNNELFLOW_HTTP_TOKENS`. Throws ApiConfigError saying what to fix.
 */
export function resolveTokens(config: ApiConfig, env: NodeJS.ProcessEnv): string[] {
  const tokens = [...config.tokens];
  if (config.tokensFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(config.tokensFile, 'utf8');
    } catch (err) {
      throw new ApiConfigError(
        `http.tokensFile: cannot read ${config.tokensFile}: ${(err as Error).message}`,
      );
    }
    for (const line of text.split('\n')) {
      const token = line.replace(/#.*/, '').trim();
      if (token !== '') tokens.push(token);
    }
  }
  for (const token of (env.TUNNELFLOW_HTTP_TOKENS ?? '').split(',')) {
    if (token.trim() !== '') tokens.push(token.trim());
  }
  const short = tokens.find((t) => t.length < MIN_TOKEN_LENGTH);
  if (short !== undefined) {
    throw new ApiConfigError(
      `an HTTP token has ${short.length} characters; use ${MIN_TOKEN_LENGTH} or more (e.g. openssl rand -hex 24)`,
    );
  }
  return tokens;
}

/** True for 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Refuses a bind that would expose the API to the network without any token. */
export function checkExposure(config: ApiConfig, tokens: readonly string[]): void {
  if (tokens.length === 0 && !isLoopbackHost(config.host) && !config.allowUnauthenticated) {
    throw new ApiConfigError(
      `the HTTP API would listen on ${config.host} without authentication; set http.tokensFile (or ` +
        'TUNNELFLOW_HTTP_TOKENS), listen on 127.0.0.1, or set http.allowUnauthenticated: true',
    );
  }
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Bearer-token check for every request (but /metrics with `openMetrics`). The token comes in
 * `Authorization: Bearer …`, or in the page's cookie: opening `/?token=…` once sets it and
 * redirects to the same page without the token in the address bar or the history.
 * Compared in constant time, against every token, so neither the length nor the position
 * of a match shows in the answer's timing.
 */
export function requireToken(tokens: readonly string[], openMetrics: boolean): RequestHandler {
  const expected = tokens.map(digest);
  const accepts = (candidate: string): boolean => {
    const got = digest(candidate);
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(got, e) || ok;
    return ok;
  };
  return (req, res, next) => {
    if (openMetrics && req.path === '/metrics') {
      next();
      return;
    }
    const queryToken = typeof req.query.token === 'string' ? req.query.token : null;
    if (req.method === 'GET' && req.path === '/' && queryToken !== null && accepts(queryToken)) {
      res.cookie(TOKEN_COOKIE, queryToken, { httpOnly: true, sameSite: 'strict', path: '/' });
      res.redirect(303, '/');
      return;
    }
    const presented = bearerOf(req) ?? cookieOf(req);
    if (presented !== null && accepts(presented)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="tunnelflow"');
    next(
      new ApiError(
        401,
        'unauthorized',
        presented === null
          ? 'this API needs a token: send "Authorization: Bearer <token>", or open /?token=<token> once in a browser'
          : 'the token is not one of the configured ones (http.tokens, http.tokensFile, TUNNELFLOW_HTTP_TOKENS)',
      ),
    );
  };
}

function bearerOf(req: Request): string | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m === null ? '' : m[1]!;
}

function cookieOf(req: Request): string | null {
  const header = req.headers.cookie;
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return '';
      }
    }
  }
  return null;
}

// A throwaway PostgreSQL cluster for the tests that need a real server (npm run test:postgres).
// It uses Debian's postgresql 15 binaries (initdb, pg_ctl), puts everything in one temporary
// directory (data, unix socket, log), listens on a free port of 127.0.0.1 only, and is removed
// again by stop(). PostgreSQL refuses to run as root, so as root the directory is handed to the
// `postgres` OS user and the binaries run as that user. Missing binaries are installed with
// apt-get when we are root (the `postgresql` package also creates that user).
import { execFileSync, spawnSync } from 'node:child_process';
import type { SpawnSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's postgresql-15 package puts the server binaries (they are not on PATH). */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

/** The superuser of the cluster; it authenticates over TCP with a random password (scram). */
export const SUPERUSER = 'postgres';

export interface PostgresCluster {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The temporary directory: `data/` (the cluster), the unix socket, `server.log`. */
  readonly dir: string;
  readonly user: string;
  readonly password: string;
  /** A `postgres://` URL for one database of this cluster (over TCP, with the password). */
  url(database: string): string;
  /** Creates a database (createdb over the unix socket). */
  createDatabase(name: string): void;
  /** Stops the server (fast shutdown: clients are disconnected) and keeps its data: an outage. */
  pause(): void;
  /** Starts a paused server again, on the same port. */
  resume(): void;
  /** Stops the server (fast shutdown) and removes the directory. Safe to call twice. */
  stop(): void;
}

export interface PostgresClusterOptions {
  /**
   * fsync, synchronous commits and full page writes as a production server has them (for
   * benchmarks). Default off: the data is thrown away, the tests need no durability.
   */
  readonly durable?: boolean;
}

/** Why the cluster could not be set up; the message is one line that says which step failed. */
export class PostgresClusterError extends Error {
  override readonly name = 'PostgresClusterError';
}

interface RunAs {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

/** Runs one binary to completion; a non-zero exit becomes a PostgresClusterError naming the step. */
function run(step: string, command: string, args: readonly string[], as: RunAs, cwd: string): string {
  const options: SpawnSyncOptions = {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    // The C locale keeps initdb from depending on which locales the machine has generated.
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' },
    ...(as.uid === undefined ? {} : { uid: as.uid, gid: as.gid }),
  };
  const result = spawnSync(command, args, options);
  if (result.error)
    throw new PostgresClusterError(`postgres cluster: ${step} failed: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${String(result.stdout)}\n${String(result.stderr)}`;
    throw new PostgresClusterError(
      `postgres cluster: ${step} failed (exit ${result.status ?? result.signal}): ${lastLines(output, 3)}`,
    );
  }
  return String(result.stdout);
}

/** Installs Debian's postgresql when the binaries are missing and we may (root, apt-get). */
function ensureBinaries(): void {
  if (existsSync(join(POSTGRES_BIN, 'initdb')) && existsSync(join(POSTGRES_BIN, 'pg_ctl'))) return;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot() || !hasApt) {
    throw new PostgresClusterError(
      `postgres cluster: ${POSTGRES_BIN}/initdb not found; install Debian's postgresql package ` +
        `(apt-get install postgresql) or run as root to let the tests install it`,
    );
  }
  process.stderr.write('test/system: installing postgresql\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const [step, args] of [
    ['apt-get update', ['update', '-qq']],
    ['apt-get install postgresql', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql']],
  ] as const) {
    const result = spawnSync('apt-get', args, { encoding: 'utf8', env, timeout: 600_000 });
    if (result.status !== 0) {
      throw new PostgresClusterError(
        `postgres cluster: ${step} failed: ${lastLines(`${result.stdout}\n${result.stderr}`, 3)}`,
      );
    }
  }
  if (!existsSync(join(POSTGRES_BIN, 'initdb'))) {
    throw new PostgresClusterError(
      `postgres cluster: apt-get installed postgresql but ${POSTGRES_BIN}/initdb is still missing ` +
        `(a version other than 15?)`,
    );
  }
}

/** As root: the uid/gid of the `postgres` OS user; otherwise ourselves. */
function runAs(): RunAs {
  if (!isRoot()) return { uid: undefined, gid: undefined };
  try {
    const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new PostgresClusterError(
      `postgres cluster: running as root but there is no '${SUPERUSER}' OS user to run the server as ` +
        `(Debian's postgresql package creates it)`,
    );
  }
}

/** A port of 127.0.0.1 that nothing listens on right now (the kernel picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * Creates and starts a cluster. The port is chosen free just before the server starts; if
 * another process takes it in between, the start fails and is tried again on a new port.
 */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  ensureBinaries();
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'tunnelflow-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const password = randomBytes(18).toString('base64url');
  let running = false;
  let removed = false;

  const stop = (): void => {
    if (removed) return;
    try {
      if (running) {
        // fast: roll back open transactions and disconnect clients now; the data is thrown away.
        run('pg_ctl stop', join(POSTGRES_BIN, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w'], as, dir);
        running = false;
      }
    } finally {
      if (!running) {
        rmSync(dir, { recursive: true, force: true });
        removed = true;
        process.removeListener('exit', stop);
      }
    }
  };
  // Should the test runner exit without calling stop() (a crash in a setup hook), the server
  // must not outlive it: 'exit' handlers run synchronously, and stop() is synchronous.
  process.on('exit', stop);

  try {
    if (as.uid !== undefined) chownSync(dir, as.uid, as.gid ?? as.uid);
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (as.uid !== undefined) chownSync(pwfile, as.uid, as.gid ?? as.uid);
    run(
      'initdb',
      join(POSTGRES_BIN, 'initdb'),
      [
        '-D',
        data,
        '-U',
        SUPERUSER,
        `--pwfile=${pwfile}`,
        // The socket lives in our own 0700 directory, so local connections may trust; TCP asks
        // for the password, which lets the tests see a real authentication failure.
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        // Throwaway data: no fsync at initdb, nor later (see the settings below).
        '--no-sync',
      ],
      as,
      dir,
    );
    rmSync(pwfile);
    const settings = [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      ...(options.durable === true
        ? []
        : ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off']),
      'max_connections = 50',
    ];
    writeFileSync(
      join(data, 'postgresql.conf'),
      `\n# test/system/postgres-cluster.ts\n${settings.join('\n')}\n`,
      {
        flag: 'a',
      },
    );

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freeLoopbackPort();
      try {
        run(
          'pg_ctl start',
          join(POSTGRES_BIN, 'pg_ctl'),
          ['start', '-D', data, '-l', log, '-w', '-t', '60', '-o', `-p ${port}`],
          as,
          dir,
        );
        running = true;
        break;
      } catch (error) {
        const serverLog = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if (attempt < 3 && /could not bind|Address already in use/.test(serverLog)) continue;
        throw new PostgresClusterError(
          `${(error as Error).message}${serverLog ? `; server.log: ${lastLines(serverLog, 3)}` : ''}`,
        );
      }
    }

    const cluster: PostgresCluster = {
      host: '127.0.0.1',
      port,
      dir,
      user: SUPERUSER,
      password,
      url: (database) =>
        `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
      createDatabase: (name) => {
        run(
          `createdb ${name}`,
          join(POSTGRES_BIN, 'createdb'),
          ['-h', dir, '-p', String(port), '-U', SUPERUSER, name],
          as,
          dir,
        );
      },
      pause: () => {
        if (!running) return;
        run('pg_ctl stop', join(POSTGRES_BIN, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w'], as, dir);
        running = false;
      },
      resume: () => {
        if (running || removed) return;
        run(
          'pg_ctl start',
          join(POSTGRES_BIN, 'pg_ctl'),
          ['start', '-D', data, '-l', log, '-w', '-t', '60', '-o', `-p ${port}`],
          as,
          dir,
        );
        running = true;
      },
      stop,
    };
    return cluster;
  } catch (error) {
    stop();
    throw error;
  }
}

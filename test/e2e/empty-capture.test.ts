// A valid capture that holds no export datagram (softflowd v5 on an IPv6-only network
// exports nothing) is not an error: `ingest` says so, stores nothing, and exits 0.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { ethernet, ipv4, pcapFile } from '../capture/capture-builder.js';
import { tempDir } from './helpers.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

// What a collector-side capture holds when the exporter sends nothing: other traffic.
const ping = ethernet(
  0x0800,
  ipv4({ src: '192.0.2.10', dst: '192.0.2.53', proto: 1, payload: Buffer.from('0800f7ff00000000', 'hex') }),
);

test.each([
  ['no packet at all', pcapFile({ linkType: 1 }, [])],
  ['only an ICMP echo', pcapFile({ linkType: 1 }, [{ tsSec: 1_710_234_000, tsFrac: 0, data: ping }])],
])('a capture with %s: exit 0, "0 export datagrams", nothing stored', (_name, capture) => {
  const dir = tempDir();
  const file = join(dir, 'empty.pcap');
  const db = join(dir, 'empty.db');
  writeFileSync(file, capture);
  const run = spawnSync(process.execPath, [MAIN, 'ingest', file, '--db', db], { encoding: 'utf8' });
  expect(run.stderr).toMatch(/: \d+ frames, 0 export datagrams, 0 flows stored/);
  expect(run.status).toBe(0);
  const sqlite = new Database(db, { readonly: true });
  expect(sqlite.prepare('SELECT coalesce(sum(rows), 0) AS n FROM flow_blocks').get()).toEqual({ n: 0 });
  sqlite.close();
});

test('a file that is no capture at all is still an error (exit 1, says why)', () => {
  const dir = tempDir();
  const file = join(dir, 'not.pcap');
  writeFileSync(file, 'this is not a capture file');
  const run = spawnSync(process.execPath, [MAIN, 'ingest', file, '--db', join(dir, 'x.db')], {
    encoding: 'utf8',
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/not\.pcap is not a pcap or pcapng capture \(nothing was stored\)/);
});

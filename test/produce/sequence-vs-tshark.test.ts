// A second opinion on the sequence rules: tshark's NetFlow/IPFIX dissector checks export
// sequence numbers too (its "Unexpected flow sequence" expert warning). The same capture,
// built here (IPFIX with options records interleaved, one domain complete and one with a
// message lost; v9 counting packets, one source id complete and one with a packet lost),
// must give tunnelflow's gaps exactly where tshark warns, and the same sizes.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { readCapture } from '../../collector/capture/index.js';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import { ethernet, ipv4, pcapFile, udp } from '../capture/capture-builder.js';
import { INTERLEAVED, START, ipfixStream, numbering, v9Stream } from './sequence-streams.js';

function buildCapture(): Buffer {
  const frames: Buffer[] = [];
  const add = (src: string, port: number, payload: Buffer) =>
    frames.push(
      ethernet(0x0800, ipv4({ src, dst: '192.0.2.1', proto: 17, payload: udp(50000, port, payload) })),
    );
  const ipfix = (domain: number, start: number) =>
    ipfixStream(INTERLEAVED, numbering(INTERLEAVED, 'records-pre', start), domain);
  for (const m of ipfix(1, 100)) add('192.0.2.61', 4739, m);
  for (const m of ipfix(2, 5000).filter((_, i) => i !== 3)) add('192.0.2.61', 4739, m);
  const v9 = INTERLEAVED.slice(0, 6);
  for (const p of v9Stream(v9, numbering(v9, 'packets', 1), 1)) add('192.0.2.62', 2055, p);
  for (const p of v9Stream(v9, numbering(v9, 'packets', 300), 3).filter((_, i) => i !== 2))
    add('192.0.2.62', 2055, p);
  return pcapFile(
    { linkType: 1 },
    frames.map((data, i) => ({ tsSec: START / 1000, tsFrac: i, data })),
  );
}

test('tunnelflow counts gaps where tshark warns of an unexpected sequence, of the same size', () => {
  const capture = buildCapture();
  const file = join(mkdtempSync(join(tmpdir(), 'tunnelflow-seq-')), 'streams.pcap');
  writeFileSync(file, capture);
  const run = spawnSync(
    'tshark',
    ['-r', file, '-d', 'udp.port==2055,cflow', '-d', 'udp.port==4739,cflow', '-q', '-z', 'expert,warn'],
    { encoding: 'utf8' },
  );
  if (run.error) throw new Error(`tshark is needed (test/system/packages.txt): ${run.error.message}`);
  expect(run.status).toBe(0);
  const warned = [
    ...run.stdout.matchAll(/Unexpected flow sequence for domain ID (\d+) \(expected (\d+), got (\d+)\)/g),
  ]
    .map((m) => ({ domain: Number(m[1]), gap: Number(m[3]) - Number(m[2]) }))
    .sort((a, b) => a.domain - b.domain);

  const tracker = new SequenceTracker();
  const cache = new TemplateCache();
  const counted: { domain: number; gap: number }[] = [];
  for (const d of readCapture(capture).datagrams) {
    const produced = produceFlows(d.payload, d.src, 0, cache, tracker);
    expect(produced.issues).toEqual([]);
    const gap = produced.info.sequence?.gap ?? 0;
    if (gap > 0) counted.push({ domain: produced.info.domainId ?? -1, gap });
  }
  counted.sort((a, b) => a.domain - b.domain);

  const lost = INTERLEAVED[3]!;
  // IPFIX domain 2 lost a message: its flow and options records; v9 source 3 lost one packet.
  expect(counted).toEqual([
    { domain: 2, gap: lost.flows + lost.options },
    { domain: 3, gap: 1 },
  ]);
  expect(warned).toEqual(counted);
});

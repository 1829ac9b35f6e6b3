import { createReadStream } from 'node:fs';
import { describe, expect, test } from 'vitest';

import { CaptureReader, readCapture, readCaptureStream } from '../../collector/capture/index.js';
import type { CapturedDatagram } from '../../collector/capture/index.js';
import {
  EXPORTS_DIR,
  expectedCaptures,
  listExportCaptures,
  readExport,
  readRunInfo,
} from './corpus-fixtures.js';

/** Export sequence number from the message header: v5 offset 16, v9 offset 12, IPFIX offset 8. */
function headerSequence(payload: Buffer): number {
  const version = payload.readUInt16BE(0);
  if (version === 5) return payload.readUInt32BE(16);
  if (version === 9) return payload.readUInt32BE(12);
  return payload.readUInt32BE(8);
}

const captures = listExportCaptures();

test('every export capture in the fixtures has a tshark reference entry', () => {
  expect(captures.length).toBe(70);
  expect(captures).toEqual(Object.keys(expectedCaptures).sort());
});

describe.each(captures)('%s', (capture) => {
  const expected = expectedCaptures[capture];
  const run = readRunInfo(capture);
  const collectorPort = Number(run.collector.split(':')[1]);

  test("yields tshark's export messages, in order, without issues", () => {
    const result = readCapture(readExport(capture));
    expect(result.issues).toEqual([]);
    expect(result.issueCounts).toEqual({});
    expect(expected).toBeDefined();
    if (expected === undefined) return;
    expect(result.datagrams).toHaveLength(expected.messages);
    result.datagrams.forEach((d, i) => {
      expect(d.transport).toBe(expected.transport);
      expect(d.src).toBe('127.0.0.1');
      expect(d.dst).toBe('127.0.0.1');
      expect(d.dstPort).toBe(collectorPort);
      expect(run.exporter_source_ports).toContain(d.srcPort);
      expect(d.payload.readUInt16BE(0)).toBe(expected.version);
      expect(headerSequence(d.payload)).toBe(expected.sequences[i]);
      expect(d.tsMs).toBeCloseTo(expected.tsMs[i] ?? NaN, 2);
      const length = expected.lengths[i];
      if (length !== null && length !== undefined) expect(d.payload.length).toBe(length);
    });
    // UDP: every frame is an export datagram. TCP: handshake, ACKs and FIN carry none.
    if (expected.transport === 'udp') expect(result.frames).toBe(expected.messages);
    else expect(result.frames).toBeGreaterThan(expected.messages);
    expect(result.ignored).toBe(0);
  });

  test('gives the same datagrams when the file arrives a few bytes at a time', () => {
    const file = readExport(capture);
    const whole = readCapture(file).datagrams;
    const reader = new CaptureReader();
    const pieces: CapturedDatagram[] = [];
    for (let at = 0, step = 1; at < file.length; at += step, step = (step % 97) + 13) {
      pieces.push(...reader.push(file.subarray(at, at + step)));
    }
    pieces.push(...reader.end());
    expect(reader.issues).toEqual([]);
    expect(pieces).toEqual(whole);
  });
});

describe('IPFIX over TCP', () => {
  const tcpCaptures = captures.filter((c) => c.endsWith('_tcp.pcap'));

  test.each(tcpCaptures)('%s: the messages concatenate to the received TCP byte stream', (capture) => {
    const stream = readExport(capture.replace(/\.pcap$/, '.tcpstream.bin'));
    const { datagrams, issues } = readCapture(readExport(capture));
    expect(issues).toEqual([]);
    expect(datagrams.length).toBeGreaterThan(0);
    expect(Buffer.concat(datagrams.map((d) => d.payload)).equals(stream)).toBe(true);
    // Each message is one whole IPFIX message: its header length is its size.
    for (const d of datagrams) expect(d.payload.readUInt16BE(2)).toBe(d.payload.length);
  });
});

test('readCaptureStream reads a file from a read stream in small chunks, with progress', async () => {
  const capture = 'h_multi_tunnel_mixed/pmacct_ipfix.pcap';
  const size = readExport(capture).length;
  const batches = [];
  for await (const batch of readCaptureStream(
    createReadStream(EXPORTS_DIR + capture, { highWaterMark: 512 }),
  )) {
    batches.push(batch);
  }
  const last = batches.at(-1);
  expect(last?.final).toBe(true);
  expect(last?.bytesRead).toBe(size);
  expect(batches.length).toBeGreaterThan(size / 512);
  // Progress only moves forward.
  for (let i = 1; i < batches.length; i++) {
    expect(batches[i]?.bytesRead).toBeGreaterThanOrEqual(batches[i - 1]?.bytesRead ?? 0);
  }
  const datagrams = batches.flatMap((b) => b.datagrams);
  expect(datagrams).toEqual(readCapture(readExport(capture)).datagrams);
  expect(datagrams).toHaveLength(expectedCaptures[capture]?.messages ?? -1);
  expect(batches.flatMap((b) => b.issues)).toEqual([]);
});

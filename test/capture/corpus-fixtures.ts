// Access to the corpus export captures copied into test/fixtures (see PROVENANCE.md there).

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const EXPORTS_DIR = fileURLToPath(new URL('../fixtures/corpus/exports/', import.meta.url));

export interface ExpectedCapture {
  readonly transport: 'udp' | 'tcp';
  readonly version: 5 | 9 | 10;
  readonly messages: number;
  readonly tsMs: readonly number[];
  readonly lengths: readonly (number | null)[];
  readonly sequences: readonly number[];
}

/** tshark's view of every export capture (capture-counts.PROVENANCE.md says how it was made). */
export const expectedCaptures: Readonly<Record<string, ExpectedCapture>> = (
  JSON.parse(readFileSync(new URL('../fixtures/corpus/capture-counts.json', import.meta.url), 'utf8')) as {
    captures: Record<string, ExpectedCapture>;
  }
).captures;

export function readExport(relative: string): Buffer {
  return readFileSync(EXPORTS_DIR + relative);
}

/** `scenario/file.pcap` for every pcap under the exports folder. */
export function listExportCaptures(): string[] {
  const out: string[] = [];
  for (const scenario of readdirSync(EXPORTS_DIR, { withFileTypes: true })) {
    if (!scenario.isDirectory()) continue;
    for (const name of readdirSync(EXPORTS_DIR + scenario.name)) {
      if (name.endsWith('.pcap')) out.push(`${scenario.name}/${name}`);
    }
  }
  return out.sort();
}

export interface RunInfo {
  readonly collector: string;
  readonly exporter_source_ports: readonly number[];
}

export function readRunInfo(capture: string): RunInfo {
  return JSON.parse(readExport(capture.replace(/\.pcap$/, '.run.json')).toString('utf8')) as RunInfo;
}

/**
 * The first record of a corpus capture, cut out with fixed offsets instead of the reader under
 * test: these files are little-endian microsecond pcaps of Ethernet + 20-byte IPv4 + UDP frames.
 */
export function firstUdpFrame(capture: string): {
  tsSec: number;
  tsUsec: number;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
} {
  const file = readExport(capture);
  const capLen = file.readUInt32LE(24 + 8);
  const frame = file.subarray(40, 40 + capLen);
  const udpStart = 14 + 20;
  const udpLength = frame.readUInt16BE(udpStart + 4);
  return {
    tsSec: file.readUInt32LE(24),
    tsUsec: file.readUInt32LE(28),
    srcPort: frame.readUInt16BE(udpStart),
    dstPort: frame.readUInt16BE(udpStart + 2),
    payload: Buffer.from(frame.subarray(udpStart + 8, udpStart + udpLength)),
  };
}

// Test helper: the corpus export captures and their reference decodes, read from
// test/fixtures/corpus (see the PROVENANCE.md files there), decoded with our pipeline.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../../collector/capture/index.js';
import type { CapturedDatagram } from '../../collector/capture/index.js';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import type { ProducedDatagram } from '../../collector/produce/produce-flows.js';
import { SequenceTracker } from '../../collector/produce/sequence-tracker.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';

export const CORPUS_DIR = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));

export interface ExportCapture {
  readonly scenario: string;
  readonly exporter: string;
  readonly pcapPath: string;
}

/** Every `exports/<scenario>/<exporter>.pcap` of the fixtures. */
export function listExportCaptures(): ExportCapture[] {
  const out: ExportCapture[] = [];
  const dir = `${CORPUS_DIR}exports/`;
  for (const scenario of readdirSync(dir).sort()) {
    if (!existsSync(`${dir}${scenario}`) || scenario.includes('.')) continue;
    for (const file of readdirSync(`${dir}${scenario}`).sort()) {
      if (!file.endsWith('.pcap')) continue;
      out.push({ scenario, exporter: file.slice(0, -'.pcap'.length), pcapPath: `${dir}${scenario}/${file}` });
    }
  }
  return out;
}

export function readDatagrams(capture: ExportCapture): CapturedDatagram[] {
  return readCapture(readFileSync(capture.pcapPath)).datagrams;
}

/** A fixed clock: template TTLs never run out while a capture is replayed. */
export const FIXED_NOW = Date.UTC(2024, 2, 12, 9, 0, 0);

export interface ProducedCapture {
  readonly datagrams: CapturedDatagram[];
  readonly produced: ProducedDatagram[];
}

/** Decodes a whole capture with one cache and tracker, as the collector would. */
export function produceCapture(capture: ExportCapture): ProducedCapture {
  const datagrams = readDatagrams(capture);
  const cache = new TemplateCache({ now: () => FIXED_NOW });
  const tracker = new SequenceTracker();
  const produced = datagrams.map((d) => produceFlows(d.payload, d.src, d.tsMs, cache, tracker, d.transport));
  return { datagrams, produced };
}

/** A record of `*.tshark.json` / `*.nfdump.json` (see the corpus README, "Reference decode format"). */
export interface ReferenceRecord {
  readonly record_type?: 'data' | 'options';
  readonly frame?: number;
  readonly version?: number;
  readonly ipVersion?: number;
  readonly template_id?: number | null;
  readonly domain_id?: number | null;
  readonly srcAddr?: string;
  readonly dstAddr?: string;
  readonly proto?: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly packets?: number;
  readonly octets?: number;
  readonly startMs?: number;
  readonly endMs?: number;
  readonly tcpFlags?: number;
  readonly tos?: number;
  readonly ingressInterface?: number;
  readonly egressInterface?: number;
  readonly direction?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly reversePackets?: number;
  readonly reverseOctets?: number;
  readonly reverseTcpFlags?: number;
  readonly reverseTos?: number;
  readonly reverseIcmpTypeCode?: number;
  readonly other?: Record<string, string>;
}

export interface ExportMessage {
  readonly frame: number;
  readonly version: number;
  readonly domain_id: number | null;
  readonly sequence: number;
  readonly count: number | null;
  readonly templates: readonly { readonly template_id: number; readonly options: boolean }[];
  readonly data_records: number;
  readonly options_records: number;
}

export interface TsharkReference {
  readonly export_messages: readonly ExportMessage[];
  readonly records: readonly ReferenceRecord[];
}

export interface NfdumpReference {
  readonly records: readonly ReferenceRecord[];
}

export interface CompareReference {
  readonly tshark_vs_nfdump: {
    readonly tshark_data_records: number;
    readonly nfdump_records: number;
    readonly identical: boolean;
    readonly only_in_tshark: readonly { readonly record: readonly unknown[] }[];
    readonly only_in_nfdump: readonly { readonly record: readonly unknown[] }[];
  };
}

function readJson<T>(capture: ExportCapture, kind: string): T {
  return JSON.parse(
    readFileSync(`${CORPUS_DIR}reference/${capture.scenario}/${capture.exporter}.${kind}.json`, 'utf8'),
  ) as T;
}

export const readTshark = (c: ExportCapture): TsharkReference => readJson<TsharkReference>(c, 'tshark');
export const readNfdump = (c: ExportCapture): NfdumpReference => readJson<NfdumpReference>(c, 'nfdump');
export const readCompare = (c: ExportCapture): CompareReference => readJson<CompareReference>(c, 'compare');

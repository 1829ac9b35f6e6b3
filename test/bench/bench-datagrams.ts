// The synthetic IPFIX traffic of the benchmarks: one template, data sets of typical
// flow records (IPv4, ports, counters, millisecond times, interfaces).
import { IE, dataRecord, dataSet, ipfixMessage, templateSet } from '../helpers/ipfix-builder.js';
import type { FieldSpec } from '../helpers/ipfix-builder.js';

export const BENCH_FIELDS: readonly FieldSpec[] = [
  { id: IE.sourceIPv4Address, length: 4 },
  { id: IE.destinationIPv4Address, length: 4 },
  { id: IE.sourceTransportPort, length: 2 },
  { id: IE.destinationTransportPort, length: 2 },
  { id: IE.protocolIdentifier, length: 1 },
  { id: IE.tcpControlBits, length: 1 },
  { id: IE.packetDeltaCount, length: 8 },
  { id: IE.octetDeltaCount, length: 8 },
  { id: IE.flowStartMilliseconds, length: 8 },
  { id: IE.flowEndMilliseconds, length: 8 },
  { id: IE.ingressInterface, length: 4 },
  { id: IE.egressInterface, length: 4 },
];
const TEMPLATE_ID = 300;

/** Bytes per record, and where flowStart/EndMilliseconds sit in it (for re-stamping). */
export const BENCH_RECORD_LENGTH = BENCH_FIELDS.reduce((n, f) => n + f.length, 0);
const offsetOf = (id: number) => {
  let off = 0;
  for (const f of BENCH_FIELDS) {
    if (f.id === id) return off;
    off += f.length;
  }
  throw new Error(`no field ${id}`);
};
export const BENCH_START_OFFSET = offsetOf(IE.flowStartMilliseconds);
export const BENCH_END_OFFSET = offsetOf(IE.flowEndMilliseconds);

export function benchTemplateSet(): Buffer {
  return templateSet(TEMPLATE_ID, BENCH_FIELDS);
}

/** IPsec tunnels in the synthetic traffic: a large hub's worth of site-to-site peers. */
export const BENCH_TUNNELS = 256;

/**
 * `count` distinct data sets of `perMessage` records: TCP flows between many hosts, and
 * one record in four ESP between gateway pairs (BENCH_TUNNELS tunnels, both directions),
 * as a router in front of a VPN hub exports them.
 */
export function benchDataSets(count: number, perMessage: number, startMs: number): Buffer[] {
  // A pool of distinct messages, so the collector cannot benefit from identical input.
  const out: Buffer[] = [];
  for (let m = 0; m < count; m++) {
    const records: Buffer[] = [];
    for (let r = 0; r < perMessage; r++) {
      const n = m * perMessage + r;
      const esp = n % 4 === 0;
      const tunnel = (n >> 2) % BENCH_TUNNELS;
      const hub = `192.0.2.${1 + (tunnel % 4)}`;
      const peer = `198.51.${100 + (tunnel >> 7)}.${1 + (tunnel % 128)}`;
      const outbound = (n >> 3) % 2 === 0;
      records.push(
        dataRecord(BENCH_FIELDS, [
          esp ? (outbound ? hub : peer) : `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
          esp ? (outbound ? peer : hub) : `192.0.2.${n % 200}`,
          esp ? 0 : 1024 + (n % 50000),
          esp ? 0 : 443,
          esp ? 50 : 6,
          esp ? 0 : 0x18,
          1 + (n % 100),
          100 + (n % 100) * 1400,
          startMs + (n % 60000),
          startMs + (n % 60000) + 500,
          1,
          2,
        ]),
      );
    }
    out.push(dataSet(TEMPLATE_ID, records));
  }
  return out;
}

/**
 * The in-process benchmarks' traffic: `count` IPFIX messages of `perMessage` records each
 * (benchDataSets, exported two minutes after `startMs`, in sequence), and the message
 * carrying their template.
 */
export function benchMessages(
  count: number,
  perMessage: number,
  startMs: number,
): { messages: Buffer[]; template: Buffer } {
  const messages = benchDataSets(count, perMessage, startMs).map((set, i) =>
    ipfixMessage({
      exportTimeSec: Math.floor(startMs / 1000) + 120,
      sequence: i * perMessage,
      domainId: 1,
      sets: [set],
    }),
  );
  const template = ipfixMessage({
    exportTimeSec: Math.floor(startMs / 1000),
    sequence: 0,
    domainId: 1,
    sets: [benchTemplateSet()],
  });
  return { messages, template };
}

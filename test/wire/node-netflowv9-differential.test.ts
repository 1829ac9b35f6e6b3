// Differential test: every well-formed NetFlow v5 / v9 datagram of the corpus decoded by
// our decoders and by node-netflowv9 (a devDependency, used only as a test oracle). Its
// packet decoder is called directly, never its UDP server, and only with datagrams our
// decoder found well-formed: it loops forever on a zero-length flowset.

import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { describe, expect, test } from 'vitest';
import type { DataRecord } from '../../collector/wire/data-record.js';
import { decodeDatagram } from '../../collector/wire/decode-datagram.js';
import { STRUCTURAL_ISSUES } from '../../collector/wire/issues.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import { FIXED_NOW, listExportCaptures, readDatagrams } from '../produce/corpus-exports.js';

const require = createRequire(import.meta.url);

type OracleFlow = Record<string, unknown>;
interface Oracle {
  nfPktDecode(message: Buffer, rinfo: { address: string; port: number }): { flows: OracleFlow[] } | undefined;
}

/** A node-netflowv9 decoder object without its socket (the constructor would open one). */
function makeOracle(): Oracle {
  const NetFlowV9 = require('node-netflowv9') as { prototype: object };
  const types = require('node-netflowv9/js/nf9/nftypes') as { nfTypes: object; nfScope: object };
  return Object.assign(Object.create(NetFlowV9.prototype) as Oracle, {
    templates: {},
    nfTypes: structuredClone(types.nfTypes),
    nfScope: structuredClone(types.nfScope),
  });
}

/**
 * The oracle's names for the elements the corpus uses, with how to read ours. Its IPv6
 * addresses are raw hex (it does not format them), so they are compared as canonical
 * text after parsing; everything else must be identical.
 */
const v9Fields: readonly [string, (r: DataRecord) => unknown][] = [
  ['in_bytes', (r) => r.octets],
  ['in_pkts', (r) => r.packets],
  ['protocol', (r) => r.proto],
  ['src_tos', (r) => r.tos],
  ['tcp_flags', (r) => r.tcpFlags],
  ['l4_src_port', (r) => r.srcPort],
  ['l4_dst_port', (r) => r.dstPort],
  ['ipv4_src_addr', (r) => (r.addressFamily === 4 ? r.src : undefined)],
  ['ipv4_dst_addr', (r) => (r.addressFamily === 4 ? r.dst : undefined)],
  ['ipv6_src_addr', (r) => (r.addressFamily === 6 ? r.src : undefined)],
  ['ipv6_dst_addr', (r) => (r.addressFamily === 6 ? r.dst : undefined)],
  ['input_snmp', (r) => r.inIf],
  ['output_snmp', (r) => r.outIf],
  ['first_switched', (r) => r.firstSwitched],
  ['last_switched', (r) => r.lastSwitched],
  ['flowStartMilliseconds', (r) => r.startAbsMs],
  ['flowEndMilliseconds', (r) => r.endAbsMs],
  ['icmp_type', (r) => r.icmpTypeCode],
  ['direction', (r) => r.flowDirection],
  ['ip_protocol_version', (r) => r.ipVersion],
  ['flowEndReason', (r) => r.flowEndReason],
];

const v5Fields: readonly [string, (r: DataRecord) => unknown][] = [
  ['ipv4_src_addr', (r) => r.src],
  ['ipv4_dst_addr', (r) => r.dst],
  ['input_snmp', (r) => r.inIf],
  ['output_snmp', (r) => r.outIf],
  ['in_pkts', (r) => r.packets],
  ['in_bytes', (r) => r.octets],
  ['first_switched', (r) => r.firstSwitched],
  ['last_switched', (r) => r.lastSwitched],
  ['ipv4_src_port', (r) => r.srcPort],
  ['ipv4_dst_port', (r) => r.dstPort],
  ['tcp_flags', (r) => r.tcpFlags],
  ['protocol', (r) => r.proto],
  ['src_tos', (r) => r.tos],
];

function oracleValue(name: string, value: unknown): unknown {
  if (name.startsWith('ipv6_') && typeof value === 'string') {
    return ipaddr.IPv6.parse(
      ipaddr.fromByteArray([...Buffer.from(value, 'hex')]).toString(),
    ).toRFC5952String();
  }
  return value;
}

const captures = listExportCaptures().filter((c) => /_v5$|_v9$/.test(c.exporter));

test('the corpus has v5 and v9 captures to compare', () => {
  expect(captures.filter((c) => c.exporter.endsWith('_v5')).length).toBe(10);
  expect(captures.filter((c) => c.exporter.endsWith('_v9')).length).toBe(20);
});

describe.each(captures.map((c) => [`${c.scenario}/${c.exporter}`, c] as const))('%s', (_name, capture) => {
  test('every well-formed datagram decodes as node-netflowv9 decodes it', () => {
    const cache = new TemplateCache({ now: () => FIXED_NOW });
    const oracle = makeOracle();
    let compared = 0;
    for (const datagram of readDatagrams(capture)) {
      const ours = decodeDatagram(datagram.payload, datagram.src, cache);
      if (ours.issues.some((i) => STRUCTURAL_ISSUES.has(i.kind))) continue;
      const theirs = oracle.nfPktDecode(datagram.payload, { address: datagram.src, port: datagram.srcPort });
      expect(theirs).toBeDefined();
      const theirFlows = theirs!.flows.filter((f) => f['isOption'] !== true);
      const theirOptions = theirs!.flows.filter((f) => f['isOption'] === true);
      expect(ours.records).toHaveLength(theirFlows.length);
      expect(ours.optionsRecords).toHaveLength(theirOptions.length);
      const fields = ours.header?.version === 5 ? v5Fields : v9Fields;
      ours.records.forEach((record, i) => {
        const their = theirFlows[i]!;
        // The v9 template id each record came from (node-netflowv9 calls it fsId).
        if (ours.header?.version === 9) expect(record.templateId).toBe(their['fsId']);
        for (const [name, read] of fields) {
          if (!(name in their)) continue;
          expect(read(record), `${name} of record ${i}`).toEqual(oracleValue(name, their[name]));
        }
      });
      compared += ours.records.length;
    }
    expect(compared).toBeGreaterThan(0);
  });
});

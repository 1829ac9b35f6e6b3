// Issue 13 end to end: a capture as a router's management link holds it, ingested with
// `tunnelflow ingest`, then read back through /api/v1/exporters, /metrics and /api/v1/flows:
// - IPFIX over UDP with options records interleaved with the data records, numbered as
//   RFC 7011 §3.1 says (options included): no sequence gap;
// - the same exporter's second observation domain with one message lost: exactly its records;
// - NetFlow v9 from two source ids, one restarting: no gap;
// - a BGP session beside IPFIX over TCP: no decode or capture issue, one stream not IPFIX;
// - a record with 0.0.0.0 IPv4 fields and set IPv6 ones: stored with its IPv6 addresses.
// And the corpus counters: the exporters' sequence gaps stay 0 on the corpus captures.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import { ACK, FIN, SYN, ethernet, ipv4, pcapFile, tcp, udp } from '../capture/capture-builder.js';
import { readExport } from '../capture/corpus-fixtures.js';
import { INTERLEAVED, START, ipfixStream, numbering, v9Stream } from '../produce/sequence-streams.js';
import { dataSet, ip, ipfixMessage, ipfixTemplateSet, u64 } from '../wire/datagram-builder.js';
import { getJson, start, tempDir, testConfig } from './helpers.js';

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');
const COLLECTOR = '192.0.2.1';
const IPFIX_ROUTER = '192.0.2.61';
const V9_ROUTER = '192.0.2.62';
const TCP_ROUTER = '192.0.2.63';
const BGP_PEER = '192.0.2.64';

interface ExporterItem {
  exporter: string;
  domainId: number;
  datagrams: number;
  records: number;
  optionsRecords: number;
  sequenceGaps: number;
  malformed: number;
  missingTemplateRecords: number;
  issues: Record<string, number>;
}

function bgpMessage(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(19, 0xff);
  header.writeUInt16BE(19 + body.length, 16);
  header[18] = type;
  return Buffer.concat([header, body]);
}

/** A record whose template lists IPv4 then IPv6 addresses; the IPv4 ones are 0.0.0.0. */
function zeroIpv4Message(): Buffer {
  const fields = [
    { id: 8, length: 4 },
    { id: 12, length: 4 },
    { id: 27, length: 16 },
    { id: 28, length: 16 },
    { id: 4, length: 1 },
    { id: 152, length: 8 },
    { id: 153, length: 8 },
  ];
  const record = Buffer.concat([
    ip('0.0.0.0'),
    ip('0.0.0.0'),
    ip('2001:db8:13::1'),
    ip('2001:db8:13::2'),
    Buffer.from([17]),
    u64(START),
    u64(START + 2000),
  ]);
  return ipfixMessage({ domain: 9, sequence: 0, exportTime: START / 1000 }, [
    ipfixTemplateSet([{ id: 310, fields }]),
    dataSet(310, [record]),
  ]);
}

function buildCapture(): Buffer {
  const frames: Buffer[] = [];
  const udpFrame = (src: string, dstPort: number, payload: Buffer) =>
    frames.push(
      ethernet(0x0800, ipv4({ src, dst: COLLECTOR, proto: 17, payload: udp(50000, dstPort, payload) })),
    );
  const tcpFrame = (
    src: string,
    dst: string,
    o: { srcPort: number; dstPort: number; seq: number; flags: number; payload?: Buffer },
  ) => frames.push(ethernet(0x0800, ipv4({ src, dst, proto: 6, payload: tcp(o) })));

  // IPFIX over UDP, domain 1 complete, domain 2 with message 3 lost.
  const one = ipfixStream(INTERLEAVED, numbering(INTERLEAVED, 'records-pre', 100), 1);
  const two = ipfixStream(INTERLEAVED, numbering(INTERLEAVED, 'records-pre', 90_000), 2);
  one.forEach((m, i) => {
    udpFrame(IPFIX_ROUTER, 4739, m);
    if (i !== 3) udpFrame(IPFIX_ROUTER, 4739, two[i]!);
  });
  udpFrame(IPFIX_ROUTER, 4739, zeroIpv4Message());

  // v9 from source ids 1 and 2; source 2 restarts (back to 1, templates again) mid-way.
  const v9 = INTERLEAVED.slice(0, 6);
  const a = v9Stream(v9, numbering(v9, 'packets', 1), 1);
  const b = v9Stream(v9.slice(0, 3), numbering(v9.slice(0, 3), 'packets', 5000), 2);
  const bAgain = v9Stream(
    v9.slice(3).map((c, i) => (i === 0 ? { ...c, templates: true } : c)),
    [1, 2, 3],
    2,
  );
  const bAll = [...b, ...bAgain];
  a.forEach((p, i) => {
    udpFrame(V9_ROUTER, 2055, p);
    udpFrame(V9_ROUTER, 2055, bAll[i]!);
  });

  // A BGP session and IPFIX over TCP (the corpus stream) from the same router.
  const out = { srcPort: 50179, dstPort: 179 };
  const back = { srcPort: 179, dstPort: 50179 };
  const open = bgpMessage(1, Buffer.from([4, 0xfc, 0x00, 0, 90, 192, 0, 2, 63, 0]));
  const keepalive = bgpMessage(4, Buffer.alloc(0));
  tcpFrame(TCP_ROUTER, BGP_PEER, { ...out, seq: 0, flags: SYN });
  tcpFrame(BGP_PEER, TCP_ROUTER, { ...back, seq: 7000, flags: SYN | ACK });
  tcpFrame(TCP_ROUTER, BGP_PEER, { ...out, seq: 1, flags: ACK, payload: open });
  tcpFrame(BGP_PEER, TCP_ROUTER, { ...back, seq: 7001, flags: ACK, payload: open });
  tcpFrame(TCP_ROUTER, BGP_PEER, { ...out, seq: 1 + open.length, flags: ACK, payload: keepalive });
  const stream = readExport('h_multi_tunnel_mixed/softflowd_ipfix_tcp.tcpstream.bin');
  const ipfix = { srcPort: 40000, dstPort: 4739 };
  tcpFrame(TCP_ROUTER, COLLECTOR, { ...ipfix, seq: 100, flags: SYN });
  for (let at = 0; at < stream.length; at += 1400) {
    tcpFrame(TCP_ROUTER, COLLECTOR, {
      ...ipfix,
      seq: 101 + at,
      flags: ACK,
      payload: stream.subarray(at, at + 1400),
    });
  }
  tcpFrame(TCP_ROUTER, COLLECTOR, { ...ipfix, seq: 101 + stream.length, flags: FIN | ACK });

  return pcapFile(
    { linkType: 1 },
    frames.map((data, i) => ({ tsSec: START / 1000, tsFrac: i, data })),
  );
}

describe('decoder accuracy on a mixed management-link capture', () => {
  let app: Awaited<ReturnType<typeof start>>;
  let summary = '';

  beforeAll(async () => {
    const dir = tempDir();
    const config = testConfig(dir);
    const file = join(dir, 'mixed.pcap');
    writeFileSync(file, buildCapture());
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      summary += String(chunk);
      return true;
    });
    try {
      await ingestCommand(file, { config: join(dir, 'tunnelflow.yaml'), db: config.store.path });
    } finally {
      stderr.mockRestore();
    }
    app = await start(config);
  });
  afterAll(async () => app.stop());

  test('ingest reports the BGP connection as not IPFIX, and no capture or decode issue', () => {
    expect(summary).toContain('1 TCP streams not IPFIX (skipped)');
    expect(summary).not.toContain('decode issues');
    expect(summary).not.toContain('capture issues');
  });

  test('/api/v1/exporters: the corrected sequence gaps per exporter and domain', async () => {
    const res = await getJson<{ items: ExporterItem[] }>(`${app.url}/api/v1/exporters`);
    expect(res.status).toBe(200);
    const by = (exporter: string, domainId: number) =>
      res.body.items.find((i) => i.exporter === exporter && i.domainId === domainId);
    const lost = INTERLEAVED[3]!;
    const optionsTotal = INTERLEAVED.reduce((n, c) => n + c.options, 0);
    expect(by(IPFIX_ROUTER, 1)).toMatchObject({ sequenceGaps: 0, optionsRecords: optionsTotal, issues: {} });
    expect(by(IPFIX_ROUTER, 2)).toMatchObject({
      sequenceGaps: lost.flows + lost.options,
      optionsRecords: optionsTotal - lost.options,
    });
    expect(by(IPFIX_ROUTER, 9)).toMatchObject({ records: 1, sequenceGaps: 0 });
    expect(by(V9_ROUTER, 1)).toMatchObject({ sequenceGaps: 0, issues: {} });
    expect(by(V9_ROUTER, 2)).toMatchObject({ sequenceGaps: 0, issues: {} });
    expect(by(TCP_ROUTER, 0)).toMatchObject({ datagrams: 5, sequenceGaps: 0, malformed: 0, issues: {} });
    for (const item of res.body.items) expect(item.missingTemplateRecords).toBe(0);
  });

  test('/metrics shows the same gaps', async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const lost = INTERLEAVED[3]!;
    expect(text).toMatch(/^tunnelflow_sequence_gap_total\{exporter="192\.0\.2\.61",domain="1"\} 0$/m);
    expect(text).toContain(
      `tunnelflow_sequence_gap_total{exporter="192.0.2.61",domain="2"} ${lost.flows + lost.options}\n`,
    );
    expect(text).toMatch(/^tunnelflow_sequence_gap_total\{exporter="192\.0\.2\.62",domain="2"\} 0$/m);
  });

  test('the record with 0.0.0.0 beside IPv6 addresses is stored as the IPv6 flow', async () => {
    const res = await getJson<{ items: { src: string; dst: string; ipVersion: number }[] }>(
      `${app.url}/api/v1/flows?exporter=${IPFIX_ROUTER}&src=2001:db8:13::1`,
    );
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ src: '2001:db8:13::1', dst: '2001:db8:13::2' });
    const zero = await getJson<{ items: unknown[] }>(`${app.url}/api/v1/flows?src=0.0.0.0`);
    expect(zero.body.items).toEqual([]);
  });
});

describe('the corpus: sequence gaps on /api/v1/exporters and /metrics stay 0', () => {
  let app: Awaited<ReturnType<typeof start>>;
  const captures = [
    'h_multi_tunnel_mixed/softflowd_ipfix.pcap',
    'h_multi_tunnel_mixed/softflowd_ipfix_bidir.pcap',
    'h_multi_tunnel_mixed/softflowd_ipfix_tcp.pcap',
    'h_multi_tunnel_mixed/softflowd_v9.pcap',
    'h_multi_tunnel_mixed/softflowd_v5.pcap',
    'h_multi_tunnel_mixed/pmacct_ipfix.pcap',
    'h_multi_tunnel_mixed/pmacct_v9.pcap',
    'f_broken_states_v4/softflowd_v9.pcap',
  ];

  beforeAll(async () => {
    const dir = tempDir();
    const config = testConfig(dir);
    const common = { config: join(dir, 'tunnelflow.yaml'), db: config.store.path, quiet: true };
    // One exporter address per capture, so each keeps its own streams.
    for (const [i, capture] of captures.entries()) {
      await ingestCommand(join(CORPUS, capture), { ...common, exporter: `198.51.100.${10 + i}` });
    }
    app = await start(config);
  });
  afterAll(async () => app.stop());

  test('every exporter of the corpus: datagrams counted, no sequence gap', async () => {
    const res = await getJson<{ items: ExporterItem[] }>(`${app.url}/api/v1/exporters`);
    const exporters = new Set(res.body.items.map((i) => i.exporter));
    expect(exporters.size).toBe(captures.length);
    for (const item of res.body.items) {
      expect(item.datagrams).toBeGreaterThan(0);
      expect(item.sequenceGaps).toBe(0);
    }
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const gaps = [...text.matchAll(/^tunnelflow_sequence_gap_total\{[^}]*\} (\d+)$/gm)].map((m) => m[1]);
    expect(gaps.length).toBeGreaterThanOrEqual(captures.length);
    expect(new Set(gaps)).toEqual(new Set(['0']));
  });
});

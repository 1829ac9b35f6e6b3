// The probe's exporting process against our decoder: messages within the MTU, sequence
// numbers counting every data record before the message (RFC 7011 §3.1), templates and
// RFC 5610 type records first and again per §8.4 over UDP, once over TCP.

import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { IpfixTcpFramer } from '../../collector/capture/ipfix-tcp-framer.js';
import { TUNNELFLOW_PEN } from '../../collector/wire/elements.js';
import { decodeIpfix } from '../../collector/wire/ipfix.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import type { IpfixHeader } from '../../collector/wire/decoded-message.js';
import { EndReason } from '../../probe/flow-meter.js';
import type { SaFlowRecord } from '../../probe/flow-meter.js';
import { IpfixExporter } from '../../probe/ipfix-exporter.js';

function sa(i: number): SaFlowRecord {
  return {
    type: 'sa',
    ipVersion: i % 2 === 0 ? 4 : 6,
    src: i % 2 === 0 ? '192.0.2.10' : '2001:db8::10',
    dst: i % 2 === 0 ? '198.51.100.20' : '2001:db8::20',
    proto: 50,
    srcPort: 0,
    dstPort: 0,
    spi: 0x1000 + i,
    packets: 100 + i,
    octets: 10_000 + i,
    startMs: 1_710_234_000_000 + i,
    endMs: 1_710_234_060_000 + i,
    endReason: EndReason.Active,
    firstSeq: 2 ** 32 - 5 + i,
    lastSeq: 2 ** 32 + 100 + i,
    lost: i % 3,
    duplicates: 1,
    outOfOrder: 2,
    fragments: 0,
    generation: 0,
  };
}

describe('ipfix exporter', () => {
  test('UDP: every record decodes, sequence numbers count data records, templates come back every N messages', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const messages: Buffer[] = [];
    socket.on('message', (m) => messages.push(m));
    const exporter = new IpfixExporter({
      host: '127.0.0.1',
      port: (socket.address() as { port: number }).port,
      transport: 'udp',
      observationDomainId: 42,
      clock: () => 1_710_234_100_000,
      templateRefreshMessages: 5,
    });
    await exporter.open();
    for (let i = 0; i < 200; i++) exporter.add(sa(i));
    exporter.addCaptureStats(7);
    await exporter.close();
    await new Promise((r) => setTimeout(r, 200));
    socket.close();

    const cache = new TemplateCache({ now: () => 0 });
    let expectedSequence = 0;
    const flows = [];
    let templateMessages = 0;
    const options = [];
    for (const m of messages) {
      expect(m.length).toBeLessThanOrEqual(1400);
      const out = decodeIpfix(m, 'probe', cache);
      expect(out.issues).toEqual([]);
      const h = out.header as IpfixHeader;
      expect(h).toMatchObject({ observationDomainId: 42, exportTime: 1_710_234_100 });
      expect(h.sequenceNumber).toBe(expectedSequence);
      expectedSequence += out.dataRecordCount + out.optionsRecords.length;
      if (out.templateRecords > 0) templateMessages++;
      flows.push(...out.records.map((r) => ({ ...r })));
      options.push(...out.optionsRecords);
    }
    expect(flows).toHaveLength(200);
    expect(flows[3]).toMatchObject({
      src: '2001:db8::10',
      spi: 0x1003,
      packets: 103,
      espSeqFirst: (2 ** 32 - 2) >>> 0,
      espSeqLast: 103,
      espLostPackets: 0,
      espDuplicatePackets: 1,
      espOutOfOrderPackets: 2,
    });
    // §8.4: at the start and every 5 messages after.
    expect(templateMessages).toBeGreaterThan(Math.floor(messages.length / 7));
    // RFC 5610 type records name tunnelflow's elements.
    const names = options
      .filter((o) => o.fields.some((f) => f.name === 'privateEnterpriseNumber' && f.value === TUNNELFLOW_PEN))
      .map((o) => o.fields.find((f) => f.name === 'informationElementName')?.value);
    expect(names).toEqual(
      expect.arrayContaining(['espLostPackets', 'espDuplicatePackets', 'ipFragmentPackets']),
    );
    const stats = options.find((o) => o.fields.some((f) => f.name === 'captureDroppedPackets'));
    expect(stats?.fields.find((f) => f.name === 'captureDroppedPackets')?.value).toBe(7);
  });

  test('TCP: templates once, messages framed by their length', async () => {
    const chunks: Buffer[] = [];
    const server = net.createServer((c) => c.on('data', (d: Buffer) => chunks.push(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const exporter = new IpfixExporter({
      host: '127.0.0.1',
      port: (server.address() as net.AddressInfo).port,
      transport: 'tcp',
      observationDomainId: 1,
      clock: () => 0,
      templateRefreshMessages: 1,
    });
    await exporter.open();
    for (let i = 0; i < 500; i++) exporter.add(sa(i));
    await exporter.close();
    await new Promise((r) => setTimeout(r, 200));
    await new Promise<void>((r) => server.close(() => r()));
    const framer = new IpfixTcpFramer();
    const out = framer.push(Buffer.concat(chunks));
    const cache = new TemplateCache({ now: () => 0 });
    let records = 0;
    let withTemplates = 0;
    for (const m of out.messages) {
      const d = decodeIpfix(m, 'probe', cache, undefined, 'tcp');
      expect(d.issues).toEqual([]);
      records += d.dataRecordCount;
      if (d.templateRecords > 0) withTemplates++;
    }
    expect(records).toBe(500);
    expect(withTemplates).toBe(1);
  });
});

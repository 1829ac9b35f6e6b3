// The load generator of the end-to-end benchmark, run as its own process so that it does
// not share a core's event loop with the collector it measures. Sends IPFIX messages of
// `--records` flow records each at `--rate` records/s for `--seconds`, with the template
// repeated every 64 messages (as exporters refresh them), and prints what it sent as JSON.
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { IE, dataRecord, dataSet, ipfixMessage, templateSet } from '../helpers/ipfix-builder.js';
import type { FieldSpec } from '../helpers/ipfix-builder.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '5' },
    records: { type: 'string', default: '30' },
    domain: { type: 'string', default: '1' },
  },
});
const port = Number(values.port);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const perMessage = Number(values.records);
const domainId = Number(values.domain);

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

function buildMessages(count: number, startMs: number): Buffer[] {
  // A pool of distinct messages, so the collector cannot benefit from identical input.
  const out: Buffer[] = [];
  for (let m = 0; m < count; m++) {
    const records: Buffer[] = [];
    for (let r = 0; r < perMessage; r++) {
      const n = m * perMessage + r;
      const esp = n % 4 === 0;
      records.push(
        dataRecord(BENCH_FIELDS, [
          `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
          `192.0.2.${n % 200}`,
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

async function main(): Promise<void> {
  const socket = dgram.createSocket(values.host?.includes(':') ? 'udp6' : 'udp4');
  socket.setSendBufferSize(8 * 1024 * 1024);
  const pool = buildMessages(256, Date.now() - 120_000);
  const template = templateSet(TEMPLATE_ID, BENCH_FIELDS);
  const totalMessages = Math.round((rate * seconds) / perMessage);
  const messageRate = rate / perMessage;
  let sequence = 0;
  let sent = 0;
  let sentRecords = 0;
  const started = process.hrtime.bigint();
  const host = values.host as string;
  await new Promise<void>((resolve) => {
    // Pace against the clock: each tick sends what the schedule says is due, in bursts of
    // at most 256 messages so that the socket buffer is not overrun by one tick.
    const tick = () => {
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const due = Math.min(totalMessages, Math.floor(elapsed * messageRate) + 1);
      const until = Math.min(due, sent + 256);
      for (; sent < until; sent++) {
        const sets = sent % 64 === 0 ? [template, pool[sent % pool.length] as Buffer] : [pool[sent % pool.length] as Buffer];
        socket.send(ipfixMessage({ exportTimeSec: Math.floor(Date.now() / 1000), sequence, domainId, sets }), port, host);
        sequence = (sequence + perMessage) >>> 0;
        sentRecords += perMessage;
      }
      if (sent >= totalMessages) return resolve();
      setTimeout(tick, sent < due ? 0 : 1);
    };
    tick();
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  await new Promise((r) => setTimeout(r, 50));
  socket.close();
  process.stdout.write(`${JSON.stringify({ messages: sent, records: sentRecords, seconds: elapsed })}\n`);
}

await main();

// The load generator of the end-to-end benchmark, run as its own process so that it does
// not share a core's event loop with the collector it measures. Sends IPFIX messages of
// `--records` flow records each at `--rate` records/s for `--seconds`, with the template
// repeated every 64 messages (as exporters refresh them), and prints what it sent as JSON.
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { ipfixMessage } from '../helpers/ipfix-builder.js';
import {
  BENCH_END_OFFSET,
  BENCH_RECORD_LENGTH,
  BENCH_START_OFFSET,
  benchDataSets,
  benchTemplateSet,
} from './bench-datagrams.js';

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

/**
 * Exporters send a flow when it ends, so end times move forward with the clock: each data
 * set is re-stamped to end now (durations up to a minute), which is what the store's time
 * index sees from real traffic (a fixed pool of timestamps would scatter every insert).
 */
function restamp(dataSet: Buffer, nowMs: number): void {
  for (let off = 4, r = 0; off + BENCH_RECORD_LENGTH <= dataSet.length; off += BENCH_RECORD_LENGTH, r++) {
    const end = nowMs - (r % 50);
    dataSet.writeBigUInt64BE(BigInt(end - ((r * 7919) % 60_000)), off + BENCH_START_OFFSET);
    dataSet.writeBigUInt64BE(BigInt(end), off + BENCH_END_OFFSET);
  }
}

async function main(): Promise<void> {
  const socket = dgram.createSocket({
    type: values.host?.includes(':') ? 'udp6' : 'udp4',
    sendBufferSize: 8 << 20,
  });
  const pool = benchDataSets(256, perMessage, Date.now() - 120_000);
  const template = benchTemplateSet();
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
      const now = Date.now();
      for (; sent < until; sent++) {
        const data = pool[sent % pool.length] as Buffer;
        restamp(data, now);
        const sets = sent % 64 === 0 ? [template, data] : [data];
        socket.send(
          ipfixMessage({ exportTimeSec: Math.floor(Date.now() / 1000), sequence, domainId, sets }),
          port,
          host,
        );
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

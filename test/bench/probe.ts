// Probe throughput on one core: a generated pcap (Ethernet, IPv4 ESP, 200 SAs, small packets so
// the packet rate is what is measured, a drop every 1000 packets) read by `runProbe` from the
// file and exported over UDP to a local socket. Prints one JSON line:
//   node --import tsx test/bench/probe.ts [--packets 3000000]
import dgram from 'node:dgram';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runProbe } from '../../probe/run-probe.js';

const { values } = parseArgs({ options: { packets: { type: 'string', default: '3000000' } } });
const PACKETS = Number(values.packets);
const SAS = 200;
const FRAME = 14 + 20 + 8 + 40;
const DROP_EVERY = 1000;

async function writePcap(path: string): Promise<{ written: number; dropped: number }> {
  const out = createWriteStream(path);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  out.write(header);
  const per = 16 + FRAME;
  const chunkPackets = 20_000;
  const seq = new Uint32Array(SAS);
  let written = 0;
  let dropped = 0;
  const t0 = 1_710_234_000;
  for (let n = 0; n < PACKETS;) {
    const count = Math.min(chunkPackets, PACKETS - n);
    const buf = Buffer.alloc(count * per);
    let at = 0;
    for (let i = 0; i < count; i++, n++) {
      const sa = n % SAS;
      seq[sa]!++;
      // One number in DROP_EVERY never makes it onto the wire: real loss for the window to find.
      if (seq[sa]! % DROP_EVERY === 0) {
        dropped++;
        seq[sa]!++;
      }
      const usec = n * 10; // 100k packets per second of capture time
      buf.writeUInt32LE(t0 + Math.floor(usec / 1e6), at);
      buf.writeUInt32LE(usec % 1e6, at + 4);
      buf.writeUInt32LE(FRAME, at + 8);
      buf.writeUInt32LE(FRAME, at + 12);
      const f = at + 16;
      buf.writeUInt16BE(0x0800, f + 12);
      const ip = f + 14;
      buf[ip] = 0x45;
      buf.writeUInt16BE(FRAME - 14, ip + 2);
      buf[ip + 8] = 64;
      buf[ip + 9] = 50;
      buf.writeUInt32BE(0xc0000200 + (sa % 100), ip + 12); // 192.0.2.x
      buf.writeUInt32BE(0xc6336400 + Math.floor(sa / 100), ip + 16); // 198.51.100.x
      buf.writeUInt32BE(0x10000000 + sa, ip + 20); // SPI
      buf.writeUInt32BE(seq[sa]!, ip + 24);
      at += per;
      written++;
    }
    if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  return { written, dropped };
}

const dir = mkdtempSync(join(tmpdir(), 'tunnelflow-probe-bench-'));
const file = join(dir, 'esp.pcap');
try {
  const { written, dropped } = await writePcap(file);
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const port = (sink.address() as { port: number }).port;
  const options = {
    pcap: file,
    exportHost: '127.0.0.1',
    exportPort: port,
    transport: 'udp' as const,
    observationDomainId: 1,
    activeTimeoutMs: 60_000,
    idleTimeoutMs: 15_000,
    windowSize: 1024,
    meterOther: false,
    log: () => undefined,
  };
  // A warm-up run on the same file, then the timed one.
  await runProbe(options);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const summary = await runProbe(options);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  sink.close();
  process.stdout.write(
    `${JSON.stringify({
      name: 'probe-pcap-esp',
      packets: summary.packets,
      fileBytes: statSync(file).size,
      sas: SAS,
      seconds: Number(seconds.toFixed(3)),
      packetsPerSecond: Math.round(summary.packets / seconds),
      cpuSecondsPerMillionPackets: Number(
        (((cpu.user + cpu.system) / 1e6 / summary.packets) * 1e6).toFixed(3),
      ),
      lostFound: summary.lost,
      lostWritten: dropped,
      exact: summary.lost === dropped && summary.packets === written,
      target: 1_000_000,
    })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

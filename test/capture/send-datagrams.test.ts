// Replay over loopback only: real corpus datagrams to sockets bound on 127.0.0.1:0 (and ::1).

import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, expect, test } from 'vitest';

import { readCapture, sendDatagrams } from '../../collector/capture/index.js';
import type { CapturedDatagram } from '../../collector/capture/index.js';
import { readExport } from './corpus-fixtures.js';

const udpDatagrams = readCapture(readExport('h_multi_tunnel_mixed/pmacct_ipfix.pcap')).datagrams;
const TCP_CAPTURE = 'h_multi_tunnel_mixed/softflowd_ipfix_tcp.pcap';
const tcpDatagrams = readCapture(readExport(TCP_CAPTURE)).datagrams;
const tcpStream = readExport(TCP_CAPTURE.replace(/\.pcap$/, '.tcpstream.bin'));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

interface UdpReceiver {
  readonly port: number;
  readonly received: Buffer[];
  /** Resolves once `n` datagrams arrived, or after 5 s (the assertions then show what is missing). */
  waitFor(n: number): Promise<void>;
}

async function udpServer(address = '127.0.0.1', port = 0): Promise<UdpReceiver> {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg) => received.push(msg));
  socket.bind(port, address);
  await once(socket, 'listening');
  cleanups.push(() => socket.close());
  return {
    port: socket.address().port,
    received,
    async waitFor(n) {
      const deadline = Date.now() + 5000;
      while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

interface TcpReceiver {
  readonly port: number;
  connections(): number;
  /** The bytes of the first connection, once the sender has closed it. */
  readonly received: Promise<Buffer>;
}

async function tcpServer(): Promise<TcpReceiver> {
  const chunks: Buffer[] = [];
  let connections = 0;
  let done: (b: Buffer) => void = () => {};
  const received = new Promise<Buffer>((resolve) => (done = resolve));
  const server = net.createServer((socket) => {
    connections++;
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => done(Buffer.concat(chunks)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => server.close());
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    connections: () => connections,
    received,
  };
}

test('UDP: every payload arrives, unchanged and in order', async () => {
  expect(udpDatagrams).toHaveLength(33);
  const server = await udpServer();
  const progress: [number, number][] = [];
  const result = await sendDatagrams(udpDatagrams, {
    host: '127.0.0.1',
    port: server.port,
    onProgress: (sent, total) => progress.push([sent, total]),
  });
  expect(result).toEqual({ sent: 33, tcpMessages: 0 });
  await server.waitFor(33);
  expect(server.received.map((b) => b.toString('hex'))).toEqual(
    udpDatagrams.map((d) => d.payload.toString('hex')),
  );
  expect(progress).toEqual(udpDatagrams.map((_d, i) => [i + 1, 33]));
});

test('UDP over IPv6 loopback', async () => {
  const server = await udpServer('::1');
  const some = udpDatagrams.slice(0, 5);
  await sendDatagrams(some, { host: '::1', port: server.port });
  await server.waitFor(5);
  expect(server.received.map((b) => b.toString('hex'))).toEqual(some.map((d) => d.payload.toString('hex')));
});

test('TCP: the IPFIX messages arrive over one connection as the original byte stream', async () => {
  expect(tcpDatagrams.every((d) => d.transport === 'tcp')).toBe(true);
  const server = await tcpServer();
  const result = await sendDatagrams(tcpDatagrams, { host: '127.0.0.1', port: server.port });
  expect(result).toEqual({ sent: tcpDatagrams.length, tcpMessages: tcpDatagrams.length });
  expect((await server.received).equals(tcpStream)).toBe(true);
  expect(server.connections()).toBe(1);
});

test('UDP and TCP datagrams in one list go to the same port number over both transports', async () => {
  const tcp = await tcpServer();
  const udp = await udpServer('127.0.0.1', tcp.port);
  const udpPart = udpDatagrams.slice(0, 8);
  const mixed: CapturedDatagram[] = [...udpPart.slice(0, 4), ...tcpDatagrams, ...udpPart.slice(4)];
  const result = await sendDatagrams(mixed, { host: '127.0.0.1', port: tcp.port });
  expect(result).toEqual({ sent: mixed.length, tcpMessages: tcpDatagrams.length });
  expect((await tcp.received).equals(tcpStream)).toBe(true);
  await udp.waitFor(8);
  expect(udp.received.map((b) => b.toString('hex'))).toEqual(udpPart.map((d) => d.payload.toString('hex')));
});

test('--rate paces the datagrams', async () => {
  const server = await udpServer();
  const started = performance.now();
  await sendDatagrams(udpDatagrams.slice(0, 11), { host: '127.0.0.1', port: server.port, rate: 100 });
  const elapsed = performance.now() - started;
  // 11 datagrams at 100/s: the last one is due 100 ms after the first.
  expect(elapsed).toBeGreaterThanOrEqual(95);
  await server.waitFor(11);
  expect(server.received).toHaveLength(11);
});

test('an abort signal stops the replay and rejects', async () => {
  const server = await udpServer();
  const controller = new AbortController();
  const promise = sendDatagrams(udpDatagrams, {
    host: '127.0.0.1',
    port: server.port,
    rate: 200,
    signal: controller.signal,
    onProgress: (sent) => {
      if (sent === 3) controller.abort();
    },
  });
  await expect(promise).rejects.toThrow(/abort/i);
  await new Promise((r) => setTimeout(r, 50));
  expect(server.received).toHaveLength(3);
});

test('invalid options and a refused TCP connection reject instead of throwing', async () => {
  await expect(sendDatagrams(udpDatagrams, { host: '127.0.0.1', port: 0 })).rejects.toThrow(RangeError);
  await expect(sendDatagrams(udpDatagrams, { host: '127.0.0.1', port: 70000 })).rejects.toThrow(RangeError);
  await expect(sendDatagrams(udpDatagrams, { host: '127.0.0.1', port: 4739, rate: 0 })).rejects.toThrow(
    RangeError,
  );
  const closedServer = net.createServer();
  closedServer.listen(0, '127.0.0.1');
  await once(closedServer, 'listening');
  const address = closedServer.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((r) => closedServer.close(r));
  await expect(sendDatagrams(tcpDatagrams, { host: '127.0.0.1', port })).rejects.toThrow(/ECONNREFUSED/);
});

test('an empty list sends nothing and opens nothing', async () => {
  expect(await sendDatagrams([], { host: '127.0.0.1', port: 9 })).toEqual({ sent: 0, tcpMessages: 0 });
});

test('--source: datagrams leave from the given local address (two exporters on loopback)', async () => {
  const socket = dgram.createSocket('udp4');
  const senders: string[] = [];
  socket.on('message', (_msg, rinfo) => senders.push(rinfo.address));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  cleanups.push(() => socket.close());
  const port = socket.address().port;
  const some = udpDatagrams.slice(0, 3);
  await sendDatagrams(some, { host: '127.0.0.1', port, source: '127.0.0.2' });
  await sendDatagrams(some, { host: '127.0.0.1', port, source: '127.0.0.3' });
  const deadline = Date.now() + 5000;
  while (senders.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(senders).toEqual([...some.map(() => '127.0.0.2'), ...some.map(() => '127.0.0.3')]);
});

test('--source that is no local address rejects with what went wrong', async () => {
  const receiver = await udpServer();
  await expect(
    sendDatagrams(udpDatagrams.slice(0, 1), { host: '127.0.0.1', port: receiver.port, source: '192.0.2.1' }),
  ).rejects.toThrow(/cannot send from 192\.0\.2\.1: .*EADDRNOTAVAIL/);
});

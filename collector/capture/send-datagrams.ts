// Replays export datagrams to a collector (`tunnelflow replay`): UDP payloads over one UDP
// socket, IPFIX-over-TCP messages over one TCP connection, each sent unchanged and in order.

import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';

import type { CapturedDatagram } from './captured-datagram.js';

export interface SendDatagramsOptions {
  readonly host: string;
  readonly port: number;
  /** Datagrams per second; default: as fast as the sockets allow, yielding to the event loop. */
  readonly rate?: number;
  /**
   * Local address to send from (the exporter address the collector sees): e.g. 127.0.0.2
   * to replay two captures on loopback as two exporters. Default: the system's choice.
   */
  readonly source?: string;
  readonly onProgress?: (sent: number, total: number) => void;
  /** Aborting stops the replay; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface SendDatagramsResult {
  /** Datagrams sent, UDP and TCP together. */
  readonly sent: number;
  /** Of those, IPFIX messages written to the TCP connection. */
  readonly tcpMessages: number;
}

/** Without a rate, the loop still yields this often so timers, signals and I/O get their turn. */
const YIELD_EVERY = 64;
/** After the last message, how long the TCP connection may take to close before it is dropped. */
const TCP_CLOSE_TIMEOUT_MS = 5000;

/**
 * Sends `datagrams` to host:port. Rejects on invalid options, on a connection failure and on
 * abort; sockets are closed in every case.
 */
export async function sendDatagrams(
  datagrams: readonly CapturedDatagram[],
  opts: SendDatagramsOptions,
): Promise<SendDatagramsResult> {
  const { port, rate, signal, onProgress } = opts;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`port must be an integer from 1 to 65535, got ${port}`);
  }
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) {
    throw new RangeError(`rate must be a positive number of datagrams per second, got ${rate}`);
  }
  signal?.throwIfAborted();
  const { address, family } = await lookup(opts.host);

  let udp: UdpSender | null = null;
  let tcp: TcpSender | null = null;
  let sent = 0;
  let tcpMessages = 0;
  const started = performance.now();
  try {
    for (const datagram of datagrams) {
      signal?.throwIfAborted();
      if (rate !== undefined) {
        // Pace against the start time, not the previous send, so slow sends do not add up to drift.
        const wait = started + (sent * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait, undefined, signal === undefined ? {} : { signal });
      } else if (sent % YIELD_EVERY === YIELD_EVERY - 1) {
        await yieldToLoop();
      }
      if (datagram.transport === 'udp') {
        udp ??= await UdpSender.open(family === 6 ? 'udp6' : 'udp4', opts.source);
        await udp.send(datagram.payload, port, address);
      } else {
        tcp ??= await TcpSender.connect(address, port, signal, opts.source);
        await tcp.write(datagram.payload);
        tcpMessages++;
      }
      sent++;
      onProgress?.(sent, datagrams.length);
    }
    if (tcp !== null) await tcp.finish();
  } finally {
    udp?.close();
    tcp?.destroy();
  }
  return { sent, tcpMessages };
}

class UdpSender {
  private readonly socket: dgram.Socket;
  private failure: Error | null = null;

  private constructor(type: 'udp4' | 'udp6') {
    this.socket = dgram.createSocket(type);
    // Without a listener an asynchronous socket error would crash the process.
    this.socket.on('error', (err) => {
      this.failure = err;
    });
  }

  /** A socket, bound to `source` when given (a bind failure rejects: no such local address). */
  static async open(type: 'udp4' | 'udp6', source: string | undefined): Promise<UdpSender> {
    const sender = new UdpSender(type);
    if (source === undefined) return sender;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        sender.socket.close();
        reject(new Error(`cannot send from ${source}: ${err.message}`));
      };
      sender.socket.once('error', onError);
      sender.socket.bind({ address: source, port: 0 }, () => {
        sender.socket.off('error', onError);
        resolve();
      });
    });
    return sender;
  }

  send(payload: Buffer, port: number, address: string): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.socket.send(payload, port, address, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.socket.close();
  }
}

class TcpSender {
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('error', (err) => {
      this.failure = err;
    });
  }

  static connect(
    host: string,
    port: number,
    signal: AbortSignal | undefined,
    source?: string,
  ): Promise<TcpSender> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host,
        port,
        ...(signal === undefined ? {} : { signal }),
        ...(source === undefined ? {} : { localAddress: source }),
      });
      const onError = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new TcpSender(socket));
      });
    });
  }

  /** Writes one message; waits for the socket to drain when its buffer is full (backpressure). */
  write(payload: Buffer): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    // A closed socket would neither take the data nor ever emit 'drain'.
    if (this.socket.destroyed) return Promise.reject(new Error('the collector closed the TCP connection'));
    if (this.socket.write(payload)) return Promise.resolve();
    return this.until('drain');
  }

  /** Sends FIN after the last message and waits for the connection to close. */
  async finish(): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (this.socket.destroyed) return;
    this.socket.end();
    // The collector normally closes its side in turn; one that keeps it open is not waited for
    // forever, the data was handed over to the kernel already.
    await Promise.race([this.until('close'), sleep(TCP_CLOSE_TIMEOUT_MS, undefined, { ref: false })]);
    if (this.failure !== null) throw this.failure;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private until(event: 'drain' | 'close'): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.socket.off('error', fail);
        this.socket.off('close', done);
        this.socket.off(event, done);
        resolve();
      };
      const fail = (err: Error): void => {
        this.socket.off(event, done);
        this.socket.off('close', done);
        reject(err);
      };
      this.socket.once(event, done);
      // A connection that closes while a write waits for 'drain' ends the wait too; the next write fails.
      if (event !== 'close') this.socket.once('close', done);
      this.socket.once('error', fail);
    });
  }
}

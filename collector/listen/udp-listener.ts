import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { canonicalPeerAddress } from './peer-address.js';

export type DatagramHandler = (
  payload: Buffer,
  exporter: string,
  receivedMs: number,
  transport: 'udp' | 'tcp',
) => void;

export interface UdpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly receiveBufferBytes: number;
  readonly name: string;
  /** False drops the datagram before the handler sees it (the exporter allowlist). */
  readonly admit?: (source: string, nowMs: number) => boolean;
}

export interface UdpListener {
  start(): Promise<{ address: string; port: number; receiveBufferBytes: number }>;
  stop(): Promise<void>;
}

/**
 * One UDP socket handing every datagram, with the exporter's address and the receive
 * time, to the pipeline. The handler runs synchronously: the pipeline decides what to
 * keep, so nothing is queued here.
 */
export function createUdpListener(
  opts: UdpListenerOptions,
  onDatagram: DatagramHandler,
  log: Logger,
): UdpListener {
  const socket = dgram.createSocket({
    type: isIPv6(opts.host) ? 'udp6' : 'udp4',
    reuseAddr: false,
    recvBufferSize: opts.receiveBufferBytes,
  });
  const admit = opts.admit;
  socket.on('message', (msg, rinfo) => {
    const source = canonicalPeerAddress(rinfo.address);
    const now = Date.now();
    if (admit === undefined || admit(source, now)) onDatagram(msg, source, now, 'udp');
  });

  return {
    start: () =>
      new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        socket.once('error', onError);
        socket.bind(opts.port, opts.host, () => {
          socket.off('error', onError);
          socket.on('error', (err) => log.error({ err, listener: opts.name }, 'udp socket error'));
          const got = socket.getRecvBufferSize();
          // Linux reports twice the size it grants (socket(7)); anything below what was asked
          // means net.core.rmem_max capped it and bursts may be dropped by the kernel.
          const granted = process.platform === 'linux' ? Math.floor(got / 2) : got;
          if (granted < opts.receiveBufferBytes) {
            log.warn(
              { listener: opts.name, askedBytes: opts.receiveBufferBytes, grantedBytes: granted },
              'kernel capped the udp receive buffer; raise net.core.rmem_max to avoid drops in bursts',
            );
          }
          const addr = socket.address();
          resolve({ address: addr.address, port: addr.port, receiveBufferBytes: granted });
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve();
        }
      }),
  };
}

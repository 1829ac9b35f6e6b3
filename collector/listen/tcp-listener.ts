import net from 'node:net';
import type { Logger } from 'pino';
import { IpfixTcpFramer } from '../capture/ipfix-tcp-framer.js';
import { canonicalPeerAddress } from './peer-address.js';
import type { DatagramHandler } from './udp-listener.js';

export interface TcpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  /** Called when a connection's stream breaks (bad length or version), before it is closed. */
  readonly onStreamError?: (exporter: string, reason: string) => void;
  /** False closes a new connection at once, before anything is read (the exporter allowlist). */
  readonly admit?: (source: string, nowMs: number) => boolean;
}

export interface TcpListener {
  start(): Promise<{ address: string; port: number }>;
  stop(): Promise<void>;
  connections(): number;
}

/**
 * IPFIX over TCP (RFC 7011 §10.4): each connection is one exporter's stream of messages
 * framed by their own length field. Many exporters may connect to the one port; a broken
 * stream closes only its own connection, since resynchronising on a byte stream would
 * mean guessing where the next message starts.
 */
export function createTcpListener(
  opts: TcpListenerOptions,
  onMessage: DatagramHandler,
  log: Logger,
): TcpListener {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const exporter = canonicalPeerAddress(socket.remoteAddress ?? 'unknown');
    if (opts.admit !== undefined && !opts.admit(exporter, Date.now())) {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    const framer = new IpfixTcpFramer();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const { messages, error } = framer.push(chunk);
      const now = Date.now();
      for (const m of messages) onMessage(m, exporter, now, 'tcp');
      if (error !== null) {
        opts.onStreamError?.(exporter, error);
        log.warn(
          { listener: opts.name, exporter, reason: error },
          'ipfix tcp stream broken; closing connection',
        );
        socket.destroy();
      }
    });
    socket.on('error', (err) =>
      log.debug({ listener: opts.name, exporter, err: err.message }, 'tcp connection error'),
    );
    socket.on('close', () => sockets.delete(socket));
  });

  return {
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          server.on('error', (err) => log.error({ err, listener: opts.name }, 'tcp server error'));
          const addr = server.address() as net.AddressInfo;
          resolve({ address: addr.address, port: addr.port });
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        // Let exporters' last messages already read be handled; then end the connections.
        for (const s of sockets) s.end();
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 1000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    connections: () => sockets.size,
  };
}

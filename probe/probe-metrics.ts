// The probe's Prometheus endpoint (`--metrics HOST:PORT`): packets seen, ESP packets, SAs
// active, records exported and capture drops, read from the live counters at scrape time.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';

export interface ProbeMetricsSource {
  packets(): number;
  espPackets(): number;
  nattEspPackets(): number;
  sasActive(): number;
  recordsExported(): number;
  captureDrops(): number;
  sequenceLost(): number;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

function counter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      // A counter set from the source: reset then add keeps it monotonic as the source is.
      this.reset();
      this.inc(read());
    },
  });
}

export function probeRegistry(source: ProbeMetricsSource): Registry {
  const registry = new Registry();
  counter(registry, 'tunnelflow_probe_packets_total', 'Packets the probe read', () => source.packets());
  counter(registry, 'tunnelflow_probe_esp_packets_total', 'ESP packets (IP protocol 50)', () =>
    source.espPackets(),
  );
  counter(registry, 'tunnelflow_probe_natt_esp_packets_total', 'ESP packets in UDP (RFC 3948)', () =>
    source.nattEspPackets(),
  );
  counter(registry, 'tunnelflow_probe_records_exported_total', 'IPFIX flow records exported', () =>
    source.recordsExported(),
  );
  counter(registry, 'tunnelflow_probe_capture_drops_total', 'Packets the capture dropped (kernel)', () =>
    source.captureDrops(),
  );
  counter(
    registry,
    'tunnelflow_probe_esp_lost_total',
    'ESP sequence numbers that left the window unseen',
    () => source.sequenceLost(),
  );
  new Gauge({
    name: 'tunnelflow_probe_sas_active',
    help: 'SAs with an open flow',
    registers: [registry],
    collect() {
      this.set(source.sasActive());
    },
  });
  return registry;
}

/** Serves `GET /metrics` on host:port (port 0: any free port). */
export async function startMetricsServer(
  host: string,
  port: number,
  source: ProbeMetricsSource,
): Promise<MetricsServer> {
  const registry = probeRegistry(source);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
      .catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// `tunnelflow probe`: capture (a file, or tcpdump live) → packet pipeline → flow meter →
// IPFIX exporter, with progress on stderr and, optionally, a Prometheus endpoint.

import { createReadStream } from 'node:fs';
import { FlowMeter } from './flow-meter.js';
import type { ProbeRecord } from './flow-meter.js';
import { IpfixExporter } from './ipfix-exporter.js';
import type { ExportTransport } from './ipfix-exporter.js';
import { CaptureUnavailable, LiveCapture } from './live-capture.js';
import type { CaptureStats } from './live-capture.js';
import { PacketPipeline } from './packet-pipeline.js';
import { startMetricsServer } from './probe-metrics.js';
import type { MetricsServer } from './probe-metrics.js';

export { CaptureUnavailable } from './live-capture.js';

export interface ProbeOptions {
  readonly pcap?: string;
  readonly interface?: string;
  readonly filter?: string;
  readonly exportHost: string;
  readonly exportPort: number;
  readonly transport: ExportTransport;
  readonly observationDomainId: number;
  readonly activeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly windowSize: number;
  readonly meterOther: boolean;
  readonly metrics?: { readonly host: string; readonly port: number };
  readonly tcpdump?: string;
  /** Progress lines (stderr); every `progressMs` and once at the end. */
  readonly log: (line: string) => void;
  readonly progressMs?: number;
  /** Live capture stops when this aborts (SIGINT / SIGTERM). */
  readonly signal?: AbortSignal;
  /** Called once the metrics endpoint listens (tests read the port). */
  readonly onMetrics?: (server: MetricsServer) => void;
  /** Called once live capture listens. */
  readonly onListening?: () => void;
}

export interface ProbeSummary {
  readonly packets: number;
  readonly espPackets: number;
  readonly nattEspPackets: number;
  readonly sas: number;
  readonly records: number;
  readonly saRecords: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly fragments: number;
  readonly captureDrops: number;
  readonly messages: number;
  readonly captureIssues: readonly string[];
}

export async function runProbe(o: ProbeOptions): Promise<ProbeSummary> {
  if ((o.pcap === undefined) === (o.interface === undefined)) {
    throw new Error('give exactly one of --pcap FILE and --interface IF');
  }
  const live = o.interface !== undefined;
  let meter: FlowMeter | null = null;
  const exporter = new IpfixExporter({
    host: o.exportHost,
    port: o.exportPort,
    transport: o.transport,
    observationDomainId: o.observationDomainId,
    clock: () => (live || meter === null || meter.nowMs === 0 ? Date.now() : meter.nowMs),
  });
  const totals = { lost: 0, duplicates: 0, outOfOrder: 0 };
  const onRecord = (r: ProbeRecord): void => {
    if (r.type === 'sa') {
      totals.lost += r.lost;
      totals.duplicates += r.duplicates;
      totals.outOfOrder += r.outOfOrder;
    }
    exporter.add(r);
  };
  meter = new FlowMeter(
    {
      activeTimeoutMs: o.activeTimeoutMs,
      idleTimeoutMs: o.idleTimeoutMs,
      windowSize: o.windowSize,
      meterOther: o.meterOther,
    },
    onRecord,
  );
  const m = meter;
  const pipeline = new PacketPipeline(m);
  const stats: CaptureStats = { captured: 0, receivedByFilter: 0, droppedByKernel: 0 };
  await exporter.open();
  let metrics: MetricsServer | null = null;
  if (o.metrics !== undefined) {
    metrics = await startMetricsServer(o.metrics.host, o.metrics.port, {
      packets: () => m.counters.packets,
      espPackets: () => m.counters.espPackets,
      nattEspPackets: () => m.counters.nattEspPackets,
      sasActive: () => m.activeSas(),
      recordsExported: () => exporter.counters.records,
      captureDrops: () => stats.droppedByKernel,
      sequenceLost: () => totals.lost,
    });
    o.onMetrics?.(metrics);
  }
  const progress = (final: boolean): void => {
    const c = m.counters;
    o.log(
      `probe${final ? ' done' : ''}: packets=${c.packets} esp=${c.espPackets} natt_esp=${c.nattEspPackets}` +
        ` ike=${c.ikePackets + c.nattIkePackets} keepalives=${c.nattKeepalives}` +
        ` fragments=${pipeline.counters.fragments} sas_active=${m.activeSas()} records=${exporter.counters.records}` +
        ` lost=${totals.lost} duplicates=${totals.duplicates} out_of_order=${totals.outOfOrder}` +
        (live ? ` capture_drops=${stats.droppedByKernel}` : ''),
    );
  };
  const progressMs = o.progressMs ?? 5000;
  let timer: NodeJS.Timeout | null = null;
  try {
    if (!live) {
      let lastProgress = Date.now();
      for await (const chunk of createReadStream(o.pcap as string, { highWaterMark: 1 << 20 })) {
        pipeline.push(chunk as Buffer);
        await exporter.drain();
        if (Date.now() - lastProgress >= progressMs) {
          lastProgress = Date.now();
          progress(false);
        }
      }
      pipeline.end();
    } else {
      const capture = new LiveCapture({
        interface: o.interface as string,
        ...(o.filter !== undefined ? { filter: o.filter } : {}),
        ...(o.tcpdump !== undefined ? { tcpdump: o.tcpdump } : {}),
        onData: (chunk) => pipeline.push(chunk),
      });
      await capture.start();
      o.onListening?.();
      let lastDrops = 0;
      const tick = (): void => {
        m.sweep(Date.now());
        Object.assign(stats, capture.stats);
        if (stats.droppedByKernel !== lastDrops) {
          o.log(`probe: capture dropped ${stats.droppedByKernel - lastDrops} packets (kernel)`);
          lastDrops = stats.droppedByKernel;
          // Exported as it changes (and once more at the end), so a collector sees it live.
          exporter.addCaptureStats(stats.droppedByKernel);
        }
        capture.requestStats();
        exporter.drain().catch(() => undefined);
      };
      let lastProgress = Date.now();
      timer = setInterval(() => {
        tick();
        if (Date.now() - lastProgress >= progressMs) {
          lastProgress = Date.now();
          progress(false);
        }
      }, 1000);
      await new Promise<void>((resolve) => {
        if (o.signal?.aborted) resolve();
        o.signal?.addEventListener('abort', () => resolve(), { once: true });
        void capture.exited().then(() => resolve());
      });
      await capture.stop();
      pipeline.end();
      Object.assign(stats, capture.stats);
    }
    m.flush();
    exporter.addCaptureStats(stats.droppedByKernel);
    await exporter.flush();
    progress(true);
    if (pipeline.issues.length > 0) o.log(`probe: capture issues: ${pipeline.issues.slice(0, 5).join('; ')}`);
    return {
      packets: m.counters.packets,
      espPackets: m.counters.espPackets,
      nattEspPackets: m.counters.nattEspPackets,
      sas: m.counters.sasCreated,
      records: exporter.counters.records,
      saRecords: m.counters.saRecords,
      lost: totals.lost,
      duplicates: totals.duplicates,
      outOfOrder: totals.outOfOrder,
      fragments: pipeline.counters.fragments,
      captureDrops: stats.droppedByKernel,
      messages: exporter.counters.messages,
      captureIssues: pipeline.issues,
    };
  } finally {
    if (timer !== null) clearInterval(timer);
    await exporter.close().catch(() => undefined);
    await metrics?.close();
  }
}

export function isCaptureUnavailable(err: unknown): err is CaptureUnavailable {
  return err instanceof CaptureUnavailable;
}

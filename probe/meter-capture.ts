// A whole capture held in memory, metered and encoded at once, without sockets: the same
// pipeline, meter and IPFIX messages as `tunnelflow probe --pcap`, for callers that want the
// probe's export as bytes (the README's tables are built from it).

import { FlowMeter } from './flow-meter.js';
import type { FlowMeterOptions, ProbeRecord } from './flow-meter.js';
import { IpfixExporter } from './ipfix-exporter.js';
import { PacketPipeline } from './packet-pipeline.js';

export interface MeteredCapture {
  readonly records: readonly ProbeRecord[];
  /** The IPFIX messages the probe would have sent, in order. */
  readonly messages: readonly Buffer[];
}

export function meterCapture(
  bytes: Buffer,
  options: FlowMeterOptions,
  observationDomainId = 1,
): MeteredCapture {
  const records: ProbeRecord[] = [];
  let meter: FlowMeter | null = null;
  const exporter = new IpfixExporter({
    host: '127.0.0.1',
    port: 0,
    transport: 'udp',
    observationDomainId,
    clock: () => meter?.nowMs ?? 0,
  });
  meter = new FlowMeter(options, (r) => {
    records.push(r);
    exporter.add(r);
  });
  const pipeline = new PacketPipeline(meter);
  pipeline.push(bytes);
  pipeline.end();
  meter.flush();
  exporter.addCaptureStats(0);
  return { records, messages: exporter.takeMessages() };
}

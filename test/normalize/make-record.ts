import type { FlowRecord } from '../../model/flow.js';

/** A FlowRecord with plain defaults (an unsampled IPFIX ESP flow of one minute); override what a test needs. */
export function makeRecord(overrides: Partial<FlowRecord> = {}): FlowRecord {
  const startMs = overrides.startMs ?? 1_710_234_000_000;
  const base: FlowRecord = {
    exporter: '192.0.2.254',
    domainId: 0,
    version: 10,
    receivedMs: startMs + 60_000,
    startMs,
    endMs: startMs + 59_999,
    ipVersion: 4,
    src: '192.0.2.10',
    dst: '198.51.100.20',
    proto: 50,
    srcPort: 0,
    dstPort: 0,
    spi: null,
    packets: 100,
    octets: 14_000,
    rawPackets: 100,
    rawOctets: 14_000,
    samplingRate: 1,
    tcpFlags: null,
    tos: null,
    icmpType: null,
    icmpCode: null,
    fragmentId: null,
    fragmentOffset: null,
    fragmentFlags: null,
    inIf: null,
    outIf: null,
    flowDirection: null,
    reportedLoss: null,
    espSeqFirst: null,
    espSeqLast: null,
    templateId: 256,
  };
  const merged = { ...base, ...overrides };
  return {
    ...merged,
    rawPackets: overrides.rawPackets ?? merged.packets,
    rawOctets: overrides.rawOctets ?? merged.octets,
  };
}

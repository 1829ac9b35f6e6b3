import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FlowKind, NormalizedFlow, TunnelDirection } from '../../model/flow.js';
import type { ReferenceRecord } from '../produce/corpus-exports.js';

/**
 * Real flow records for store tests: the tshark reference decodes of the corpus exports
 * (test/fixtures/corpus/reference, see its PROVENANCE.md), turned into NormalizedFlow.
 * Kinds and tunnels come from the scenario's ground truth (test/fixtures/corpus/truth)
 * by a deliberately simple rule set, standing in for collector/normalize: the store
 * tests need realistic rows, not the normalizer's judgement.
 */

interface TruthTunnel {
  readonly peer_a: string;
  readonly peer_b: string;
  readonly encapsulation: string;
}

const fixtures = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));

export function readReferenceRecords(scenario: string, exporter: string): ReferenceRecord[] {
  const file = `${fixtures}reference/${scenario}/${exporter}.tshark.json`;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { records: ReferenceRecord[] };
  return parsed.records.filter((r) => r.record_type === 'data' && r.srcAddr !== undefined);
}

function readTunnels(scenario: string): TruthTunnel[] {
  const file = `${fixtures}truth/${scenario}.truth.json`;
  return (JSON.parse(readFileSync(file, 'utf8')) as { tunnels: TruthTunnel[] }).tunnels;
}

/**
 * The data records of one reference decode as NormalizedFlow. `exporterAddress` stands
 * for the exporter (the captures all show 127.0.0.1).
 */
export function corpusFlows(
  scenario: string,
  exporter: string,
  options: { exporterAddress?: string; receivedMs?: number } = {},
): NormalizedFlow[] {
  const tunnels = readTunnels(scenario);
  return readReferenceRecords(scenario, exporter).map((r) => {
    const src = r.srcAddr!;
    const dst = r.dstAddr!;
    const proto = r.proto ?? 0;
    const tunnel = tunnels.find(
      (t) => (t.peer_a === src && t.peer_b === dst) || (t.peer_a === dst && t.peer_b === src),
    );
    const ports = new Set([r.srcPort, r.dstPort]);
    let kind: FlowKind = 'other';
    if (tunnel !== undefined) {
      if (proto === 50) kind = 'esp';
      else if (proto === 17 && ports.has(500)) kind = 'ike';
      else if (proto === 17 && tunnel.encapsulation.startsWith('esp-in-udp')) kind = 'esp-in-udp';
      else kind = 'cleartext-leak';
    } else if ((proto === 1 && r.icmpType === 3 && r.icmpCode === 4) || (proto === 58 && r.icmpType === 2)) {
      kind = 'icmp-frag-needed';
    }
    const encapsulation = tunnel?.encapsulation.startsWith('esp-in-udp') ? 'esp-in-udp' : 'esp';
    const tunnelId = tunnel === undefined ? null : `${tunnel.peer_a}_${tunnel.peer_b}_${encapsulation}`;
    const direction: TunnelDirection | null =
      tunnel === undefined ? null : tunnel.peer_a === src ? 'a-b' : 'b-a';
    const icmp = proto === 1 || proto === 58;
    const hasPorts = proto === 6 || proto === 17;
    return {
      exporter: options.exporterAddress ?? '127.0.0.1',
      domainId: r.domain_id ?? 0,
      version: (r.version ?? 10) as 5 | 9 | 10,
      receivedMs: options.receivedMs ?? Math.round(r.endMs ?? 0) + 1000,
      startMs: Math.round(r.startMs ?? 0),
      endMs: Math.round(r.endMs ?? 0),
      ipVersion: r.ipVersion === 6 ? 6 : 4,
      src,
      dst,
      proto,
      srcPort: hasPorts ? (r.srcPort ?? null) : null,
      dstPort: hasPorts ? (r.dstPort ?? null) : null,
      spi: null,
      packets: r.packets ?? 0,
      octets: r.octets ?? 0,
      rawPackets: r.packets ?? 0,
      rawOctets: r.octets ?? 0,
      samplingRate: 1,
      tcpFlags: proto === 6 ? (r.tcpFlags ?? null) : null,
      tos: r.tos ?? null,
      icmpType: icmp ? (r.icmpType ?? null) : null,
      icmpCode: icmp ? (r.icmpCode ?? null) : null,
      fragmentId: null,
      fragmentOffset: null,
      fragmentFlags: null,
      inIf: r.ingressInterface ?? null,
      outIf: r.egressInterface ?? null,
      flowDirection: r.direction ?? null,
      reportedLoss: null,
      espSeqFirst: null,
      espSeqLast: null,
      templateId: r.template_id ?? null,
      kind,
      tunnelId,
      saId: tunnelId === null ? null : `${src}_${dst}_nospi_g1`,
      tunnelDirection: direction,
      validatedLoss: null,
      lossClearedReason: null,
    };
  });
}

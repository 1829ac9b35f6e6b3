import type { FlowRecord } from '../../model/flow.js';
import { truthEncapsulation } from './truth.js';
import type { Truth, TruthTunnel } from './truth.js';

/**
 * FlowRecords an ideal exporter with minute-aligned export intervals would send, built
 * from a truth file's per-minute counters: per tunnel direction and minute, one record of
 * the ESP-carrying flow and one of IKE on UDP 500, each spanning [minute, minute + 59.999 s].
 * No record straddles a minute, so every bucket must equal the truth exactly.
 */
export function minuteRecordsFromTruth(truth: Truth, exporter = '192.0.2.254', domainId = 0): FlowRecord[] {
  const out: FlowRecord[] = [];
  for (const t of truth.tunnels) {
    const natt = truthEncapsulation(t) === 'esp-in-udp';
    for (const truthDir of ['a_to_b', 'b_to_a'] as const) {
      const dir = t.directions[truthDir];
      const ike500 = natt
        ? ike500PerMinute(truth, t, truthDir)
        : new Map<number, { packets: number; bytes: number }>();
      // Keepalives are counted per minute but their bytes only in total (all the same size).
      const keepaliveBytes =
        dir.totals.natt_keepalives > 0
          ? (dir.totals.natt_keepalive_bytes ?? 0) / dir.totals.natt_keepalives
          : 0;
      for (const m of dir.per_minute) {
        const ikeHere = ike500.get(m.minute_ms) ?? { packets: 0, bytes: 0 };
        const base = {
          exporter,
          domainId,
          start: m.minute_ms,
          src: dir.src,
          dst: dir.dst,
          ipVersion: t.ip_version,
        };
        if (natt) {
          // The 4500 flow carries ESP, IKE on 4500 and keepalives (IKE on 500 is its own flow).
          const packets = m.ip_packets + m.natt_keepalives + (m.ike_packets - ikeHere.packets);
          const octets = m.ip_bytes + keepaliveBytes * m.natt_keepalives + (m.ike_bytes - ikeHere.bytes);
          const [sp, dp] = nattPorts(t, truthDir);
          if (packets > 0)
            out.push(record({ ...base, proto: 17, srcPort: sp, dstPort: dp, packets, octets }));
          if (ikeHere.packets > 0) {
            const [isp, idp] = ikePorts(t, truthDir);
            out.push(
              record({
                ...base,
                proto: 17,
                srcPort: isp,
                dstPort: idp,
                packets: ikeHere.packets,
                octets: ikeHere.bytes,
              }),
            );
          }
        } else {
          if (m.ip_packets > 0)
            out.push(
              record({
                ...base,
                proto: 50,
                srcPort: 0,
                dstPort: 0,
                packets: m.ip_packets,
                octets: m.ip_bytes,
              }),
            );
          if (m.ike_packets > 0)
            out.push(
              record({
                ...base,
                proto: 17,
                srcPort: 500,
                dstPort: 500,
                packets: m.ike_packets,
                octets: m.ike_bytes,
              }),
            );
        }
      }
    }
  }
  return out;
}

/** IKE-on-500 packets per minute, from the truth's 5-tuple flows (each must fit in one minute). */
export function ike500PerMinute(
  truth: Truth,
  t: TruthTunnel,
  truthDir: 'a_to_b' | 'b_to_a',
): Map<number, { packets: number; bytes: number }> {
  const out = new Map<number, { packets: number; bytes: number }>();
  for (const f of truth.flows) {
    if (f.tunnel !== t.id || f.dir !== truthDir || f.proto !== 17 || (f.sport !== 500 && f.dport !== 500))
      continue;
    const m = Math.floor(f.first_ms / 60_000) * 60_000;
    if (Math.floor(f.last_ms / 60_000) * 60_000 !== m) throw new Error(`IKE flow of ${t.id} spans minutes`);
    const e = out.get(m) ?? { packets: 0, bytes: 0 };
    out.set(m, { packets: e.packets + f.packets, bytes: e.bytes + f.bytes });
  }
  return out;
}

function nattPorts(t: TruthTunnel, truthDir: 'a_to_b' | 'b_to_a'): [number, number] {
  const n = (t.natt ?? {}) as Record<string, number>;
  const a = n.a_port_4500 ?? 4500;
  const b = n.b_port_4500 ?? 4500;
  return truthDir === 'a_to_b' ? [a, b] : [b, a];
}

function ikePorts(t: TruthTunnel, truthDir: 'a_to_b' | 'b_to_a'): [number, number] {
  const n = (t.natt ?? {}) as Record<string, number>;
  const a = n.a_port_500 ?? 500;
  const b = n.b_port_500 ?? 500;
  return truthDir === 'a_to_b' ? [a, b] : [b, a];
}

function record(r: {
  exporter: string;
  domainId: number;
  start: number;
  src: string;
  dst: string;
  ipVersion: 4 | 6;
  proto: number;
  srcPort: number;
  dstPort: number;
  packets: number;
  octets: number;
}): FlowRecord {
  return {
    exporter: r.exporter,
    domainId: r.domainId,
    version: 10,
    receivedMs: r.start + 60_000,
    startMs: r.start,
    endMs: r.start + 59_999,
    ipVersion: r.ipVersion,
    src: r.src,
    dst: r.dst,
    proto: r.proto,
    srcPort: r.srcPort,
    dstPort: r.dstPort,
    spi: null,
    packets: r.packets,
    octets: r.octets,
    rawPackets: r.packets,
    rawOctets: r.octets,
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
}

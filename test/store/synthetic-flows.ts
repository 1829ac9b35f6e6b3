import type { FlowKind, NormalizedFlow } from '../../model/flow.js';

/**
 * Deterministic synthetic flows for benchmarks and volume tests: a realistic mix of
 * kinds and address reuse (a few hundred peers, thousands of hosts), not real data.
 * Real-data tests use the corpus fixtures instead (test/store/corpus-flows.ts).
 */
export function syntheticFlows(
  count: number,
  options: {
    startMs?: number;
    receivedMs?: number;
    seed?: number;
    tunnels?: number;
    tunnelShare?: number;
  } = {},
): NormalizedFlow[] {
  let state = (options.seed ?? 1) >>> 0 || 1;
  const random = (): number => {
    // xorshift32: fast and reproducible.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
  const baseStart = options.startMs ?? Date.UTC(2024, 2, 12, 9, 0, 0);
  const tunnelPairs = options.tunnels ?? 500;
  const tunnelShare = options.tunnelShare ?? 0.05;
  const receivedMs = options.receivedMs ?? Date.now();
  const flows: NormalizedFlow[] = [];
  for (let i = 0; i < count; i += 1) {
    // Tunnel kinds are a small share of an uplink's flows: a tunnel exports a couple of
    // ESP flows per active timeout while the traffic around it is many short flows.
    const roll = random() / tunnelShare;
    const kind: FlowKind =
      roll >= 1
        ? 'other'
        : roll < 0.6
          ? 'esp'
          : roll < 0.75
            ? 'ike'
            : roll < 0.85
              ? 'esp-in-udp'
              : roll < 0.95
                ? 'esp-fragment'
                : 'icmp-frag-needed';
    // Within a datagram the IPv6 records follow the IPv4 ones, in their own template's set.
    const v6 = i % 24 >= 21;
    // Tunnel kinds run between a few hundred gateway pairs; other traffic between many hosts.
    const peer = Math.floor(random() * (kind === 'other' ? 60_000 : tunnelPairs));
    const src = v6
      ? `2001:db8:${(peer >> 8).toString(16)}::${(peer & 255).toString(16)}`
      : `10.${peer >> 16}.${(peer >> 8) & 255}.${peer & 255}`;
    const dst = v6 ? `2001:db8:ff::${(peer % 97).toString(16)}` : `198.51.100.${(peer % 250) + 1}`;
    const proto =
      kind === 'esp' || kind === 'esp-fragment'
        ? 50
        : kind === 'icmp-frag-needed'
          ? v6
            ? 58
            : 1
          : random() < 0.5
            ? 6
            : 17;
    const ported = proto === 6 || proto === 17;
    // Exporters send a flow when it ends, so end times arrive nearly in order while
    // start times spread over the flow durations (up to a 60 s active timeout).
    const endMs = baseStart + Math.floor(i / 10) + Math.floor(random() * 200);
    const startMs = endMs - Math.floor(random() * 60_000);
    const packets = 1 + Math.floor(random() * 5000);
    const tunnelId = kind === 'other' ? null : `t-${src}-${dst}`;
    flows.push({
      // One export datagram carries ~24 records of one exporter and domain.
      exporter: `203.0.113.${1 + (Math.floor(i / 24) % 4)}`,
      domainId: Math.floor(i / 24) % 4,
      version: 10,
      receivedMs,
      startMs,
      endMs,
      ipVersion: v6 ? 6 : 4,
      src,
      dst,
      proto,
      srcPort: ported ? Math.floor(random() * 65536) : null,
      dstPort: ported ? (kind === 'ike' ? 500 : Math.floor(random() * 65536)) : null,
      spi: null,
      packets,
      octets: packets * (60 + Math.floor(random() * 1400)),
      rawPackets: packets,
      rawOctets: packets * 100,
      samplingRate: 1,
      tcpFlags: proto === 6 ? Math.floor(random() * 64) : null,
      tos: 0,
      icmpType: kind === 'icmp-frag-needed' ? 3 : null,
      icmpCode: kind === 'icmp-frag-needed' ? 4 : null,
      fragmentId: null,
      fragmentOffset: null,
      fragmentFlags: null,
      inIf: 1,
      outIf: 2,
      flowDirection: 0,
      reportedLoss: null,
      espSeqFirst: null,
      espSeqLast: null,
      templateId: v6 ? 257 : 256,
      kind,
      tunnelId,
      saId: tunnelId === null ? null : `${tunnelId}-sa`,
      tunnelDirection: tunnelId === null ? null : 'a-b',
      validatedLoss: null,
      lossClearedReason: null,
    });
  }
  return flows;
}

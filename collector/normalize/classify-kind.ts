import type { FlowKind, FlowRecord } from '../../model/flow.js';

/** What a record is before the leak check (which needs the tunnels known so far). */
export type BaseKind = Exclude<FlowKind, 'cleartext-leak'>;

const protoIcmp = 1;
const protoUdp = 17;
const protoEsp = 50;
const protoIcmpv6 = 58;
const protoIpv6Fragment = 44;
const ikePort = 500;
const nattPort = 4500;

/**
 * A NAT keepalive (RFC 3948 §2.3) is one 0xFF byte in UDP: 29 bytes as an IPv4 packet, 49 as
 * an IPv6 one. No ESP-in-UDP packet is that small (SPI, sequence number, IV and ICV alone are 24+).
 */
const keepaliveIpv4Bytes = 29;
const keepaliveIpv6Bytes = 49;

/**
 * The mean gap between the packets of a UDP 4500 record above which the record is read as IKE
 * (and keepalives), not ESP-in-UDP. Evidence (README "How tunnelflow reads IPsec from flow
 * records"): every ESP-in-UDP record of the corpus and of test/fixtures/scenarios, from
 * softflowd and pmacct alike, has a mean gap of at most 3.4 s (pmacct's record across
 * c_natt_v4's idle minutes); IKE on 4500 without ESP (l_natt_ike_fail_v4) has 21-64 s: IKE
 * sends only on exchanges, retransmissions (4 s and more apart) and liveness checks, keepalives
 * every 20 s.
 */
export const nattNonEspMinMeanGapMs = 10_000;

/**
 * IE 197 fragmentFlags (RFC 5102, IANA IPFIX registry): bits are numbered from the most
 * significant, bit 1 = DF, bit 2 = MF. collector/wire names the same bits; this copy keeps the normalizer
 * free of a dependency on the wire stage.
 */
export const fragmentFlagMoreFragments = 0x20;

/** True when the record describes IP fragments: a fragment offset (IE 88) or the MF flag (IE 197). */
export function hasFragmentInfo(record: FlowRecord): boolean {
  return (
    (record.fragmentOffset !== null && record.fragmentOffset > 0) ||
    (record.fragmentFlags !== null && (record.fragmentFlags & fragmentFlagMoreFragments) !== 0)
  );
}

/**
 * ICMP type and code as `type << 8 | code`, or -1. NetFlow v5 (and pmacct's v9) carry them
 * only in the destination port, so that is the fallback when the record has no ICMP fields.
 */
export function icmpTypeCode(record: FlowRecord): number {
  if (record.icmpType !== null) return (record.icmpType << 8) | (record.icmpCode ?? 0);
  if (record.dstPort !== null && record.dstPort > 0) return record.dstPort;
  return -1;
}

/** ICMP "fragmentation needed" (ICMP 3/4) or ICMPv6 "packet too big" (type 2). */
export function isIcmpFragNeeded(record: FlowRecord): boolean {
  if (record.proto === protoIcmp) return icmpTypeCode(record) === 0x0304;
  if (record.proto === protoIcmpv6) return icmpTypeCode(record) >> 8 === 2;
  return false;
}

/**
 * ICMP error messages (unreachable, source quench, redirect, time exceeded, parameter
 * problem; ICMPv6 types 1-4). Between two gateways they are network control traffic about
 * the tunnel's own packets, not user traffic that should have been encrypted.
 */
export function isIcmpError(record: FlowRecord): boolean {
  if (record.proto === protoIcmp) {
    const type = icmpTypeCode(record) >> 8;
    return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
  }
  if (record.proto === protoIcmpv6) {
    const type = icmpTypeCode(record) >> 8;
    return type >= 1 && type <= 4;
  }
  return false;
}

/**
 * The other side of a UDP 4500 flow must look like a NAT-T endpoint: 4500 itself or a port a
 * NAT picks (≥ 1024). A DNS query that happened to leave from port 4500 (to 53) is not ESP.
 */
function isNattPortPair(a: number, b: number): boolean {
  return (a === nattPort && (b === nattPort || b >= 1024)) || (b === nattPort && a >= 1024);
}

/**
 * True when a UDP 4500 record without SPI (an ordinary exporter's) looks like IKE and NAT
 * keepalives rather than ESP-in-UDP: every packet keepalive-sized, or packets so sparse that
 * the record's span per gap is `nattNonEspMinMeanGapMs` or more. A one-packet record counts
 * with its whole span as its gap: softflowd and pmacct give both directions of a biflow the
 * same start and end, so one packet over a long span means this direction was silent for it;
 * one packet with no span says nothing and stays ESP-in-UDP. Sampled records stay ESP too:
 * their packet count is an estimate, so their gaps say nothing.
 */
export function looksLikeNattNonEsp(record: FlowRecord): boolean {
  const packets = record.rawPackets;
  if (packets <= 0) return false;
  const keepalive = record.ipVersion === 6 ? keepaliveIpv6Bytes : keepaliveIpv4Bytes;
  if (record.rawOctets === packets * keepalive) return true;
  if (record.samplingRate > 1) return false;
  const spanMs = record.endMs - record.startMs;
  return spanMs > 0 && spanMs >= nattNonEspMinMeanGapMs * Math.max(1, packets - 1);
}

/**
 * True when the record has the shape softflowd gives non-first IP fragments (it meters each
 * fragment without its transport header): IPv4 UDP with ports 0/0, or IPv6 with next header 44
 * (Fragment) or 0 (softflowd 1.1.0 exports IPv6 fragments with protocol 0). Between the peers
 * of a tunnel such a flow is fragments of the tunnel's ESP (attribute-fragment.ts); elsewhere
 * it stays `other`.
 */
export function isBareFragmentShape(record: FlowRecord): boolean {
  const noPorts = (record.srcPort ?? 0) === 0 && (record.dstPort ?? 0) === 0;
  if (!noPorts) return false;
  if (record.ipVersion === 4) return record.proto === protoUdp;
  return record.proto === protoIpv6Fragment || record.proto === 0;
}

/**
 * Classifies one record from its own fields.
 *
 * - `esp`: IP protocol 50.
 * - `esp-fragment`: protocol 50 (or NAT-T UDP) with fragment information; or protocol 50
 *   without an SPI from an observation point that does export SPIs (non-first fragments carry
 *   no ESP header, so such a probe cannot fill the SPI in). No exporter of the corpus exports
 *   SPI or fragment fields: softflowd and pmacct count every ESP fragment as a packet of the
 *   one proto-50 flow, so for them fragments are indistinguishable from ESP.
 * - `ike`: UDP with port 500 on either side (the other side may be a NAT's port).
 * - `esp-in-udp`: UDP with 4500 on one side and 4500 or a NAT port on the other. An ordinary
 *   flow record cannot see RFC 3948's non-ESP marker, so a 4500 flow carrying ESP counts the IKE
 *   on 4500 (IKE_AUTH, rekeys, DPD) and NAT keepalives mixed into it as ESP-in-UDP. A 4500
 *   record that carries no ESP is told by its sizes and rate (`looksLikeNattNonEsp`): it is
 *   `ike`. A record with SPI 0 on such a flow (`tunnelflow probe` read the marker) is `ike`.
 * - `icmp-frag-needed`: ICMP 3/4 and ICMPv6 2.
 * - `other`: everything else (the leak check may turn it into `cleartext-leak`).
 */
export function classifyBaseKind(record: FlowRecord, observationPointExportsSpi: boolean): BaseKind {
  const proto = record.proto;
  if (proto === protoEsp) {
    if (hasFragmentInfo(record)) return 'esp-fragment';
    if (record.spi === null && observationPointExportsSpi) return 'esp-fragment';
    return 'esp';
  }
  if (proto === protoUdp) {
    const sp = record.srcPort ?? 0;
    const dp = record.dstPort ?? 0;
    if (sp === ikePort || dp === ikePort) return 'ike';
    if (isNattPortPair(sp, dp)) {
      // SPI 0 on the NAT-T port is RFC 3948's non-ESP marker (four zero bytes where ESP has its
      // SPI; RFC 4303 §2.1 reserves SPI 0): a probe that reads the marker exports IKE and
      // NAT-keepalives on 4500 as flows of their own with that zero. They are IKE, not ESP.
      if (record.spi === 0) return 'ike';
      if (hasFragmentInfo(record)) return 'esp-fragment';
      if (record.spi === null && looksLikeNattNonEsp(record)) return 'ike';
      return 'esp-in-udp';
    }
    return 'other';
  }
  if (proto === protoIcmp || proto === protoIcmpv6) {
    return isIcmpFragNeeded(record) ? 'icmp-frag-needed' : 'other';
  }
  return 'other';
}

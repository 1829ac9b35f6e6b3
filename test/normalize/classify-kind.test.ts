import { describe, expect, test } from 'vitest';
import {
  classifyBaseKind,
  isBareFragmentShape,
  isIcmpError,
  looksLikeNattNonEsp,
} from '../../collector/normalize/classify-kind.js';
import type { FlowRecord } from '../../model/flow.js';
import { makeRecord } from './make-record.js';

const udp = (srcPort: number, dstPort: number) => makeRecord({ proto: 17, srcPort, dstPort });
/** A UDP 36013 → 4500 record of `packets` packets, `octets` bytes over `spanMs` (unsampled unless told). */
const natt = (packets: number, octets: number, spanMs: number, extra: Partial<FlowRecord> = {}) =>
  makeRecord({
    proto: 17,
    srcPort: 36013,
    dstPort: 4500,
    packets,
    rawPackets: packets,
    octets,
    rawOctets: octets,
    endMs: 1_710_234_000_000 + spanMs,
    ...extra,
  });
const icmp = (type: number | null, code: number | null, dstPort = 0) =>
  makeRecord({ proto: 1, srcPort: 0, dstPort, icmpType: type, icmpCode: code });

describe('classifyBaseKind', () => {
  test.each([
    ['ESP, ports 0/0 (every exporter of the corpus)', makeRecord(), false, 'esp'],
    ['ESP with an SPI', makeRecord({ spi: 0xc3a1f2d4 }), true, 'esp'],
    ['ESP non-first fragment (IE 88 offset)', makeRecord({ fragmentOffset: 185 }), false, 'esp-fragment'],
    ['ESP first fragment (IE 197 MF)', makeRecord({ fragmentFlags: 0x20 }), false, 'esp-fragment'],
    [
      'ESP with DF only is not a fragment',
      makeRecord({ fragmentFlags: 0x40, fragmentOffset: 0 }),
      false,
      'esp',
    ],
    ['SPI-less ESP from a point that exports SPIs', makeRecord(), true, 'esp-fragment'],
    ['IKE 500↔500', udp(500, 500), false, 'ike'],
    ['IKE from a NAT port to 500', udp(36012, 500), false, 'ike'],
    ['IKE from 500 to a NAT port', udp(500, 1026), false, 'ike'],
    ['NAT-T 4500↔4500', udp(4500, 4500), false, 'esp-in-udp'],
    ['NAT-T from a NAT port', udp(36013, 4500), false, 'esp-in-udp'],
    ['NAT-T to a NAT port', udp(4500, 1027), false, 'esp-in-udp'],
    [
      "NAT-T with SPI 0 (a probe's non-ESP marker flow: IKE, keepalives)",
      makeRecord({ proto: 17, srcPort: 36013, dstPort: 4500, spi: 0 }),
      true,
      'ike',
    ],
    [
      'NAT-T ESP with its SPI',
      makeRecord({ proto: 17, srcPort: 36013, dstPort: 4500, spi: 0xa8c2017f }),
      true,
      'esp-in-udp',
    ],
    [
      'NAT-T first fragment',
      makeRecord({ proto: 17, srcPort: 4500, dstPort: 4500, fragmentFlags: 0x20 }),
      false,
      'esp-fragment',
    ],
    // UDP 4500 without ESP, told by sizes and rate (README "How tunnelflow reads IPsec from flow records").
    ['NAT-T keepalives only (29-byte IPv4 packets)', natt(3, 87, 40_000), false, 'ike'],
    ['NAT-T keepalives only over IPv6 (49 bytes)', natt(2, 98, 20_000, { ipVersion: 6 }), false, 'ike'],
    ['one keepalive, no span', natt(1, 29, 0), false, 'ike'],
    ['IKE_AUTH retried every 30 s (softflowd, l_natt_ike_fail_v4)', natt(12, 7248, 270_030), false, 'ike'],
    ['IKE answers, 2 packets over a 64 s biflow (pmacct)', natt(2, 208, 64_000), false, 'ike'],
    ['one IKE packet over a 60 s biflow span', natt(1, 112, 60_000), false, 'ike'],
    ['one packet, no span: nothing to tell, ESP-in-UDP', natt(1, 112, 0), false, 'esp-in-udp'],
    ['ESP-in-UDP pings, a packet a second', natt(61, 9028, 61_000), false, 'esp-in-udp'],
    [
      'ESP-in-UDP across idle minutes (pmacct c_natt_v4: 3 s mean gap)',
      natt(57, 8417, 169_782),
      false,
      'esp-in-udp',
    ],
    ['just under the 10 s mean gap', natt(11, 1100, 99_999), false, 'esp-in-udp'],
    ['at the 10 s mean gap', natt(11, 1100, 100_000), false, 'ike'],
    [
      'sampled: gaps say nothing',
      natt(200, 20_000, 100_000, { rawPackets: 2, rawOctets: 200, samplingRate: 100 }),
      false,
      'esp-in-udp',
    ],
    ['sparse, but a probe named the SPI', natt(2, 300, 60_000, { spi: 0xa8c2017f }), true, 'esp-in-udp'],
    ['DNS from port 4500 is not NAT-T', udp(4500, 53), false, 'other'],
    ['NTP', udp(123, 123), false, 'other'],
    ['ICMP 3/4 (fields)', icmp(3, 4), false, 'icmp-frag-needed'],
    ['ICMP 3/4 in the destination port (v5, pmacct v9)', icmp(null, null, 0x0304), false, 'icmp-frag-needed'],
    ['ICMP 3/3 port unreachable', icmp(3, 3), false, 'other'],
    ['ICMP echo', icmp(8, 0), false, 'other'],
    [
      'ICMPv6 packet too big',
      makeRecord({ proto: 58, icmpType: 2, icmpCode: 0, ipVersion: 6 }),
      false,
      'icmp-frag-needed',
    ],
    ['ICMPv6 echo', makeRecord({ proto: 58, icmpType: 128, icmpCode: 0, ipVersion: 6 }), false, 'other'],
    ['TCP', makeRecord({ proto: 6, srcPort: 443, dstPort: 50000 }), false, 'other'],
    ['AH is not ESP', makeRecord({ proto: 51 }), false, 'other'],
  ] as const)('%s', (_name, record, exportsSpi, kind) => {
    expect(classifyBaseKind(record, exportsSpi)).toBe(kind);
  });

  test.each([
    ['IPv4 UDP 0/0 (softflowd: a non-first fragment of NAT-T)', makeRecord({ proto: 17 }), true],
    ['IPv4 UDP with ports', udp(36013, 4500), false],
    ['IPv4 protocol 0', makeRecord({ proto: 0 }), false],
    ['IPv6 next header 44', makeRecord({ proto: 44, ipVersion: 6 }), true],
    ['IPv6 protocol 0 (softflowd 1.1.0 fragments)', makeRecord({ proto: 0, ipVersion: 6 }), true],
    [
      'IPv6 protocol 0 without ports (null)',
      makeRecord({ proto: 0, ipVersion: 6, srcPort: null, dstPort: null }),
      true,
    ],
    ['IPv6 ESP', makeRecord({ proto: 50, ipVersion: 6 }), false],
    ['IPv6 UDP 0/0', makeRecord({ proto: 17, ipVersion: 6 }), false],
  ] as const)('isBareFragmentShape: %s', (_name, record, expected) => {
    expect(isBareFragmentShape(record)).toBe(expected);
  });

  test('looksLikeNattNonEsp: a record of no packets is not read as anything', () => {
    expect(looksLikeNattNonEsp(natt(0, 0, 60_000))).toBe(false);
  });

  test.each([
    [icmp(3, 4), true],
    [icmp(11, 0), true],
    [icmp(8, 0), false],
    [icmp(0, 0), false],
    [makeRecord({ proto: 58, icmpType: 1, icmpCode: 4 }), true],
    [makeRecord({ proto: 58, icmpType: 129, icmpCode: 0 }), false],
    [makeRecord({ proto: 6 }), false],
  ] as const)('isIcmpError %#', (record, expected) => {
    expect(isIcmpError(record)).toBe(expected);
  });
});

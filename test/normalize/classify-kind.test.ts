import { describe, expect, test } from 'vitest';
import { classifyBaseKind, isIcmpError } from '../../collector/normalize/classify-kind.js';
import { makeRecord } from './make-record.js';

const udp = (srcPort: number, dstPort: number) => makeRecord({ proto: 17, srcPort, dstPort });
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

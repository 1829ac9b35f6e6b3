import { describe, expect, test } from 'vitest';
import { addressSortKey, compareAddresses } from '../../model/address-order.js';
import { parseIpv4 } from '../../model/address-parse.js';
import { parseNormalizeConfig } from '../../collector/normalize/config.js';
import { saId, spiHex, tunnelId } from '../../collector/normalize/ids.js';
import { compileSubnets, parseAddress } from '../../collector/normalize/subnet-matcher.js';

describe('address order (tunnel peer A is the lower address)', () => {
  test.each([
    ['192.0.2.77', '203.0.113.5', -1],
    ['203.0.113.5', '192.0.2.77', 1],
    ['9.0.0.1', '10.0.0.1', -1], // numeric, not text order
    ['198.51.100.20', '198.51.100.20', 0],
    ['255.255.255.255', '::', -1], // every IPv4 before every IPv6
    ['2001:db8:0:1::1', '2001:db8:0:5::1', -1],
    ['2001:db8::ffff', '2001:db8::1:0', -1],
    ['fe80::1', '2001:db8::1', 1],
  ] as const)('%s vs %s', (x, y, sign) => {
    expect(Math.sign(compareAddresses(x, y))).toBe(sign);
  });

  test.each(['1.2.3', '1.2.3.256', '01234.1.1.1', 'a.b.c.d', '', '1..2.3'])(
    '%s is not a dotted quad',
    (text) => {
      expect(parseIpv4(text)).toBe(-1);
    },
  );

  test('text that is no address sorts last instead of throwing', () => {
    expect(addressSortKey('not-an-address') > addressSortKey('ffff::')).toBe(true);
  });
});

describe('subnets', () => {
  const m = compileSubnets(['10.41.0.0/24', '10.0.0.0/8', '2001:db8:40::/44', '0.0.0.0/0']);
  const only = compileSubnets(['10.41.0.0/24', '2001:db8:40::/44']);
  test.each([
    ['10.41.0.15', true],
    ['10.41.1.15', false],
    ['10.42.0.25', false],
    ['2001:db8:4f::1', true],
    ['2001:db8:50::1', false],
  ] as const)('%s in 10.41.0.0/24 or 2001:db8:40::/44: %s', (address, inside) => {
    const parsed = parseAddress(address);
    expect(parsed).not.toBeNull();
    if (parsed !== null) expect(only.contains(parsed)).toBe(inside);
  });
  test('/0 contains every IPv4 address', () => {
    const p = parseAddress('203.0.113.9');
    expect(p !== null && m.contains(p)).toBe(true);
  });
});

describe('ids', () => {
  test('deterministic, URL-path safe', () => {
    expect(tunnelId('192.0.2.10', '198.51.100.20', 'esp')).toBe('192.0.2.10_198.51.100.20_esp');
    expect(saId('192.0.2.10', '198.51.100.20', 0xc3a1f2d4, 0)).toBe('192.0.2.10_198.51.100.20_0xc3a1f2d4_g0');
    expect(saId('2001:db8::1', '2001:db8::2', null, 3)).toBe('2001:db8::1_2001:db8::2_nospi_g3');
    expect(spiHex(0x0f3b92c6)).toBe('0x0f3b92c6');
    expect(encodeURIComponent(tunnelId('2001:db8:0:1::1', '2001:db8:0:5::1', 'esp-in-udp'))).not.toContain(
      '%2F',
    );
  });
});

describe('config', () => {
  test('defaults', () => {
    const c = parseNormalizeConfig({});
    expect(c).toMatchObject({
      bucketSeconds: 60,
      saIdleSeconds: 600,
      loss: { ceilingRatio: 0.5 },
      observationPoints: [],
      tunnels: [],
    });
  });

  test('the DESIGN.md example, with addresses and subnets canonicalised', () => {
    const c = parseNormalizeConfig({
      observationPoints: [
        { exporter: '192.0.2.140', near: '192.0.2.140' },
        { exporter: '2001:DB8::9', domain: 7, near: '2001:db8:0::1' },
      ],
      tunnels: [
        {
          name: 'lossy path',
          peerA: '192.0.2.140',
          peerB: '198.51.100.150',
          protectedSubnets: { a: ['10.21.0.0/24'], b: ['2001:DB8:22::/48'] },
        },
      ],
      loss: { ceilingRatio: 0.3 },
    });
    expect(c.observationPoints[1]).toEqual({ exporter: '2001:db8::9', domain: 7, near: '2001:db8::1' });
    expect(c.tunnels[0]?.protectedSubnets).toEqual({ a: ['10.21.0.0/24'], b: ['2001:db8:22::/48'] });
    expect(c.loss).toEqual({ ceilingRatio: 0.3, maxPacketRate: 10_000_000 });
  });

  test.each([
    [{ bucketSecond: 60 }, 'bucketSecond'],
    [{ loss: { ceiling: 0.5 } }, 'ceiling'],
    [{ loss: { ceilingRatio: 2 } }, 'ceilingRatio'],
    [{ observationPoints: [{ exporter: '192.0.2.300', near: '192.0.2.1' }] }, 'not an IPv4 or IPv6 address'],
    [
      {
        tunnels: [
          { name: 'x', peerA: '192.0.2.1', peerB: '192.0.2.2', protectedSubnets: { a: ['10.0.0.0/33'] } },
        ],
      },
      'not a subnet',
    ],
    [{ tunnels: [{ name: 'x', peerA: '192.0.2.1', peerB: '192.0.2.1' }] }, 'two different addresses'],
  ])('rejects %j', (input, message) => {
    expect(() => parseNormalizeConfig(input)).toThrow(message);
  });
});

import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, test } from 'vitest';
import { addressKey, prefixKeyRange } from '../../store/address-key.js';

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const v6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((g) => ipaddr.fromByteArray(g.flatMap((x) => [x >> 8, x & 255])).toString());
const numeric = (text: string): bigint =>
  ipaddr
    .parse(text)
    .toByteArray()
    .reduce((n, b) => (n << 8n) | BigInt(b), 0n);

describe('address keys', () => {
  test.each([
    ['192.0.2.10', '04c000020a'],
    ['0.0.0.0', '0400000000'],
    ['255.255.255.255', '04ffffffff'],
    ['2001:db8::1', '0620010db8000000000000000000000001'],
    ['2001:DB8:0:0:0:0:0:1', '0620010db8000000000000000000000001'],
    ['::ffff:192.0.2.10', '0600000000000000000000ffffc000020a'],
  ])('%s', (text, hex) => {
    expect(addressKey(text)?.toString('hex')).toBe(hex);
  });

  test.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1..2.3',
    'a.b.c.d',
    'foo',
    '2001:db8::g',
    ':::',
  ])('%j is no address', (text) => {
    expect(addressKey(text)).toBeNull();
  });

  test('IPv4 keys equal what ipaddr.js reads, and sort as the numbers do', () => {
    fc.assert(
      fc.property(v4, v4, (a, b) => {
        const [ka, kb] = [addressKey(a)!, addressKey(b)!];
        expect([...ka.subarray(1)]).toEqual(ipaddr.parse(a).toByteArray());
        expect(Math.sign(Buffer.compare(ka, kb))).toBe(Math.sign(Number(numeric(a) - numeric(b))));
      }),
      { numRuns: 2000 },
    );
  });

  test('IPv6 keys sort as the numbers do, after every IPv4 key', () => {
    fc.assert(
      fc.property(v6, v6, v4, (a, b, c) => {
        const [ka, kb] = [addressKey(a)!, addressKey(b)!];
        const diff = numeric(a) - numeric(b);
        expect(Math.sign(Buffer.compare(ka, kb))).toBe(diff === 0n ? 0 : diff > 0n ? 1 : -1);
        expect(Buffer.compare(addressKey(c)!, ka)).toBe(-1);
      }),
      { numRuns: 2000 },
    );
  });

  test('a prefix range holds exactly the addresses ipaddr.js matches', () => {
    fc.assert(
      fc.property(fc.oneof(v4, v6), fc.oneof(v4, v6), fc.nat(128), (net, address, bits) => {
        const parsedNet = ipaddr.parse(net);
        const length = Math.min(bits, parsedNet.kind() === 'ipv4' ? 32 : 128);
        const [low, high] = prefixKeyRange(parsedNet, length);
        const key = addressKey(address)!;
        const parsed = ipaddr.parse(address);
        const inside = parsed.kind() === parsedNet.kind() && parsed.match(parsedNet as never, length);
        expect(Buffer.compare(low, key) <= 0 && Buffer.compare(key, high) <= 0).toBe(inside);
      }),
      { numRuns: 3000 },
    );
  });
});

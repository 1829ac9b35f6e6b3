// Address text must be the one text the rest of tunnelflow (which parses with ipaddr.js)
// gives the same address, or one peer becomes two tunnels.

import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { expect, test } from 'vitest';
import { canonicalAddress, canonicalIpv4 } from '../../model/address-parse.js';
import { ipv4Text, ipv4TextOf, ipv6Text } from '../../model/address-text.js';

/** 16 bytes, biased to zero groups so that `::` runs of every length and place occur. */
const ipv6Bytes = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
    minLength: 8,
    maxLength: 8,
  })
  .map((groups) => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff])));

test('IPv6 text equals ipaddr.js RFC 5952 text for any address', () => {
  fc.assert(
    fc.property(ipv6Bytes, (bytes) => {
      expect(ipv6Text(bytes, 0)).toBe(new ipaddr.IPv6([...bytes]).toRFC5952String());
    }),
    { numRuns: 20_000 },
  );
});

test('IPv6 text reads at an offset and only 16 bytes', () => {
  const bytes = Uint8Array.from([0xff, ...ipaddr.parse('2001:db8::1').toByteArray(), 0xff]);
  expect(ipv6Text(bytes, 1)).toBe('2001:db8::1');
});

test.each([
  ['::', '::'],
  ['::1', '::1'],
  ['1::', '1::'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['fe80:0:0:0:abcd:0:0:0', 'fe80::abcd:0:0:0'],
  ['fe80:0:0:abcd:0:0:0:0', 'fe80:0:0:abcd::'],
])('%s is written %s (RFC 5952 §4.2)', (input, text) => {
  expect(ipv6Text(Uint8Array.from(ipaddr.parse(input).toByteArray()), 0)).toBe(text);
});

test('IPv4 text is a dotted quad', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
      expect(ipv4Text(bytes, 0)).toBe(new ipaddr.IPv4([...bytes]).toString());
    }),
    { numRuns: 5_000 },
  );
});

test("the parser gives back the formatter's text for any spelling of an address", () => {
  fc.assert(
    fc.property(ipv6Bytes, (bytes) => {
      const canonical = ipv6Text(bytes, 0);
      const spelled = new ipaddr.IPv6([...bytes]).toNormalizedString().toUpperCase();
      expect(canonicalAddress(spelled)).toBe(canonical);
      expect(canonicalAddress(canonical)).toBe(canonical);
    }),
    { numRuns: 5_000 },
  );
});

test.each([
  ['192.0.2.1', '192.0.2.1'],
  ['2001:DB8:0:0::1', '2001:db8::1'],
  ['::ffff:10.0.0.1', '::ffff:a00:1'],
  ['10.1', null],
  ['010.1.1.1', null],
  ['0x0a.0.0.1', null],
  ['', null],
  ['not an address', null],
])('canonicalAddress(%j) is %j', (text, expected) => {
  expect(canonicalAddress(text)).toBe(expected);
});

test('an IPv4 value and its canonical text go both ways, for any address', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
      const bytes = Uint8Array.from([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
      const text = ipv4TextOf(value);
      expect(text).toBe(ipv4Text(bytes, 0));
      expect(text).toBe(ipaddr.fromByteArray([...bytes]).toString());
      expect(canonicalIpv4(text)).toBe(value);
    }),
    { numRuns: 20_000 },
  );
});

test('canonicalIpv4 takes only the text ipv4Text writes: -1 for anything else', () => {
  expect([canonicalIpv4('0.0.0.0'), canonicalIpv4('10.0.0.1'), canonicalIpv4('255.255.255.255')]).toEqual([
    0, 0x0a000001, 0xffffffff,
  ]);
  for (const text of [
    '010.0.0.1',
    '1.2.3.04',
    '1.00.1.1',
    '00.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.4 ',
    '',
    '::1',
    '2001:db8::1',
    't_abc',
  ])
    expect({ text, value: canonicalIpv4(text) }).toEqual({ text, value: -1 });
});

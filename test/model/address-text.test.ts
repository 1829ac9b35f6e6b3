// Address text must be the one text the rest of tunnelflow (which parses with ipaddr.js)
// gives the same address, or one peer becomes two tunnels.

import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { expect, test } from 'vitest';
import { canonicalAddress } from '../../model/address-parse.js';
import { ipv4Text, ipv6Text } from '../../model/address-text.js';

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

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { FilterNode } from '../../store/filter/filter-ast.js';
import { FilterSyntaxError } from '../../store/filter/filter-syntax-error.js';
import { MAX_FILTER_LENGTH, parseFilter } from '../../store/filter/parse-filter.js';

const proto = (p: number): FilterNode => ({ type: 'proto', proto: p });
const port = (
  p: number,
  direction: 'src' | 'dst' | 'any' = 'any',
  op: '=' | '<' | '<=' | '>' | '>=' | '!=' = '=',
): FilterNode => ({
  type: 'port',
  direction,
  op,
  port: p,
});

describe('parseFilter: accepted', () => {
  test.each<[string, FilterNode]>([
    ['proto esp', proto(50)],
    ['PROTO Tcp', proto(6)],
    ['proto ah', proto(51)],
    ['proto udp', proto(17)],
    ['proto icmp', proto(1)],
    ['proto icmp6', proto(58)],
    ['proto 132', proto(132)],
    ['proto 0x32', proto(50)],
    ['host 192.0.2.10', { type: 'host', direction: 'any', address: '192.0.2.10' }],
    ['src host 198.51.100.20', { type: 'host', direction: 'src', address: '198.51.100.20' }],
    ['dst ip 2001:DB8:0:0::1', { type: 'host', direction: 'dst', address: '2001:db8::1' }],
    ['net 10.21.0.7/24', { type: 'net', direction: 'any', network: '10.21.0.0', prefixLength: 24 }],
    [
      'src net 2001:db8:1000::/36',
      { type: 'net', direction: 'src', network: '2001:db8:1000::', prefixLength: 36 },
    ],
    ['dst net 0.0.0.0/0', { type: 'net', direction: 'dst', network: '0.0.0.0', prefixLength: 0 }],
    ['port 500', port(500)],
    ['src port > 1024', port(1024, 'src', '>')],
    ['dst port <= 80', port(80, 'dst', '<=')],
    ['port gt 1023', port(1023, 'any', '>')],
    ['port != 4500', port(4500, 'any', '!=')],
    ['port == 53', port(53)],
    ['spi 0x6b1d2e93', { type: 'spi', spi: 0x6b1d2e93 }],
    ['spi 3282170580', { type: 'spi', spi: 3282170580 }],
    ['kind esp-fragment', { type: 'kind', kind: 'esp-fragment' }],
    ['KIND ICMP-FRAG-NEEDED', { type: 'kind', kind: 'icmp-frag-needed' }],
    ['tunnel 192.0.2.10_198.51.100.20_esp', { type: 'tunnel', tunnelId: '192.0.2.10_198.51.100.20_esp' }],
    ['tunnel "lossy path (east)"', { type: 'tunnel', tunnelId: 'lossy path (east)' }],
    ['exporter 127.0.0.1', { type: 'exporter', address: '127.0.0.1' }],
    ['packets > 100', { type: 'counter', counter: 'packets', op: '>', value: 100 }],
    ['bytes >= 1000', { type: 'counter', counter: 'bytes', op: '>=', value: 1000 }],
    ['bytes > 1k', { type: 'counter', counter: 'bytes', op: '>', value: 1000 }],
    ['octets < 5M', { type: 'counter', counter: 'bytes', op: '<', value: 5_000_000 }],
    ['packets 1758', { type: 'counter', counter: 'packets', op: '=', value: 1758 }],
    ['any', { type: 'any' }],
    ['not proto udp', { type: 'not', operand: proto(17) }],
    ['!proto udp', { type: 'not', operand: proto(17) }],
    ['! ! proto udp', { type: 'not', operand: { type: 'not', operand: proto(17) } }],
    // `and` binds tighter than `or`.
    [
      'proto esp and host 192.0.2.1 or port 500',
      {
        type: 'or',
        left: {
          type: 'and',
          left: proto(50),
          right: { type: 'host', direction: 'any', address: '192.0.2.1' },
        },
        right: port(500),
      },
    ],
    [
      'proto esp && !(port 500 || port 4500)',
      {
        type: 'and',
        left: proto(50),
        right: { type: 'not', operand: { type: 'or', left: port(500), right: port(4500) } },
      },
    ],
    ['(((proto 50)))', proto(50)],
    [
      'proto esp AND proto ah OR proto tcp',
      { type: 'or', left: { type: 'and', left: proto(50), right: proto(51) }, right: proto(6) },
    ],
  ])('%s', (input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

describe('parseFilter: refused with the position and what was expected', () => {
  test.each<[string, number, string]>([
    ['host', 4, 'an address'],
    ['host foo', 5, 'an address'],
    ['host 999.1.1.1', 5, 'an address'],
    ['host 10.1', 5, 'an address'],
    ['proto', 5, 'a protocol'],
    ['proto bogus', 6, 'a protocol'],
    ['proto 256', 6, 'a protocol'],
    ['net 10.0.0.0', 4, 'a CIDR prefix'],
    ['net 10.0.0.0/33', 4, 'a CIDR prefix'],
    ['src net 2001:db8::/129', 8, 'a CIDR prefix'],
    ['port 70000', 5, 'a port number'],
    ['port > x', 7, 'a port number'],
    ['spi 0x1ffffffff', 4, 'an SPI'],
    ['spi -1', 4, 'an SPI'],
    ['kind tunnel', 5, 'a flow kind'],
    ['tunnel', 6, 'a tunnel id'],
    ['exporter nowhere', 9, 'an exporter address'],
    ['packets >', 9, 'a count'],
    ['bytes > 10x', 8, 'a count'],
    ['(proto esp', 10, "')'"],
    ['proto esp)', 9, "'and', 'or' or the end of the filter"],
    ['proto esp port 500', 10, "'and', 'or' or the end of the filter"],
    ['proto esp and', 13, 'a filter term'],
    ['frobnicate', 0, 'a filter term'],
    ['', 0, 'a filter term'],
    ['not', 3, 'a filter term'],
    ['src 10.0.0.1', 4, "'host', 'net' or 'port'"],
    ['proto esp & port 5', 10, "'&&'"],
    ['proto esp | port 5', 10, "'||'"],
    ['tunnel "abc', 11, 'a closing "'],
  ])('%j at %i: %s', (input, position, expected) => {
    let error: unknown;
    try {
      parseFilter(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FilterSyntaxError);
    const syntax = error as FilterSyntaxError;
    expect(syntax.position).toBe(position);
    expect(syntax.expected).toContain(expected);
    expect(syntax.message).toContain(`at position ${position}`);
  });

  test('the message names the keyword and the text found', () => {
    expect(() => parseFilter('host foo')).toThrow(
      "expected an address after 'host' at position 5, found 'foo'",
    );
    expect(() => parseFilter('proto esp and')).toThrow(
      /after 'and' at position 13, found the end of the filter/,
    );
  });

  test('deep nesting and very long input are refused, not a stack overflow', () => {
    const deep = `${'('.repeat(500)}any${')'.repeat(500)}`;
    expect(() => parseFilter(deep)).toThrow(FilterSyntaxError);
    const nots = `${'not '.repeat(1000)}any`;
    expect(() => parseFilter(nots)).toThrow(FilterSyntaxError);
    expect(() => parseFilter('proto esp or '.repeat(400) + 'any')).toThrow(/at most 4096 characters/);
    expect(parseFilter(`${'('.repeat(30)}any${')'.repeat(30)}`)).toEqual({ type: 'any' });
    expect(MAX_FILTER_LENGTH).toBe(4096);
  });

  test('any text either parses or fails with FilterSyntaxError inside its bounds', () => {
    const alphabet = fc.constantFrom(
      ...'proto esp host net port src dst not and or ( ) ! && || > >= < = 10.0.0.1 2001:db8::/32 0x6b1d "x\' 17 kind any'.split(
        ' ',
      ),
      ' ',
      '(',
      ')',
      '"',
      '&',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.array(alphabet, { maxLength: 30 }).map((a) => a.join(' ')),
        ),
        (text) => {
          try {
            parseFilter(text);
          } catch (error) {
            expect(error).toBeInstanceOf(FilterSyntaxError);
            const position = (error as FilterSyntaxError).position;
            expect(position).toBeGreaterThanOrEqual(0);
            expect(position).toBeLessThanOrEqual(text.length);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

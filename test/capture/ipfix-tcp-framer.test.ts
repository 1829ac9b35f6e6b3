import fc from 'fast-check';
import { expect, test } from 'vitest';

import { IpfixTcpFramer } from '../../collector/capture/index.js';
import { expectedCaptures, readExport } from './corpus-fixtures.js';

const CAPTURE = 'b_rekey_v4/softflowd_ipfix_tcp.pcap';
const stream = readExport(CAPTURE.replace(/\.pcap$/, '.tcpstream.bin'));
// h_multi has several messages; b_rekey one. Use both streams back to back for a longer input.
const HMULTI = 'h_multi_tunnel_mixed/softflowd_ipfix_tcp.pcap';
const stream2 = readExport(HMULTI.replace(/\.pcap$/, '.tcpstream.bin'));
const input = Buffer.concat([stream, stream2]);
/** Message lengths as tshark decoded them. */
const lengths = [
  ...(expectedCaptures[CAPTURE]?.lengths ?? []),
  ...(expectedCaptures[HMULTI]?.lengths ?? []),
].map((l) => l ?? 0);
const expectedMessages: Buffer[] = [];
for (let at = 0, i = 0; i < lengths.length; at += lengths[i] ?? 0, i++) {
  expectedMessages.push(input.subarray(at, at + (lengths[i] ?? 0)));
}

const hex = (b: Buffer): string => b.toString('hex');
const expectedHex = expectedMessages.map(hex);

test('the reference lengths cover both streams exactly', () => {
  expect(expectedMessages.length).toBe(6);
  expect(lengths.reduce((a, b) => a + b, 0)).toBe(input.length);
});

test('a stream fed one byte at a time is split into its messages', () => {
  const framer = new IpfixTcpFramer();
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i++) {
    const r = framer.push(input.subarray(i, i + 1));
    expect(r.error).toBeNull();
    out.push(...r.messages);
    expect(framer.buffered).toBeLessThanOrEqual(65535);
  }
  expect(out).toEqual(expectedMessages);
  expect(framer.buffered).toBe(0);
  expect(framer.streamOffset).toBe(input.length);
});

test('the stream in one chunk, and in any chunking, gives the same messages', () => {
  expect(new IpfixTcpFramer().push(input).messages).toEqual(expectedMessages);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 30 }), (cuts) => {
      const bounds = [0, ...cuts.sort((a, b) => a - b), input.length];
      const framer = new IpfixTcpFramer();
      const out: Buffer[] = [];
      for (let i = 0; i + 1 < bounds.length; i++) {
        const r = framer.push(input.subarray(bounds[i], bounds[i + 1]));
        expect(r.error).toBeNull();
        out.push(...r.messages);
      }
      // Hex strings compare far faster than vitest's element-wise Buffer equality.
      expect(out.map(hex)).toEqual(expectedHex);
    }),
    { numRuns: 300 },
  );
});

test('messages are copies: changing the input afterwards does not change them', () => {
  const copy = Buffer.from(input);
  const { messages } = new IpfixTcpFramer().push(copy);
  copy.fill(0);
  expect(messages).toEqual(expectedMessages);
});

test.each([
  ['length 15 (shorter than the header)', '000a000f'],
  ['length 0', '000a0000'],
  ['version 9', '00090010'],
  ['version 0', '00000400'],
])('rejects a header with %s, and refuses everything after', (_name, header) => {
  const bad = Buffer.concat([Buffer.from(header, 'hex'), Buffer.alloc(12)]);
  const framer = new IpfixTcpFramer();
  // The good message before it still comes out, along with the error.
  const first = framer.push(Buffer.concat([expectedMessages[0] as Buffer, bad]));
  expect(first.messages).toEqual([expectedMessages[0]]);
  expect(first.error).toMatch(/RFC 7011/);
  expect(framer.error).toBe(first.error);
  const later = framer.push(input);
  expect(later).toEqual({ messages: [], error: first.error });
  expect(framer.buffered).toBe(0);
});

test('a bad header split across pushes is rejected once its 4 bytes are in', () => {
  const framer = new IpfixTcpFramer();
  expect(framer.push(Buffer.from([0x00]))).toEqual({ messages: [], error: null });
  expect(framer.push(Buffer.from([0x0a, 0x00]))).toEqual({ messages: [], error: null });
  expect(framer.push(Buffer.from([0x08])).error).toMatch(/length 8/);
});

test('a 65535-byte message, the largest there is, is held and delivered whole', () => {
  const big = Buffer.alloc(65535, 7);
  big.writeUInt16BE(10, 0);
  big.writeUInt16BE(65535, 2);
  const framer = new IpfixTcpFramer();
  let out: Buffer[] = [];
  for (let at = 0; at < big.length; at += 1000) {
    const r = framer.push(big.subarray(at, at + 1000));
    out = out.concat(r.messages);
    expect(framer.buffered).toBeLessThanOrEqual(65535);
  }
  expect(out).toHaveLength(1);
  expect(out[0]?.equals(big)).toBe(true);
});

// TCP streams in a capture that are not IPFIX (BGP, BMP beside the export on a router's
// management link): skipped and counted as not IPFIX, never framed into ipfix-framing issues.
// A stream is IPFIX when it goes to an IPFIX port (4739, or the ones given) or starts with a
// valid IPFIX message header (RFC 7011 §3.1: version 10, a length that holds the header).

import { expect, test } from 'vitest';

import { readCapture } from '../../collector/capture/index.js';
import { ACK, FIN, SYN, ethernet, ipv4, pcapFile, tcp } from './capture-builder.js';
import { expectedCaptures, readExport } from './corpus-fixtures.js';

const CAPTURE = 'h_multi_tunnel_mixed/softflowd_ipfix_tcp.pcap';
const ipfixStream = readExport(CAPTURE.replace(/\.pcap$/, '.tcpstream.bin'));
/** The messages as tshark cut them (its message lengths, not the framer under test). */
const lengths = (expectedCaptures[CAPTURE]?.lengths ?? []).map((l) => l ?? 0);
const messages: Buffer[] = [];
for (let at = 0, i = 0; i < lengths.length; at += lengths[i] ?? 0, i++) {
  messages.push(ipfixStream.subarray(at, at + (lengths[i] ?? 0)));
}

const ROUTER = '192.0.2.33';
const PEER = '192.0.2.44';
const COLLECTOR = '192.0.2.1';

/** RFC 4271 §4.1-4.4: the 16-byte all-ones marker, length, type. */
function bgpMessage(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(19, 0xff);
  header.writeUInt16BE(19 + body.length, 16);
  header[18] = type;
  return Buffer.concat([header, body]);
}
// OPEN (type 1): version 4, AS 64512, hold time 90, BGP identifier, no optional parameters.
const bgpOpen = (id: string) =>
  bgpMessage(1, Buffer.from([4, 0xfc, 0x00, 0, 90, ...id.split('.').map(Number), 0]));
const bgpKeepalive = bgpMessage(4, Buffer.alloc(0));
// RFC 7854 §4.1/§4.3: BMP version 3, message length, type 4 (initiation), one sysName TLV.
const bmpInitiation = (() => {
  const tlv = Buffer.concat([Buffer.from([0, 2, 0, 4]), Buffer.from('rtr1')]);
  const header = Buffer.alloc(6);
  header[0] = 3;
  header.writeUInt32BE(6 + tlv.length, 1);
  header[5] = 4;
  return Buffer.concat([header, tlv]);
})();

interface Segment {
  readonly from: string;
  readonly to: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly flags: number;
  readonly payload?: Buffer;
}

function capture(segments: readonly Segment[]): Buffer {
  return pcapFile(
    { linkType: 1 },
    segments.map((s, i) => {
      const t = tcp({
        srcPort: s.srcPort,
        dstPort: s.dstPort,
        seq: s.seq,
        flags: s.flags,
        payload: s.payload,
      });
      const packet = ipv4({ src: s.from, dst: s.to, proto: 6, payload: t });
      return { tsSec: 1_700_000_000, tsFrac: i, data: ethernet(0x0800, packet) };
    }),
  );
}

/** One direction's data segments: `chunks` in order from sequence number `isn + 1`. */
function data(
  base: Omit<Segment, 'seq' | 'flags' | 'payload'>,
  isn: number,
  chunks: readonly Buffer[],
): Segment[] {
  const out: Segment[] = [];
  let seq = isn + 1;
  for (const payload of chunks) {
    out.push({ ...base, seq, flags: ACK, payload });
    seq += payload.length;
  }
  return out;
}

/** A BGP session router:50179 <-> peer:179, both directions, handshake to FIN. */
function bgpSession(): Segment[] {
  const out = { from: ROUTER, to: PEER, srcPort: 50179, dstPort: 179 };
  const back = { from: PEER, to: ROUTER, srcPort: 179, dstPort: 50179 };
  const outData = [bgpOpen('192.0.2.33'), bgpKeepalive, bgpKeepalive];
  const backData = [bgpOpen('192.0.2.44'), bgpKeepalive];
  const outEnd = 1 + outData.reduce((n, b) => n + b.length, 0);
  return [
    { ...out, seq: 0, flags: SYN },
    { ...back, seq: 7000, flags: SYN | ACK },
    ...data(out, 0, outData.slice(0, 1)),
    ...data(back, 7000, backData),
    ...data(out, 0 + bgpOpen('192.0.2.33').length, outData.slice(1)),
    { ...out, seq: outEnd, flags: FIN | ACK },
  ];
}

/** IPFIX over TCP from the router to the collector's port `port`, cut at `cuts`. */
function ipfixSession(port: number, cuts: readonly number[]): Segment[] {
  const out = { from: ROUTER, to: COLLECTOR, srcPort: 40000, dstPort: port };
  const bounds = [0, ...cuts, ipfixStream.length];
  const chunks = bounds.slice(1).map((to, i) => ipfixStream.subarray(bounds[i], to));
  return [
    { ...out, seq: 100, flags: SYN },
    { from: COLLECTOR, to: ROUTER, srcPort: port, dstPort: 40000, seq: 9000, flags: SYN | ACK },
    ...data(out, 100, chunks),
    { ...out, seq: 101 + ipfixStream.length, flags: FIN | ACK },
  ];
}

test('the reference messages cover the whole reference stream', () => {
  expect(messages.length).toBe(5);
  expect(Buffer.concat(messages).equals(ipfixStream)).toBe(true);
});

test('a BGP session beside IPFIX over TCP: no issue, the messages, one stream not IPFIX', () => {
  const result = readCapture(capture([...bgpSession(), ...ipfixSession(4739, [1460, 2920])]));
  expect(result.issues).toEqual([]);
  expect(result.issueCounts).toEqual({});
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
  expect(result.datagrams.every((d) => d.dstPort === 4739 && d.transport === 'tcp')).toBe(true);
  expect(result.notIpfixStreams).toBe(1);
});

test('BGP and BMP beside IPFIX on another port: that port is IPFIX by its first bytes', () => {
  const bmp = { from: ROUTER, to: COLLECTOR, srcPort: 50001, dstPort: 11019 };
  const segments = [
    ...bgpSession(),
    { ...bmp, seq: 300, flags: SYN },
    ...data(bmp, 300, [bmpInitiation]),
    // The IPFIX header itself cut after 2 bytes: the decision waits for its 4 bytes.
    ...ipfixSession(9995, [2, 1460]),
  ];
  const result = readCapture(capture(segments));
  expect(result.issues).toEqual([]);
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
  expect(result.notIpfixStreams).toBe(2);
});

test('given ports are IPFIX ports: a broken stream there is still a framing issue', () => {
  const router = { from: ROUTER, to: COLLECTOR, srcPort: 40001, dstPort: 9995 };
  const broken = [{ ...router, seq: 1, flags: SYN }, ...data(router, 1, [bgpKeepalive])];
  const asPort = readCapture(capture(broken), { ipfixTcpPorts: [9995] });
  expect(asPort.issues.map((i) => i.kind)).toEqual(['ipfix-framing']);
  expect(asPort.notIpfixStreams).toBe(0);
  // Without the port, the same bytes are simply not IPFIX.
  const byBytes = readCapture(capture(broken));
  expect(byBytes.issues).toEqual([]);
  expect(byBytes.notIpfixStreams).toBe(1);
  // And `ports` (ingest --port) makes its ports IPFIX ports too.
  expect(readCapture(capture(broken), { ports: [9995] }).issues.map((i) => i.kind)).toEqual([
    'ipfix-framing',
  ]);
});

test('a stream with under 4 bytes on another port, cut by the end of the capture, is not IPFIX', () => {
  const router = { from: ROUTER, to: PEER, srcPort: 40002, dstPort: 22 };
  const result = readCapture(
    capture([{ ...router, seq: 1, flags: SYN }, ...data(router, 1, [Buffer.from('SS')])]),
  );
  expect(result.issues).toEqual([]);
  expect(result.notIpfixStreams).toBe(1);
});

test('a new connection on the same ports is judged afresh', () => {
  const router = { from: ROUTER, to: COLLECTOR, srcPort: 40003, dstPort: 9995 };
  const first = [{ ...router, seq: 1, flags: SYN }, ...data(router, 1, [bgpKeepalive])];
  const second = [
    { ...router, seq: 5000, flags: SYN },
    ...data(router, 5000, [ipfixStream]),
    { ...router, seq: 5001 + ipfixStream.length, flags: FIN | ACK },
  ];
  const result = readCapture(capture([...first, ...second]));
  expect(result.issues).toEqual([]);
  expect(result.datagrams.map((d) => d.payload)).toEqual(messages);
  expect(result.notIpfixStreams).toBe(1);
});

// Reads the export datagrams out of a pcap or pcapng capture: UDP payloads as they are, and
// IPFIX-over-TCP streams reassembled and cut into messages (RFC 7011 §10.4). Everything odd in
// the file becomes a counted issue with its frame number; nothing here throws on bad input.

import type { CaptureIssue, CaptureIssueKind, CaptureResult, CapturedDatagram } from './captured-datagram.js';
import { CaptureFileParser, type LinkFrame } from './capture-file-parser.js';
import { decodeIpPacket, walkIpv6Headers } from './ip-packet.js';
import { IpReassembler, type AbandonedDatagram, type ReassemblyLimits } from './ip-reassembler.js';
import { IPFIX_HEADER_LENGTH, IpfixTcpFramer } from './ipfix-tcp-framer.js';
import { decodeLinkLayer } from './link-layer.js';
import { TCP_SYN, TcpByteStream } from './tcp-byte-stream.js';

const PROTO_TCP = 6;
const PROTO_UDP = 17;

export interface CaptureReaderOptions {
  /** Keep only traffic sent to these destination ports (default: every port). */
  readonly ports?: readonly number[];
  /**
   * TCP destination ports whose streams are IPFIX whatever their first bytes (default: 4739,
   * RFC 7011 §10.4; `ports` are added). A stream to another port is framed as IPFIX only
   * when it starts with a valid IPFIX message header; any other (BGP, BMP, SSH beside the
   * export on a router's link) is skipped and counted in `notIpfixStreams`, not as an issue.
   */
  readonly ipfixTcpPorts?: readonly number[];
  /** Issues kept with their details; all of them are counted in `issueCounts` regardless. */
  readonly maxIssues?: number;
  /** Limits of IP fragment reassembly. */
  readonly reassembly?: ReassemblyLimits;
}

export const DEFAULT_MAX_ISSUES = 10_000;
/** RFC 7011 §10.4: the IANA port for IPFIX over TCP. */
export const IPFIX_TCP_PORT = 4739;
const IPFIX_VERSION = 10;

interface TcpDirection {
  readonly key: string;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly bytes: TcpByteStream;
  readonly framer: IpfixTcpFramer;
  lastFrame: number;
  /**
   * `ipfix` once the stream is known to carry IPFIX (its port, or its first bytes);
   * `unknown` while fewer than 4 bytes arrived on another port (`head` holds them).
   */
  kind: 'ipfix' | 'unknown';
  head: Buffer[];
}

/**
 * Incremental reader: push the file in chunks of any size (e.g. from a read stream), get the
 * datagrams each chunk completes, then call `end()`. Memory stays bounded by the largest record,
 * the fragments and TCP segments waiting for their predecessors, and `maxIssues`.
 */
export class CaptureReader {
  private readonly parser: CaptureFileParser;
  private readonly reassembler: IpReassembler;
  private readonly ports: ReadonlySet<number> | null;
  private readonly ipfixTcpPorts: ReadonlySet<number>;
  /**
   * TCP connections (both directions, see connectionKey) that carry data that is not
   * IPFIX: skipped, their segments dropped unread.
   */
  private readonly skippedConnections = new Set<string>();
  private notIpfix = 0;
  private readonly maxIssues: number;
  /** TCP directions still being read, by `src|srcPort|dst|dstPort`. */
  private readonly streams = new Map<string, TcpDirection>();
  /**
   * Directions that ended (FIN, RST, framing error), with their initial sequence number: late
   * retransmissions are ignored, a SYN with another ISN opens a new connection. Only this small
   * record is kept, so a capture with many connections does not hold their buffers.
   */
  private readonly closedStreams = new Map<string, number | null>();
  private readonly issueList: CaptureIssue[] = [];
  private readonly counts: Record<string, number> = {};
  private ignoredFrames = 0;
  private out: CapturedDatagram[] = [];
  private ended = false;

  constructor(options: CaptureReaderOptions = {}) {
    this.parser = new CaptureFileParser({
      frame: (frame) => this.onFrame(frame),
      issue: (kind, frame, detail) => this.issue(kind, frame, detail),
    });
    this.reassembler = new IpReassembler(options.reassembly);
    this.ports = options.ports === undefined ? null : new Set(options.ports);
    this.ipfixTcpPorts = new Set([...(options.ipfixTcpPorts ?? [IPFIX_TCP_PORT]), ...(options.ports ?? [])]);
    this.maxIssues = options.maxIssues ?? DEFAULT_MAX_ISSUES;
  }

  /** Packet records read so far. */
  get frames(): number {
    return this.parser.frames;
  }

  /** Bytes pushed so far (for progress against the file size). */
  get bytesRead(): number {
    return this.parser.bytesRead;
  }

  /** The issues kept so far, oldest first. */
  get issues(): readonly CaptureIssue[] {
    return this.issueList;
  }

  get issueCounts(): Readonly<Record<string, number>> {
    return this.counts;
  }

  /** Frames that were fine but carried no UDP or TCP, or not to a wanted port. */
  get ignored(): number {
    return this.ignoredFrames;
  }

  /**
   * TCP connections skipped as not IPFIX: to a port other than the IPFIX ones, with first
   * bytes that are no IPFIX message header. Not an issue: such streams are expected.
   */
  get notIpfixStreams(): number {
    return this.notIpfix;
  }

  /** Feeds the next bytes of the file; returns the datagrams they completed, in capture order. */
  push(chunk: Buffer | Uint8Array): CapturedDatagram[] {
    if (this.ended) return [];
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      this.parser.push(buf);
    } catch (err) {
      this.internalError(this.parser.frames, err);
    }
    return this.take();
  }

  /** Ends the file: reports what stayed unfinished (partial records, fragments, TCP streams). */
  end(): CapturedDatagram[] {
    if (this.ended) return [];
    this.ended = true;
    this.parser.end();
    const abandoned: AbandonedDatagram[] = [];
    this.reassembler.flush(abandoned);
    for (const a of abandoned) this.issue('ip-fragment-incomplete', a.frame, a.detail);
    for (const stream of [...this.streams.values()]) this.finishStream(stream);
    this.closedStreams.clear();
    this.skippedConnections.clear();
    return this.take();
  }

  private take(): CapturedDatagram[] {
    const done = this.out;
    this.out = [];
    return done;
  }

  private issue(kind: CaptureIssueKind, frame: number, detail: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    if (this.issueList.length < this.maxIssues) this.issueList.push({ kind, frame, detail });
  }

  private internalError(frame: number, err: unknown): void {
    this.issue('internal-error', frame, err instanceof Error ? err.message : String(err));
  }

  private onFrame(f: LinkFrame): void {
    try {
      this.decodeFrame(f);
    } catch (err) {
      this.internalError(f.frame, err);
    }
  }

  private decodeFrame(f: LinkFrame): void {
    if (f.data.length < f.origLen) {
      this.issue('truncated-frame', f.frame, `${f.data.length} of ${f.origLen} bytes captured`);
      return;
    }
    const link = decodeLinkLayer(f.linkType, f.data);
    switch (link.kind) {
      case 'unknown-link-type':
        this.issue('unknown-link-type', f.frame, `link type ${f.linkType}`);
        return;
      case 'malformed':
        this.issue('malformed-link-header', f.frame, link.detail);
        return;
      case 'not-ip':
        this.ignoredFrames++;
        return;
      case 'ip':
        break;
    }
    const ip = decodeIpPacket(link.ipVersion, link.packet);
    switch (ip.kind) {
      case 'datagram':
        this.transport(f, ip.src, ip.dst, ip.proto, ip.payload);
        return;
      case 'empty':
        this.ignoredFrames++;
        return;
      case 'malformed':
        this.issue('malformed-ip', f.frame, ip.detail);
        return;
      case 'truncated':
        this.issue('truncated-packet', f.frame, ip.detail);
        return;
      case 'fragment':
        break;
    }
    const abandoned: AbandonedDatagram[] = [];
    const r = this.reassembler.add(ip, f.frame, f.tsMs, abandoned);
    for (const a of abandoned) this.issue('ip-fragment-incomplete', a.frame, a.detail);
    switch (r.kind) {
      case 'pending':
        return;
      case 'overlap':
        this.issue('ip-fragment-overlap', f.frame, r.detail);
        return;
      case 'too-large':
        this.issue('ip-fragment-too-large', f.frame, r.detail);
        return;
      case 'complete':
        break;
    }
    if (r.ipVersion === 4) {
      this.transport(f, r.src, r.dst, r.nextHeader, r.payload);
      return;
    }
    // The reassembled IPv6 fragmentable part may start with more extension headers (RFC 8200 §4.5).
    const walk = walkIpv6Headers(r.payload, 0, r.nextHeader);
    if (walk.kind === 'payload') this.transport(f, r.src, r.dst, walk.proto, r.payload.subarray(walk.offset));
    else if (walk.kind === 'empty') this.ignoredFrames++;
    else if (walk.kind === 'malformed') this.issue('malformed-ip', f.frame, walk.detail);
    else this.issue('malformed-ip', f.frame, 'reassembled IPv6 packet holds another fragment header');
  }

  private transport(f: LinkFrame, src: string, dst: string, proto: number, payload: Buffer): void {
    if (proto === PROTO_UDP) this.udp(f, src, dst, payload);
    else if (proto === PROTO_TCP) this.tcp(f, src, dst, payload);
    else this.ignoredFrames++;
  }

  private wanted(dstPort: number): boolean {
    if (this.ports === null || this.ports.has(dstPort)) return true;
    this.ignoredFrames++;
    return false;
  }

  private udp(f: LinkFrame, src: string, dst: string, segment: Buffer): void {
    if (segment.length < 8) {
      this.issue('malformed-udp', f.frame, `UDP header needs 8 bytes, ${segment.length} present`);
      return;
    }
    let length = segment.readUInt16BE(4);
    // Length 0 only occurs in IPv6 jumbograms (RFC 2675 §4): the IP payload length rules.
    if (length === 0 && segment.length > 0xffff) length = segment.length;
    if (length < 8 || length > segment.length) {
      this.issue('malformed-udp', f.frame, `UDP length ${length}, ${segment.length} bytes in the IP payload`);
      return;
    }
    const srcPort = segment.readUInt16BE(0);
    const dstPort = segment.readUInt16BE(2);
    if (!this.wanted(dstPort)) return;
    this.out.push({
      tsMs: f.tsMs,
      transport: 'udp',
      src,
      srcPort,
      dst,
      dstPort,
      // A copy of its own, so a datagram does not pin the file chunk it came in.
      payload: Buffer.from(segment.subarray(8, length)),
    });
  }

  private tcp(f: LinkFrame, src: string, dst: string, segment: Buffer): void {
    if (segment.length < 20) {
      this.issue('malformed-tcp', f.frame, `TCP header needs 20 bytes, ${segment.length} present`);
      return;
    }
    const dataOffset = ((segment[12] ?? 0) >> 4) * 4;
    if (dataOffset < 20 || dataOffset > segment.length) {
      this.issue(
        'malformed-tcp',
        f.frame,
        `TCP data offset ${dataOffset} in a ${segment.length}-byte segment`,
      );
      return;
    }
    const srcPort = segment.readUInt16BE(0);
    const dstPort = segment.readUInt16BE(2);
    if (!this.wanted(dstPort)) return;
    const seq = segment.readUInt32BE(4);
    const flags = segment[13] ?? 0;
    const key = `${src}|${srcPort}|${dst}|${dstPort}`;
    const isSyn = (flags & TCP_SYN) !== 0;
    let stream = this.streams.get(key);
    if (stream === undefined && this.skippedConnections.size > 0) {
      const connection = connectionKey(src, srcPort, dst, dstPort);
      if (this.skippedConnections.has(connection)) {
        // A later connection on the same ports is judged afresh.
        if (!isSyn) return;
        this.skippedConnections.delete(connection);
      }
    }
    // A SYN with another initial sequence number is a new connection on the same ports.
    if (stream !== undefined && isSyn && stream.bytes.isn !== seq) {
      this.finishStream(stream);
      stream = undefined;
    }
    if (stream === undefined) {
      if (this.closedStreams.has(key)) {
        if (!isSyn || this.closedStreams.get(key) === seq) return;
        this.closedStreams.delete(key);
      }
      stream = {
        key,
        src,
        srcPort,
        dst,
        dstPort,
        bytes: new TcpByteStream(),
        framer: new IpfixTcpFramer(),
        lastFrame: f.frame,
        kind: this.ipfixTcpPorts.has(dstPort) ? 'ipfix' : 'unknown',
        head: [],
      };
      this.streams.set(key, stream);
    }
    stream.lastFrame = f.frame;

    const outcome = stream.bytes.segment(seq, flags, segment.subarray(dataOffset));
    let delivered = outcome.data;
    if (stream.kind === 'unknown' && delivered.length > 0) {
      stream.head.push(...delivered);
      const head = Buffer.concat(stream.head);
      delivered = [];
      if (head.length >= 4) {
        if (!startsLikeIpfix(head)) {
          this.skipConnection(stream);
          return;
        }
        stream.kind = 'ipfix';
        stream.head = [];
        delivered = [head];
      }
    }
    for (const chunk of delivered) {
      const framed = stream.framer.push(chunk);
      for (const message of framed.messages) {
        this.out.push({ tsMs: f.tsMs, transport: 'tcp', src, srcPort, dst, dstPort, payload: message });
      }
      if (framed.error !== null) {
        this.issue(
          'ipfix-framing',
          f.frame,
          `${describe(stream)}: ${framed.error}; rest of the stream skipped`,
        );
        this.closeStream(stream);
        return;
      }
    }
    if (outcome.error !== null) {
      this.issue(
        'tcp-buffer-overflow',
        f.frame,
        `${describe(stream)}: ${outcome.error}; rest of the stream skipped`,
      );
      this.closeStream(stream);
      return;
    }
    if (outcome.ended) this.finishStream(stream);
  }

  /**
   * Skips both directions of a stream's connection (IPFIX flows one way, so a connection with
   * other data in either direction is no export), counted once as not IPFIX.
   */
  private skipConnection(stream: TcpDirection): void {
    this.streams.delete(stream.key);
    const connection = connectionKey(stream.src, stream.srcPort, stream.dst, stream.dstPort);
    if (this.skippedConnections.has(connection)) return;
    this.skippedConnections.add(connection);
    this.notIpfix++;
    const reverseKey = `${stream.dst}|${stream.dstPort}|${stream.src}|${stream.srcPort}`;
    if (this.streams.get(reverseKey)?.kind === 'unknown') this.streams.delete(reverseKey);
  }

  private closeStream(stream: TcpDirection): void {
    this.streams.delete(stream.key);
    this.closedStreams.set(stream.key, stream.bytes.isn);
  }

  /** Reports bytes a stream left unframed when it ended (FIN, RST, new connection or end of file). */
  private finishStream(stream: TcpDirection): void {
    this.closeStream(stream);
    // Under 4 bytes on a port that is not IPFIX's: too few to call it IPFIX.
    if (stream.kind === 'unknown') {
      if (stream.head.length > 0) this.skipConnection(stream);
      return;
    }
    if (stream.bytes.waitingBytes > 0) {
      this.issue(
        'tcp-stream-gap',
        stream.lastFrame,
        `${describe(stream)}: ${stream.bytes.waitingBytes} bytes never delivered: a segment before them is missing`,
      );
    }
    if (stream.framer.buffered > 0) {
      this.issue(
        'tcp-stream-incomplete',
        stream.lastFrame,
        `${describe(stream)}: stream ends ${stream.framer.buffered} bytes into a message at offset ${stream.framer.streamOffset}`,
      );
    }
  }
}

/** One key for both directions of a TCP connection. */
function connectionKey(a: string, aPort: number, b: string, bPort: number): string {
  const one = `${a}|${aPort}`;
  const other = `${b}|${bPort}`;
  return one < other ? `${one}|${other}` : `${other}|${one}`;
}

/** The first 4 bytes of an IPFIX message header (RFC 7011 §3.1): version 10, a length that holds the header. */
function startsLikeIpfix(head: Buffer): boolean {
  return head.readUInt16BE(0) === IPFIX_VERSION && head.readUInt16BE(2) >= IPFIX_HEADER_LENGTH;
}

const describe = (s: TcpDirection): string => `tcp ${s.src}:${s.srcPort} -> ${s.dst}:${s.dstPort}`;

/** Reads a whole capture held in memory. */
export function readCapture(buf: Buffer, options: CaptureReaderOptions = {}): CaptureResult {
  const reader = new CaptureReader(options);
  const datagrams = reader.push(buf);
  for (const d of reader.end()) datagrams.push(d);
  return {
    datagrams,
    issues: [...reader.issues],
    frames: reader.frames,
    issueCounts: { ...reader.issueCounts },
    ignored: reader.ignored,
    notIpfixStreams: reader.notIpfixStreams,
  };
}

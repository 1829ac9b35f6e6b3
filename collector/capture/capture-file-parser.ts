// Turns the bytes of a pcap or pcapng file, fed in chunks of any size, into link-layer frames.
// It buffers only the record it is waiting for, so a capture of any size streams through in
// bounded memory, and it never reads past what it was given.

import type { CaptureIssueKind } from './captured-datagram.js';
import {
  PCAP_HEADER_LENGTH,
  detectPcapMagic,
  readPcapHeader,
  readPcapRecord,
  type PcapHeader,
} from './pcap-format.js';
import { isPcapngStart, pcapngTimestampMs, readPcapngBlock, type PcapngSection } from './pcapng-format.js';

/** One packet record of the file, before any link-layer decoding. */
export interface LinkFrame {
  /** 1-based packet number, as Wireshark numbers frames. */
  readonly frame: number;
  readonly tsMs: number;
  readonly linkType: number;
  readonly data: Buffer;
  readonly origLen: number;
}

export interface FrameSink {
  frame(frame: LinkFrame): void;
  issue(kind: CaptureIssueKind, frame: number, detail: string): void;
}

type State =
  | { readonly kind: 'detect' }
  | { readonly kind: 'pcap'; readonly header: PcapHeader }
  | { readonly kind: 'pcapng'; section: PcapngSection | null }
  | { readonly kind: 'stopped' };

export class CaptureFileParser {
  private state: State = { kind: 'detect' };
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed at the start of the buffer before the next step can make progress. */
  private need = 4;
  private frameCount = 0;
  private bytesSeen = 0;
  /** Timestamp of the last timed packet, for Simple Packet Blocks, which carry none. */
  private lastTsMs = 0;

  constructor(private readonly sink: FrameSink) {}

  /** Packet records seen so far. */
  get frames(): number {
    return this.frameCount;
  }

  /** Bytes pushed so far. */
  get bytesRead(): number {
    return this.bytesSeen;
  }

  /** The format of the file, once its first bytes have been seen. */
  get format(): 'pcap' | 'pcapng' | null {
    return this.state.kind === 'pcap' || this.state.kind === 'pcapng' ? this.state.kind : null;
  }

  push(chunk: Buffer): void {
    this.bytesSeen += chunk.length;
    if (this.state.kind === 'stopped' || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // Waiting for a long record: keep the chunks apart and join them once, not once per chunk.
    if (this.buffered < this.need) return;
    const buf =
      this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    let pos = 0;
    while (!this.stopped()) {
      const consumed = this.step(buf, pos);
      if (consumed === 0) break;
      pos += consumed;
    }
    const rest = this.stopped() ? Buffer.alloc(0) : buf.subarray(pos);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
  }

  /** Reports what the end of the file left unfinished. */
  end(): void {
    if (this.state.kind === 'detect') {
      const head = Buffer.concat(this.chunks, this.buffered);
      if (detectPcapMagic(head, 0) !== null) {
        this.sink.issue(
          'truncated-file',
          0,
          `pcap file header cut short: ${this.bytesSeen} of ${PCAP_HEADER_LENGTH} bytes`,
        );
      } else {
        this.sink.issue(
          'unknown-format',
          0,
          this.bytesSeen === 0 ? 'empty file' : `only ${this.bytesSeen} bytes: no pcap or pcapng header`,
        );
      }
    } else if (this.state.kind !== 'stopped' && this.buffered > 0) {
      this.sink.issue(
        'truncated-file',
        this.frameCount + 1,
        `file ends inside a record: ${this.buffered} of ${this.need} bytes present`,
      );
    }
    this.state = { kind: 'stopped' };
    this.chunks = [];
    this.buffered = 0;
  }

  /** Consumes one header or record at `pos`; returns the bytes consumed, 0 when it needs more. */
  private step(buf: Buffer, pos: number): number {
    const avail = buf.length - pos;
    const state = this.state;
    switch (state.kind) {
      case 'detect': {
        if (avail < 4) return this.wait(4);
        if (isPcapngStart(buf, pos)) {
          this.state = { kind: 'pcapng', section: null };
          return this.stepPcapng(buf, pos);
        }
        if (detectPcapMagic(buf, pos) === null) {
          this.stop(
            'unknown-format',
            0,
            `magic 0x${buf.readUInt32BE(pos).toString(16)} is neither pcap nor pcapng`,
          );
          return 0;
        }
        if (avail < PCAP_HEADER_LENGTH) return this.wait(PCAP_HEADER_LENGTH);
        const header = readPcapHeader(buf, pos);
        if (header === null) return this.stop('unknown-format', 0, 'unreadable pcap header');
        this.state = { kind: 'pcap', header };
        return PCAP_HEADER_LENGTH;
      }
      case 'pcap': {
        const r = readPcapRecord(buf, pos, state.header);
        if (r.kind === 'need') return this.wait(r.bytes);
        if (r.kind === 'fatal') return this.stop('bad-record', this.frameCount + 1, r.detail);
        this.frameCount++;
        this.lastTsMs = r.tsMs;
        this.sink.frame({
          frame: this.frameCount,
          tsMs: r.tsMs,
          linkType: state.header.linkType,
          data: r.data,
          origLen: r.origLen,
        });
        return r.consumed;
      }
      case 'pcapng':
        return this.stepPcapng(buf, pos);
      case 'stopped':
        return 0;
    }
  }

  private stepPcapng(buf: Buffer, pos: number): number {
    const state = this.state;
    if (state.kind !== 'pcapng') return 0;
    const r = readPcapngBlock(buf, pos, state.section);
    switch (r.kind) {
      case 'need':
        return this.wait(r.bytes);
      case 'fatal':
        return this.stop('bad-record', this.frameCount + 1, r.detail);
      case 'section':
        state.section = r.section;
        return r.consumed;
      case 'interface':
        state.section?.interfaces.push(r.iface);
        return r.consumed;
      case 'skip':
        if (r.detail !== null) this.sink.issue('bad-record', this.frameCount + 1, r.detail);
        return r.consumed;
      case 'bad-packet':
        this.frameCount++;
        this.sink.issue('bad-record', this.frameCount, r.detail);
        return r.consumed;
      case 'packet': {
        this.frameCount++;
        const iface = state.section?.interfaces[r.interfaceId];
        if (iface === undefined) {
          this.sink.issue(
            'unknown-interface',
            this.frameCount,
            `interface ${r.interfaceId} was never described`,
          );
          return r.consumed;
        }
        const tsMs = r.timestamp === null ? this.lastTsMs : pcapngTimestampMs(r.timestamp, iface);
        this.lastTsMs = tsMs;
        this.sink.frame({
          frame: this.frameCount,
          tsMs,
          linkType: iface.linkType,
          data: r.data,
          origLen: r.origLen,
        });
        return r.consumed;
      }
    }
  }

  /** A method, not a field test, so the compiler does not assume `step` leaves the state alone. */
  private stopped(): boolean {
    return this.state.kind === 'stopped';
  }

  private wait(bytes: number): number {
    this.need = bytes;
    return 0;
  }

  private stop(kind: CaptureIssueKind, frame: number, detail: string): number {
    this.sink.issue(kind, frame, detail);
    this.state = { kind: 'stopped' };
    return 0;
  }
}

// Capture bytes (pcap or pcapng, from a file or from tcpdump's stdout) to metered packets:
// collector/capture's file parser and link layers, then the probe's IP reader, with IP
// fragments put back together by collector/capture's reassembler before the ESP header is
// read (a non-first fragment carries none). Each packet reaches the meter once, with the
// number of fragments it arrived in.

import { CaptureFileParser } from '../collector/capture/capture-file-parser.js';
import type { LinkFrame } from '../collector/capture/capture-file-parser.js';
import { IpReassembler } from '../collector/capture/ip-reassembler.js';
import type { AbandonedDatagram } from '../collector/capture/ip-reassembler.js';
import { LINKTYPE_ETHERNET, decodeLinkLayer } from '../collector/capture/link-layer.js';
import type { FlowMeter } from './flow-meter.js';
import { PacketInfo, PacketKind, readIpPacket, readReassembled } from './ipsec-packet.js';

export interface PipelineCounters {
  frames: number;
  /** Records of the capture file that were unreadable, and the file's other issues. */
  captureIssues: number;
  notIp: number;
  fragments: number;
  reassembled: number;
  fragmentsAbandoned: number;
}

/** Fragments seen per datagram being reassembled: how many, and their bytes on the wire. */
interface FragmentTally {
  count: number;
  bytes: number;
}

/** Fragment tallies kept at most; the reassembler itself bounds what it holds. */
const MAX_TALLIES = 4096;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;

export class PacketPipeline {
  readonly counters: PipelineCounters = {
    frames: 0,
    captureIssues: 0,
    notIp: 0,
    fragments: 0,
    reassembled: 0,
    fragmentsAbandoned: 0,
  };
  readonly issues: string[] = [];
  readonly #parser: CaptureFileParser;
  readonly #reassembler = new IpReassembler();
  readonly #tallies = new Map<string, FragmentTally>();
  readonly #abandoned: AbandonedDatagram[] = [];
  readonly #info = new PacketInfo();
  readonly #meter: FlowMeter;

  constructor(meter: FlowMeter) {
    this.#meter = meter;
    this.#parser = new CaptureFileParser({
      frame: (f) => this.#frame(f),
      issue: (kind, frame, detail) => {
        this.counters.captureIssues++;
        if (this.issues.length < 100) this.issues.push(`${kind} at frame ${frame}: ${detail}`);
      },
    });
  }

  push(chunk: Buffer): void {
    this.#parser.push(chunk);
  }

  end(): void {
    this.#parser.end();
  }

  get bytesRead(): number {
    return this.#parser.bytesRead;
  }

  #frame(f: LinkFrame): void {
    this.counters.frames++;
    const data = f.data;
    // Untagged Ethernet, by far the commonest frame, without an object per frame.
    if (f.linkType === LINKTYPE_ETHERNET && data.length >= 34) {
      const etherType = data.readUInt16BE(12);
      if (etherType === ETHERTYPE_IPV4) return this.#ip(4, data, 14, f);
      if (etherType === ETHERTYPE_IPV6) return this.#ip(6, data, 14, f);
    }
    const link = decodeLinkLayer(f.linkType, data);
    if (link.kind !== 'ip') {
      this.counters.notIp++;
      return;
    }
    this.#ip(link.ipVersion, link.packet, 0, f);
  }

  #ip(linkVersion: 4 | 6 | null, buf: Buffer, at: number, f: LinkFrame): void {
    const info = this.#info;
    readIpPacket(linkVersion, buf, at, info);
    if (info.kind !== PacketKind.Fragment) {
      this.#meter.packet(info, f.tsMs, 0);
      return;
    }
    const frag = info.fragment!;
    this.counters.fragments++;
    let tally = this.#tallies.get(frag.key);
    if (tally === undefined) {
      if (this.#tallies.size >= MAX_TALLIES) this.#tallies.clear();
      tally = { count: 0, bytes: 0 };
      this.#tallies.set(frag.key, tally);
    }
    tally.count++;
    tally.bytes += info.ipLength;
    const r = this.#reassembler.add(frag, f.frame, f.tsMs, this.#abandoned);
    if (this.#abandoned.length > 0) {
      this.counters.fragmentsAbandoned += this.#abandoned.length;
      this.#abandoned.length = 0;
    }
    if (r.kind === 'pending') return;
    this.#tallies.delete(frag.key);
    if (r.kind !== 'complete') {
      this.counters.fragmentsAbandoned++;
      return;
    }
    this.counters.reassembled++;
    readReassembled(r.ipVersion, r.src, r.dst, tally.bytes, r.nextHeader, r.payload, info);
    this.#meter.packet(info, f.tsMs, tally.count);
  }
}

// What a capture file yields: the export datagrams in it, and what went wrong on the way.
// These records are the hand-off between a capture and everything that decodes, stores or
// replays export traffic, so they carry nothing but addresses, a time and the bytes.

/** One export datagram taken from a capture. */
export interface CapturedDatagram {
  /** Capture timestamp of the frame that carried (UDP) or completed (TCP) it, epoch ms (fractional allowed). */
  readonly tsMs: number;
  readonly transport: 'udp' | 'tcp';
  /** Canonical text addresses (IPv4 dotted quad, IPv6 RFC 5952). */
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** UDP: the whole UDP payload. TCP: one complete IPFIX message (RFC 7011 §10.4). */
  readonly payload: Buffer;
}

/** Every kind of problem the capture reader counts; `CaptureIssue.kind` holds one of them. */
export type CaptureIssueKind =
  | 'unknown-format'
  | 'truncated-file'
  | 'bad-record'
  | 'unknown-interface'
  | 'unknown-link-type'
  | 'truncated-frame'
  | 'malformed-link-header'
  | 'malformed-ip'
  | 'truncated-packet'
  | 'ip-fragment-incomplete'
  | 'ip-fragment-overlap'
  | 'ip-fragment-too-large'
  | 'malformed-udp'
  | 'malformed-tcp'
  | 'tcp-buffer-overflow'
  | 'tcp-stream-gap'
  | 'tcp-stream-incomplete'
  | 'ipfix-framing'
  /** A bug in the reader itself, caught so one odd frame cannot stop a whole capture. */
  | 'internal-error';

/** One counted problem; `frame` is the 1-based packet number as Wireshark shows it (0: the file itself). */
export interface CaptureIssue {
  readonly kind: string;
  readonly frame: number;
  readonly detail: string;
}

export interface CaptureResult {
  readonly datagrams: CapturedDatagram[];
  /** The first issues (up to the reader's `maxIssues`); `issueCounts` counts all of them. */
  readonly issues: CaptureIssue[];
  /** Packet records read from the file (pcap records; pcapng EPB, SPB and OPB blocks). */
  readonly frames: number;
  /** Issues per kind, including those beyond `maxIssues`. */
  readonly issueCounts: Readonly<Record<string, number>>;
  /** Well-formed frames that carried neither UDP nor TCP (ARP, ICMP, ...), or were filtered out by port. */
  readonly ignored: number;
  /** TCP stream directions skipped because they carry no IPFIX (see CaptureReaderOptions.ipfixTcpPorts). */
  readonly notIpfixStreams: number;
}

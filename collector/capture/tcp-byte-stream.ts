// Rebuilds one direction of a TCP connection as the receiver's application saw it: bytes in
// sequence-number order (RFC 9293 §3.4), each byte once, however the capture recorded the
// segments (retransmitted, duplicated, overlapping or out of order). Sequence numbers are
// compared modulo 2^32 (RFC 9293 §3.4.1), so a stream may wrap around.

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;

/** Bytes held for segments that arrived ahead of a gap; past this, the gap will not be filled. */
export const DEFAULT_MAX_OUT_OF_ORDER_BYTES = 4 * 1024 * 1024;
const MAX_OUT_OF_ORDER_SEGMENTS = 4096;

export interface SegmentOutcome {
  /** Bytes that became contiguous with this segment, in order. */
  readonly data: Buffer[];
  /** The stream is over: its FIN was reached, or a RST arrived. */
  readonly ended: boolean;
  /** Set when the stream cannot go on (too much out-of-order data). */
  readonly error: string | null;
}

/** Signed distance from `b` to `a` in sequence space. */
const seqDiff = (a: number, b: number): number => (a - b) | 0;

export class TcpByteStream {
  /** Initial sequence number, when the SYN was seen. */
  private initialSeq: number | null = null;
  /** Sequence number of the next byte the stream expects. */
  private nextSeq: number | null = null;
  private readonly outOfOrder = new Map<number, Buffer>();
  private outOfOrderBytes = 0;
  /** Sequence number the FIN occupies, once a FIN was seen. */
  private finSeq: number | null = null;
  private done = false;
  private failure: string | null = null;

  constructor(private readonly maxOutOfOrderBytes = DEFAULT_MAX_OUT_OF_ORDER_BYTES) {}

  /** The SYN's sequence number, or null when the capture began after the handshake. */
  get isn(): number | null {
    return this.initialSeq;
  }

  get ended(): boolean {
    return this.done;
  }

  /** Bytes held behind a gap in the sequence space (at the end: bytes the gap kept from being delivered). */
  get waitingBytes(): number {
    return this.outOfOrderBytes;
  }

  segment(seq: number, flags: number, payload: Buffer): SegmentOutcome {
    const data: Buffer[] = [];
    if (this.done || this.failure !== null) return { data, ended: this.done, error: this.failure };
    let start = seq >>> 0;
    if ((flags & TCP_SYN) !== 0) {
      // The SYN occupies one sequence number; data sent with it (TCP Fast Open) follows it.
      if (this.initialSeq === null) {
        this.initialSeq = start;
        if (this.nextSeq === null) this.nextSeq = (start + 1) >>> 0;
      }
      start = (start + 1) >>> 0;
    }
    // Without a SYN in the capture, the first segment with data (or a FIN) starts the stream.
    if (this.nextSeq === null && (payload.length > 0 || (flags & TCP_FIN) !== 0)) this.nextSeq = start;
    if ((flags & TCP_FIN) !== 0 && this.finSeq === null) this.finSeq = (start + payload.length) >>> 0;

    if (payload.length > 0 && this.nextSeq !== null) {
      const ahead = seqDiff(start, this.nextSeq);
      if (ahead <= 0) {
        // In order, or a retransmission whose head was delivered already: keep only the new tail.
        if (payload.length > -ahead) this.deliver(payload.subarray(-ahead), data);
        this.drain(data);
      } else {
        this.hold(start, payload);
      }
    }
    if ((flags & TCP_RST) !== 0) this.done = true;
    if (this.finSeq !== null && this.nextSeq !== null && seqDiff(this.nextSeq, this.finSeq) >= 0)
      this.done = true;
    // Segments still held cannot be delivered any more; `waitingBytes` keeps their count for the caller.
    if (this.done) this.outOfOrder.clear();
    return { data, ended: this.done, error: this.failure };
  }

  private deliver(bytes: Buffer, data: Buffer[]): void {
    data.push(bytes);
    this.nextSeq = ((this.nextSeq ?? 0) + bytes.length) >>> 0;
  }

  /** Delivers held segments that the stream has now reached. */
  private drain(data: Buffer[]): void {
    let progressed = true;
    while (progressed && this.outOfOrder.size > 0) {
      progressed = false;
      for (const [start, bytes] of this.outOfOrder) {
        const ahead = seqDiff(start, this.nextSeq ?? 0);
        if (ahead > 0) continue;
        this.outOfOrder.delete(start);
        this.outOfOrderBytes -= bytes.length;
        if (bytes.length > -ahead) this.deliver(bytes.subarray(-ahead), data);
        progressed = true;
      }
    }
  }

  private hold(start: number, payload: Buffer): void {
    const existing = this.outOfOrder.get(start);
    if (existing !== undefined && existing.length >= payload.length) return;
    if (
      this.outOfOrderBytes + payload.length - (existing?.length ?? 0) > this.maxOutOfOrderBytes ||
      (existing === undefined && this.outOfOrder.size >= MAX_OUT_OF_ORDER_SEGMENTS)
    ) {
      this.failure = `more than ${this.maxOutOfOrderBytes} bytes or ${MAX_OUT_OF_ORDER_SEGMENTS} segments behind a gap at sequence ${this.nextSeq}`;
      this.outOfOrder.clear();
      this.outOfOrderBytes = 0;
      return;
    }
    this.outOfOrderBytes += payload.length - (existing?.length ?? 0);
    this.outOfOrder.set(start, payload);
  }
}

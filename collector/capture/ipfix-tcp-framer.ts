// Cuts an IPFIX-over-TCP byte stream into messages. Over TCP there is no datagram boundary: the
// 16-byte message header's Length field (offset 2, RFC 7011 §3.1) is the only framing, and
// RFC 7011 §10.4 has the collector rely on it. A length below the header size or a version other
// than 10 means the stream has lost its framing for good, so the framer stops and the caller
// closes the connection (RFC 7011 §10.4.1 lets the collector reset the connection).

/** Bytes of the IPFIX message header (RFC 7011 §3.1). */
export const IPFIX_HEADER_LENGTH = 16;
/** The Length field is 16 bits, so no message is longer. */
export const IPFIX_MAX_MESSAGE_LENGTH = 65535;
const IPFIX_VERSION = 10;

export interface FramerOutput {
  /** Messages completed by this push, in stream order, each a buffer of its own. */
  readonly messages: Buffer[];
  /** Why the stream cannot be framed; once set, it is returned by every later push. */
  readonly error: string | null;
}

export class IpfixTcpFramer {
  /** Holds the one incomplete message; allocated on first need, never grown past 65535 bytes. */
  private partial: Buffer | null = null;
  private filled = 0;
  /** Length of the message being assembled, once its first 4 bytes are known. */
  private expected = 0;
  private failure: string | null = null;
  private offset = 0;

  /** The reason the framer stopped, or null while it is healthy. */
  get error(): string | null {
    return this.failure;
  }

  /** Bytes of an incomplete message held back, waiting for the rest. */
  get buffered(): number {
    return this.filled;
  }

  /** Stream offset of the first byte not yet framed: where the next message starts. */
  get streamOffset(): number {
    return this.offset;
  }

  push(chunk: Buffer): FramerOutput {
    const messages: Buffer[] = [];
    if (this.failure !== null) return { messages, error: this.failure };
    let pos = 0;
    while (pos < chunk.length) {
      if (this.filled === 0 && chunk.length - pos >= 4) {
        // Fast path: the header starts in this chunk, so whole messages need no staging copy.
        const length = this.check(chunk.readUInt16BE(pos), chunk.readUInt16BE(pos + 2));
        if (length === 0) break;
        if (chunk.length - pos >= length) {
          messages.push(Buffer.from(chunk.subarray(pos, pos + length)));
          pos += length;
          this.offset += length;
          continue;
        }
        this.expected = length;
      }
      const staging = (this.partial ??= Buffer.alloc(IPFIX_MAX_MESSAGE_LENGTH));
      if (this.filled < 4) {
        const take = Math.min(4 - this.filled, chunk.length - pos);
        chunk.copy(staging, this.filled, pos, pos + take);
        this.filled += take;
        pos += take;
        if (this.filled < 4) break;
        const length = this.check(staging.readUInt16BE(0), staging.readUInt16BE(2));
        if (length === 0) break;
        this.expected = length;
      }
      const take = Math.min(this.expected - this.filled, chunk.length - pos);
      chunk.copy(staging, this.filled, pos, pos + take);
      this.filled += take;
      pos += take;
      if (this.filled === this.expected) {
        messages.push(Buffer.from(staging.subarray(0, this.expected)));
        this.offset += this.expected;
        this.filled = 0;
        this.expected = 0;
      }
    }
    return { messages, error: this.failure };
  }

  /** Validates a header's version and length; returns the length, or 0 after recording the failure. */
  private check(version: number, length: number): number {
    if (version !== IPFIX_VERSION) {
      this.fail(
        `version ${version} at stream offset ${this.offset}, expected ${IPFIX_VERSION} (RFC 7011 §3.1)`,
      );
      return 0;
    }
    if (length < IPFIX_HEADER_LENGTH) {
      this.fail(
        `message length ${length} at stream offset ${this.offset} is shorter than the ${IPFIX_HEADER_LENGTH}-byte header (RFC 7011 §3.1)`,
      );
      return 0;
    }
    return length;
  }

  private fail(reason: string): void {
    this.failure = reason;
    // Nothing more will be framed, so the staged bytes are of no use to anyone.
    this.partial = null;
    this.filled = 0;
  }
}

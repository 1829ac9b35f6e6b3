// The incremental reader as an async generator, for `ingest` on captures too large to hold in
// memory: each batch says how far into the file the reader is, so the caller can show progress.

import type { CaptureIssue, CapturedDatagram } from './captured-datagram.js';
import { CaptureReader, type CaptureReaderOptions } from './read-capture.js';

export interface CaptureBatch {
  /** Datagrams completed since the previous batch, in capture order. */
  readonly datagrams: CapturedDatagram[];
  /** Issues recorded since the previous batch (up to the reader's `maxIssues` in all). */
  readonly issues: CaptureIssue[];
  /** Bytes of the file consumed so far. */
  readonly bytesRead: number;
  /** Packet records read so far. */
  readonly frames: number;
  /** True for the last batch, produced after the source ended; `reader` then holds the totals. */
  readonly final: boolean;
  readonly reader: CaptureReader;
}

/**
 * Reads a capture from any chunked source (for instance `fs.createReadStream(path)`), one batch
 * per chunk plus a final one. Errors of the source itself (an unreadable file) propagate; bad
 * capture content never throws.
 */
export async function* readCaptureStream(
  source: AsyncIterable<Buffer | Uint8Array>,
  options: CaptureReaderOptions = {},
): AsyncGenerator<CaptureBatch, void, undefined> {
  const reader = new CaptureReader(options);
  let issuesSeen = 0;
  const batch = (datagrams: CapturedDatagram[], final: boolean): CaptureBatch => {
    const issues = reader.issues.slice(issuesSeen);
    issuesSeen = reader.issues.length;
    return { datagrams, issues, bytesRead: reader.bytesRead, frames: reader.frames, final, reader };
  };
  for await (const chunk of source) {
    yield batch(reader.push(chunk), false);
  }
  yield batch(reader.end(), true);
}

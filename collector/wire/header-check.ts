import { u16 } from './byte-read.js';
import type { DecodedMessageBuilder } from './decoded-message.js';

/**
 * The first check of every decoder: the datagram holds at least a whole header and says
 * the version this decoder reads. Otherwise the issue is recorded (`truncated` or
 * `unknown-version`, no domain known yet) and the decoder returns at once.
 */
export function headerFits(
  out: DecodedMessageBuilder,
  bytes: Uint8Array,
  exporter: string,
  headerLength: number,
  version: number,
): boolean {
  if (bytes.length < headerLength) {
    out.issues.push({
      exporter,
      domainId: null,
      setId: null,
      kind: 'truncated',
      needed: headerLength,
      available: bytes.length,
    });
    return false;
  }
  const found = u16(bytes, 0);
  if (found !== version) {
    out.issues.push({ exporter, domainId: null, setId: null, kind: 'unknown-version', version: found });
    return false;
  }
  return true;
}

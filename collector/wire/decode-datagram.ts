// Version dispatch: NetFlow v5, v9 and IPFIX all start with a 16-bit version number, so
// one port can take all three (as nfcapd does).

import { u16 } from './byte-read.js';
import { emptyMessage } from './decoded-message.js';
import type { DecodedMessage, RecordSink } from './decoded-message.js';
import { decodeIpfix } from './ipfix.js';
import { decodeNetflowV5 } from './netflow-v5.js';
import { decodeNetflowV9 } from './netflow-v9.js';
import type { TemplateCache } from './template-cache.js';

/**
 * Decodes any supported version; with a sink, flow records are streamed instead of
 * collected. `transport` is 'tcp' for IPFIX messages framed from a TCP stream.
 */
export function decodeDatagram(
  bytes: Uint8Array,
  exporter: string,
  cache: TemplateCache,
  sink?: RecordSink,
  transport: 'udp' | 'tcp' = 'udp',
): DecodedMessage {
  if (bytes.length < 2) {
    const out = emptyMessage();
    out.issues.push({
      exporter,
      domainId: null,
      setId: null,
      kind: 'truncated',
      needed: 2,
      available: bytes.length,
    });
    return out;
  }
  const version = u16(bytes, 0);
  switch (version) {
    case 5:
      return decodeNetflowV5(bytes, exporter, sink);
    case 9:
      return decodeNetflowV9(bytes, exporter, cache, sink);
    case 10:
      return decodeIpfix(bytes, exporter, cache, sink, transport);
    default: {
      const out = emptyMessage();
      out.issues.push({ exporter, domainId: null, setId: null, kind: 'unknown-version', version });
      return out;
    }
  }
}

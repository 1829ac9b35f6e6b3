// IPFIX message decoder (RFC 7011). Pure: bytes + exporter + template cache in, decoded
// message out; never throws, never reads past the message.

import { u16, u32 } from './byte-read.js';
import { emptyMessage } from './decoded-message.js';
import type { DecodedMessage, DecodedMessageBuilder, RecordSink } from './decoded-message.js';
import { decodeDataSet, learnTemplateRecord } from './set-decoding.js';
import { headerFits } from './header-check.js';
import type { FieldSpecifier } from './template.js';
import type { DomainSession, TemplateCache } from './template-cache.js';

const HEADER_LENGTH = 16;
const TEMPLATE_SET_ID = 2;
const OPTIONS_TEMPLATE_SET_ID = 3;

/**
 * Decodes one IPFIX message. Over UDP a datagram carries one message (RFC 7011 §10.3.3);
 * bytes after the message length are reported as trailing, not decoded. Over TCP the
 * caller frames messages by their length field and passes one at a time, with
 * `transport` 'tcp' so that the templates learned do not expire.
 */
export function decodeIpfix(
  bytes: Uint8Array,
  exporter: string,
  cache: TemplateCache,
  sink?: RecordSink,
  transport: 'udp' | 'tcp' = 'udp',
): DecodedMessage {
  const out = emptyMessage();
  const available = bytes.length;
  if (!headerFits(out, bytes, exporter, HEADER_LENGTH, 10)) return out;
  const length = u16(bytes, 2);
  const domainId = u32(bytes, 12);
  out.header = {
    version: 10,
    length,
    exportTime: u32(bytes, 4),
    sequenceNumber: u32(bytes, 8),
    observationDomainId: domainId,
  };
  out.domainId = domainId;
  // RFC 7011 §3.1: the length covers header and sets. A message longer than the datagram
  // was cut short on the way; one shorter than its header is nonsense. Either way no set
  // boundary can be trusted.
  if (length < HEADER_LENGTH || length > available) {
    out.issues.push({
      exporter,
      domainId,
      setId: null,
      kind: 'bad-message-length',
      declared: length,
      available,
    });
    return out;
  }
  if (length < available) {
    out.issues.push({ exporter, domainId, setId: null, kind: 'trailing-bytes', bytes: available - length });
  }
  sink?.begin(out.header, domainId);
  const session = cache.session(exporter, 10, domainId, transport);
  let pos = HEADER_LENGTH;
  while (pos < length) {
    const remaining = length - pos;
    if (remaining < 4) {
      out.issues.push({ exporter, domainId, setId: null, kind: 'trailing-bytes', bytes: remaining });
      break;
    }
    const setId = u16(bytes, pos);
    const setLength = u16(bytes, pos + 2);
    // RFC 7011 §3.3.2 / nfdump: a set length of 0 or one that overruns the message leaves
    // no way to find the next set, so the rest of the message is dropped.
    if (setLength === 0) {
      out.issues.push({ exporter, domainId, setId, kind: 'zero-length-set' });
      break;
    }
    if (setLength < 4) {
      out.issues.push({ exporter, domainId, setId, kind: 'short-set', declared: setLength });
      break;
    }
    if (setLength > remaining) {
      out.issues.push({
        exporter,
        domainId,
        setId,
        kind: 'set-overruns-packet',
        declared: setLength,
        remaining,
      });
      break;
    }
    const start = pos + 4;
    const end = pos + setLength;
    if (setId === TEMPLATE_SET_ID || setId === OPTIONS_TEMPLATE_SET_ID) {
      readTemplateSet(out, session, bytes, start, end, setId);
    } else if (setId >= 256) {
      decodeDataSet(out, session, bytes, start, end, setId, sink);
    } else {
      // RFC 7011 §3.3.2: 0 and 1 are not used (v9's ids), 4-255 are reserved.
      out.issues.push({ exporter, domainId, setId, kind: 'reserved-set-id' });
    }
    pos = end;
  }
  return out;
}

/** Template set (2) or options template set (3), RFC 7011 §3.4.1-3.4.2 and §8.1. */
function readTemplateSet(
  out: DecodedMessageBuilder,
  session: DomainSession,
  bytes: Uint8Array,
  start: number,
  end: number,
  setId: number,
): void {
  const options = setId === OPTIONS_TEMPLATE_SET_ID;
  const location = { exporter: session.exporter, domainId: session.domainId, setId };
  let pos = start;
  // Fewer than 4 bytes left cannot be a record header: padding (RFC 7011 §3.3.1).
  while (end - pos >= 4) {
    const templateId = u16(bytes, pos);
    const fieldCount = u16(bytes, pos + 2);
    if (fieldCount === 0) {
      // §8.1: a withdrawal; template id 2 (3 in an options template set) withdraws all.
      out.templateRecords++;
      if (templateId === setId) out.templatesWithdrawn += session.withdrawAll(options);
      else if (session.withdraw(templateId)) out.templatesWithdrawn++;
      pos += 4;
      continue;
    }
    let p = pos + 4;
    let scopeFieldCount = 0;
    if (options) {
      if (end - p < 2) {
        out.issues.push({ ...location, kind: 'bad-template', templateId, reason: 'field-count-past-end' });
        return;
      }
      scopeFieldCount = u16(bytes, p);
      p += 2;
    }
    // Each field specifier takes at least 4 bytes: refuse counts the set cannot hold
    // before allocating anything for them.
    if (fieldCount * 4 > end - p) {
      out.issues.push({ ...location, kind: 'bad-template', templateId, reason: 'field-count-past-end' });
      return;
    }
    const fields: FieldSpecifier[] = [];
    for (let i = 0; i < fieldCount; i++) {
      if (end - p < 4) {
        out.issues.push({ ...location, kind: 'bad-template', templateId, reason: 'field-count-past-end' });
        return;
      }
      let elementId = u16(bytes, p);
      const length = u16(bytes, p + 2);
      p += 4;
      let enterprise = 0;
      // §3.2: the enterprise bit announces a 4-byte Private Enterprise Number.
      if (elementId & 0x8000) {
        if (end - p < 4) {
          out.issues.push({
            ...location,
            kind: 'bad-template',
            templateId,
            reason: 'enterprise-number-missing',
          });
          return;
        }
        enterprise = u32(bytes, p);
        p += 4;
        elementId &= 0x7fff;
      }
      fields.push({ elementId, length, enterprise });
    }
    out.templateRecords++;
    learnTemplateRecord(out, session, { templateId, options, scopeFieldCount, fields }, setId);
    pos = p;
  }
}

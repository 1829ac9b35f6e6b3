// NetFlow v9 packet decoder (RFC 3954). Pure: bytes + exporter + template cache in,
// decoded message out; never throws, never reads past the datagram.

import { u16, u32 } from './byte-read.js';
import { emptyMessage } from './decoded-message.js';
import type { DecodedMessage, DecodedMessageBuilder, RecordSink } from './decoded-message.js';
import { decodeDataSet, learnTemplateRecord } from './set-decoding.js';
import { headerFits } from './header-check.js';
import type { FieldSpecifier } from './template.js';
import type { DomainSession, TemplateCache } from './template-cache.js';

const HEADER_LENGTH = 20;
const TEMPLATE_FLOWSET_ID = 0;
const OPTIONS_TEMPLATE_FLOWSET_ID = 1;

/**
 * Decodes one NetFlow v9 export packet. The header count is not trusted (softflowd
 * counts only flow records, RFC 3954 §5.1 says all records): every flowset present is
 * decoded and a disagreement is reported as a `count-mismatch` anomaly.
 */
export function decodeNetflowV9(
  bytes: Uint8Array,
  exporter: string,
  cache: TemplateCache,
  sink?: RecordSink,
): DecodedMessage {
  const out = emptyMessage();
  const length = bytes.length;
  if (!headerFits(out, bytes, exporter, HEADER_LENGTH, 9)) return out;
  const count = u16(bytes, 2);
  const sourceId = u32(bytes, 16);
  out.header = {
    version: 9,
    count,
    sysUptimeMs: u32(bytes, 4),
    unixSecs: u32(bytes, 8),
    sequenceNumber: u32(bytes, 12),
    sourceId,
  };
  out.domainId = sourceId;
  sink?.begin(out.header, sourceId);
  const session = cache.session(exporter, 9, sourceId);
  let pos = HEADER_LENGTH;
  while (pos < length) {
    const remaining = length - pos;
    if (remaining < 4) {
      if (!allZero(bytes, pos, length)) {
        out.issues.push({
          exporter,
          domainId: sourceId,
          setId: null,
          kind: 'trailing-bytes',
          bytes: remaining,
        });
      }
      break;
    }
    const setId = u16(bytes, pos);
    const setLength = u16(bytes, pos + 2);
    // As nfdump does: a flowset length of 0 or one past the datagram leaves no way to find
    // the next flowset, so the rest of the packet is dropped.
    if (setLength === 0) {
      out.issues.push({ exporter, domainId: sourceId, setId, kind: 'zero-length-set' });
      break;
    }
    if (setLength < 4) {
      out.issues.push({ exporter, domainId: sourceId, setId, kind: 'short-set', declared: setLength });
      break;
    }
    if (setLength > remaining) {
      out.issues.push({
        exporter,
        domainId: sourceId,
        setId,
        kind: 'set-overruns-packet',
        declared: setLength,
        remaining,
      });
      break;
    }
    const start = pos + 4;
    const end = pos + setLength;
    if (setId === TEMPLATE_FLOWSET_ID) readTemplateFlowSet(out, session, bytes, start, end);
    else if (setId === OPTIONS_TEMPLATE_FLOWSET_ID)
      readOptionsTemplateFlowSet(out, session, bytes, start, end);
    else if (setId >= 256) decodeDataSet(out, session, bytes, start, end, setId, sink);
    // RFC 3954 §5.3: flowset ids 2-255 are reserved.
    else out.issues.push({ exporter, domainId: sourceId, setId, kind: 'reserved-set-id' });
    pos = end;
  }
  const found =
    out.templateRecords + out.dataRecordCount + out.optionsRecords.length + out.missingTemplateRecords;
  if (found !== count) {
    out.issues.push({
      exporter,
      domainId: sourceId,
      setId: null,
      kind: 'count-mismatch',
      declared: count,
      found,
    });
  }
  return out;
}

function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Template flowset (id 0), RFC 3954 §5.2. */
function readTemplateFlowSet(
  out: DecodedMessageBuilder,
  session: DomainSession,
  bytes: Uint8Array,
  start: number,
  end: number,
): void {
  const location = { exporter: session.exporter, domainId: session.domainId, setId: TEMPLATE_FLOWSET_ID };
  let pos = start;
  while (end - pos >= 4) {
    const templateId = u16(bytes, pos);
    const fieldCount = u16(bytes, pos + 2);
    // Zero padding at the end of the flowset (RFC 3954 §5.2 pads to 4-byte boundaries).
    if (templateId === 0 && fieldCount === 0) break;
    const p = pos + 4;
    if (fieldCount * 4 > end - p) {
      out.issues.push({ ...location, kind: 'bad-template', templateId, reason: 'field-count-past-end' });
      return;
    }
    // RFC 3954 has no enterprise bit: the whole 16 bits are the field type.
    const fields: FieldSpecifier[] = new Array<FieldSpecifier>(fieldCount);
    for (let i = 0; i < fieldCount; i++) {
      fields[i] = { elementId: u16(bytes, p + 4 * i), length: u16(bytes, p + 4 * i + 2), enterprise: 0 };
    }
    out.templateRecords++;
    learnTemplateRecord(
      out,
      session,
      { templateId, options: false, scopeFieldCount: 0, fields },
      TEMPLATE_FLOWSET_ID,
    );
    pos = p + fieldCount * 4;
  }
}

/** Options template flowset (id 1), RFC 3954 §6.1: lengths in bytes, scope fields first. */
function readOptionsTemplateFlowSet(
  out: DecodedMessageBuilder,
  session: DomainSession,
  bytes: Uint8Array,
  start: number,
  end: number,
): void {
  const location = {
    exporter: session.exporter,
    domainId: session.domainId,
    setId: OPTIONS_TEMPLATE_FLOWSET_ID,
  };
  let pos = start;
  // Fewer than 6 bytes cannot hold an options template header: padding.
  while (end - pos >= 6) {
    const templateId = u16(bytes, pos);
    const scopeLength = u16(bytes, pos + 2);
    const optionLength = u16(bytes, pos + 4);
    if (templateId === 0 && scopeLength === 0 && optionLength === 0) break;
    if (scopeLength % 4 !== 0 || optionLength % 4 !== 0) {
      out.issues.push({ ...location, kind: 'bad-template', templateId, reason: 'scope-length-invalid' });
      return;
    }
    const p = pos + 6;
    if (scopeLength + optionLength > end - p) {
      out.issues.push({ ...location, kind: 'bad-template', templateId, reason: 'field-count-past-end' });
      return;
    }
    const fieldCount = (scopeLength + optionLength) / 4;
    const fields: FieldSpecifier[] = new Array<FieldSpecifier>(fieldCount);
    for (let i = 0; i < fieldCount; i++) {
      fields[i] = { elementId: u16(bytes, p + 4 * i), length: u16(bytes, p + 4 * i + 2), enterprise: 0 };
    }
    out.templateRecords++;
    learnTemplateRecord(
      out,
      session,
      { templateId, options: true, scopeFieldCount: scopeLength / 4, fields },
      OPTIONS_TEMPLATE_FLOWSET_ID,
    );
    pos = p + scopeLength + optionLength;
  }
}

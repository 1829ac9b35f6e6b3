// Set-level steps NetFlow v9 and IPFIX share: learning a template record and decoding a
// data set with the template it names.

import { DataRecord } from './data-record.js';
import { readFlowRecord, readOptionsRecord } from './decode-plan.js';
import type { DecodedMessageBuilder, RecordSink } from './decoded-message.js';
import type { TemplateRecord } from './template.js';
import type { DomainSession } from './template-cache.js';

/** Hands a parsed template record to the cache and counts the outcome. */
export function learnTemplateRecord(
  out: DecodedMessageBuilder,
  session: DomainSession,
  record: TemplateRecord,
  setId: number,
): void {
  const location = { exporter: session.exporter, domainId: session.domainId, setId };
  const result = session.learn(record);
  switch (result.outcome) {
    case 'new':
    case 'changed':
      out.templatesLearned++;
      break;
    case 'refreshed':
      out.templatesRefreshed++;
      break;
    case 'rejected':
      out.issues.push({
        ...location,
        kind: 'bad-template',
        templateId: record.templateId,
        reason: result.reason,
      });
      return;
    case 'limit':
      out.issues.push({ ...location, kind: 'template-limit', templateId: record.templateId });
      return;
  }
  for (const problem of result.lengthProblems) {
    out.issues.push({ ...location, kind: 'bad-field-length', templateId: record.templateId, ...problem });
  }
}

/**
 * Decodes the data set `bytes[start, end)` whose set id is its template id (RFC 7011
 * §3.3.2, RFC 3954 §5.3). Without a live template the set is dropped and counted.
 * Bytes after the last whole record are padding (RFC 7011 §3.3.1); non-zero padding is
 * reported but the records stay.
 */
export function decodeDataSet(
  out: DecodedMessageBuilder,
  session: DomainSession,
  bytes: Uint8Array,
  start: number,
  end: number,
  setId: number,
  sink: RecordSink | undefined,
): void {
  const length = end - start;
  if (length <= 0) return;
  const template = session.template(setId);
  if (!template) {
    const previous = session.previousRecordLength(setId);
    const estimatedRecords = previous ? Math.max(1, Math.floor(length / previous)) : 1;
    out.missingTemplateRecords += estimatedRecords;
    out.issues.push({
      exporter: session.exporter,
      domainId: session.domainId,
      setId,
      kind: 'template-missing',
      templateId: setId,
      bytes: length,
      estimatedRecords,
      estimate: previous ? 'previous-definition' : 'at-least-one',
    });
    return;
  }
  const min = template.minRecordLength;
  let pos = start;
  if (template.optionFields) {
    while (end - pos >= min) {
      const decoded = readOptionsRecord(template, bytes, pos, end);
      if (!decoded) return truncatedRecord(out, session, setId);
      out.optionsRecords.push(decoded.record);
      session.applyOptions(decoded.record);
      pos = decoded.next;
    }
  } else if (sink) {
    const record = template.scratch;
    let count = 0;
    while (end - pos >= min) {
      const next = readFlowRecord(template, bytes, pos, end, record);
      if (next < 0) {
        out.dataRecordCount += count;
        return truncatedRecord(out, session, setId);
      }
      sink.record(record);
      count++;
      pos = next;
    }
    out.dataRecordCount += count;
  } else {
    const records = out.records;
    while (end - pos >= min) {
      const record = new DataRecord();
      record.templateId = setId;
      const next = readFlowRecord(template, bytes, pos, end, record);
      if (next < 0) return truncatedRecord(out, session, setId);
      records.push(record);
      out.dataRecordCount++;
      pos = next;
    }
  }
  for (let i = pos; i < end; i++) {
    if (bytes[i] !== 0) {
      out.issues.push({
        exporter: session.exporter,
        domainId: session.domainId,
        setId,
        kind: 'bad-padding',
        templateId: setId,
        bytes: end - pos,
      });
      return;
    }
  }
}

function truncatedRecord(out: DecodedMessageBuilder, session: DomainSession, setId: number): void {
  out.issues.push({
    exporter: session.exporter,
    domainId: session.domainId,
    setId,
    kind: 'truncated-record',
    templateId: setId,
  });
}

// The public face of collector/wire: pure decoders for NetFlow v5, v9 and IPFIX, the
// template cache they share, and the types they return.

export { decodeDatagram } from './decode-datagram.js';
export { decodeNetflowV5 } from './netflow-v5.js';
export { decodeNetflowV9 } from './netflow-v9.js';
export { decodeIpfix } from './ipfix.js';
export { DataRecord } from './data-record.js';
export type { OptionsField, OptionsRecord } from './data-record.js';
export type {
  DecodedMessage,
  IpfixHeader,
  MessageHeader,
  NetflowV5Header,
  NetflowV9Header,
  RecordSink,
} from './decoded-message.js';
export { STRUCTURAL_ISSUES } from './issues.js';
export type { BadTemplateReason, IssueLocation, WireIssue, WireIssueKind } from './issues.js';
export { DomainSession, TemplateCache } from './template-cache.js';
export type {
  DomainOptions,
  LearnOutcome,
  OptionsStateSnapshot,
  TemplateCacheChange,
  TemplateCacheOptions,
  TemplateEntrySnapshot,
  TemplateSnapshot,
} from './template-cache.js';
export type { FieldSpecifier, TemplateRecord, TemplateVersion } from './template.js';
export {
  FRAGMENT_FLAG_DONT_FRAGMENT,
  FRAGMENT_FLAG_MORE_FRAGMENTS,
  REVERSE_PEN,
  TUNNELFLOW_PEN,
  elementMeaning,
  ianaElement,
} from './elements.js';
export type { InformationElement, RecordSlot } from './elements.js';

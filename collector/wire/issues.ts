// What can be wrong with a datagram. Decoders never throw: every problem becomes one of
// these, counted by the collector per exporter and kind.

/** Where an issue was found. `domainId` / `setId` are null when the decoder never got that far. */
export interface IssueLocation {
  readonly exporter: string;
  /** NetFlow v9 source id, IPFIX observation domain id, v5 (engine type << 8) | engine id. */
  readonly domainId: number | null;
  /** Set (flowset) id the problem is in. */
  readonly setId: number | null;
}

export type WireIssue = IssueLocation &
  (
    | {
        /** The datagram ends before a header (or a v5 record the count promises) is complete. */
        readonly kind: 'truncated';
        readonly needed: number;
        readonly available: number;
      }
    | {
        /** IPFIX message length (RFC 7011 §3.1) is below the header size or beyond the datagram. */
        readonly kind: 'bad-message-length';
        readonly declared: number;
        readonly available: number;
      }
    | { readonly kind: 'unknown-version'; readonly version: number }
    | {
        /** A set length of 0: nothing after it can be located (RFC 7011 §3.3.2), the rest is dropped. */
        readonly kind: 'zero-length-set';
      }
    | {
        /** A set length of 1-3, shorter than the set header itself; the rest is dropped. */
        readonly kind: 'short-set';
        readonly declared: number;
      }
    | {
        /** The set claims more bytes than the message has left; the rest is dropped. */
        readonly kind: 'set-overruns-packet';
        readonly declared: number;
        readonly remaining: number;
      }
    | {
        /**
         * A data set whose template is unknown (never received, expired or withdrawn). Its
         * records are dropped; `estimatedRecords` is exact when the template's record length
         * is remembered from an earlier definition, else 1 (a non-empty set holds at least one
         * record), as `estimate` says.
         */
        readonly kind: 'template-missing';
        readonly templateId: number;
        readonly bytes: number;
        readonly estimatedRecords: number;
        readonly estimate: 'previous-definition' | 'at-least-one';
      }
    | {
        /** A field length the element's type cannot have; the field is ignored, the template kept. */
        readonly kind: 'bad-field-length';
        readonly templateId: number;
        readonly elementId: number;
        readonly enterprise: number;
        readonly length: number;
      }
    | {
        /** A template (or options template) record that cannot be used; it is not learned. */
        readonly kind: 'bad-template';
        readonly templateId: number;
        readonly reason: BadTemplateReason;
      }
    | {
        /** Set ids 0-1 in IPFIX and 4-255 (IPFIX) / 2-255 (v9) are reserved; the set is skipped. */
        readonly kind: 'reserved-set-id';
      }
    | {
        /** Bytes after the last set or record that cannot be a set: counted, not decoded. */
        readonly kind: 'trailing-bytes';
        readonly bytes: number;
      }
    | {
        /**
         * The header count disagrees with what the datagram holds. v9 (RFC 3954 §5.1) counts
         * every record, template records included; softflowd counts only flow records, so for
         * v9 this is an anomaly, not an error: everything present is decoded.
         */
        readonly kind: 'count-mismatch';
        readonly declared: number;
        readonly found: number;
      }
    | {
        /** A data record runs past its set (variable-length field too long); the set's rest is dropped. */
        readonly kind: 'truncated-record';
        readonly templateId: number;
      }
    | {
        /** Bytes after the last record of a data set, too short for a record and not zero. */
        readonly kind: 'bad-padding';
        readonly templateId: number;
        readonly bytes: number;
      }
    | {
        /** The template cache is full for this exporter/domain (or overall); the template is not learned. */
        readonly kind: 'template-limit';
        readonly templateId: number;
      }
  );

export type WireIssueKind = WireIssue['kind'];

export type BadTemplateReason =
  | 'template-id-below-256'
  | 'zero-field-count'
  | 'field-count-past-end'
  | 'zero-length-field'
  | 'variable-length-not-allowed'
  | 'enterprise-number-missing'
  | 'scope-count-invalid'
  | 'scope-length-invalid'
  | 'record-too-long';

/** Issue kinds after which part of the datagram could not be decoded at all. */
export const STRUCTURAL_ISSUES: ReadonlySet<WireIssueKind> = new Set<WireIssueKind>([
  'truncated',
  'bad-message-length',
  'unknown-version',
  'zero-length-set',
  'short-set',
  'set-overruns-packet',
  'truncated-record',
]);

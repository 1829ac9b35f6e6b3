// Template records as they arrive (RFC 7011 §3.4.1-3.4.2, RFC 3954 §5.2-5.3).

/** One field specifier. `enterprise` is 0 for IANA elements (no enterprise bit). */
export interface FieldSpecifier {
  readonly elementId: number;
  /** Encoded length in bytes; 65535 announces a variable-length field (RFC 7011 §7). */
  readonly length: number;
  readonly enterprise: number;
}

/**
 * A template or options template record. In an options template the first
 * `scopeFieldCount` fields are scope fields; for NetFlow v9 their ids are RFC 3954 scope
 * types (System, Interface, ...), not element ids.
 */
export interface TemplateRecord {
  readonly templateId: number;
  readonly options: boolean;
  readonly scopeFieldCount: number;
  readonly fields: readonly FieldSpecifier[];
}

/** NetFlow v9 and IPFIX keep separate template namespaces (see template-cache.ts). */
export type TemplateVersion = 9 | 10;

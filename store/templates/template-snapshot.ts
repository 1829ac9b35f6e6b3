/** Identifies one template: RFC 7011 §8 and RFC 3954 §5 scope template ids to the exporter and domain. */
export interface TemplateKey {
  readonly exporter: string;
  readonly domainId: number;
  readonly templateId: number;
}

/** A template as the decoder's cache hands it over for persistence; `body` is opaque JSON. */
export interface TemplateSnapshot extends TemplateKey {
  readonly version: number;
  readonly body: unknown;
  readonly updatedMs: number;
}

/**
 * The template id a decoder's template is stored under. The table keys templates by
 * exporter, domain and template id; a v9 and an IPFIX template with the same id from one
 * exporter and domain are told apart by adding 0x10000 for IPFIX (template ids are 16-bit,
 * so the two ranges cannot meet), and a domain's options state (sampling rates, system init
 * time), which has no template id, takes 0, which no template can have (ids < 256 are set
 * ids, RFC 7011 §3.3.2).
 */
export function storedTemplateId(version: number, templateId: number | null): number {
  const id = templateId ?? 0;
  return version === 10 ? 0x10000 + id : id;
}

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

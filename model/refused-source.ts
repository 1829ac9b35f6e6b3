/** A source the collector refused (not in `collector.allowedExporters`), with what it sent. */
export interface RefusedSource {
  /** The source address, or `other` once many distinct sources were refused. */
  readonly source: string;
  readonly datagrams: number;
  readonly connections: number;
  readonly lastSeenMs: number;
}

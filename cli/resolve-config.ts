import { parseHostPort } from './host-port.js';
import { readYamlFile, setPath, validateConfig } from './load-config.js';
import { tunnelflowConfigSchema } from './config-schema.js';
import type { TunnelflowConfig } from './config-schema.js';

/** Flags (and the TUNNELFLOW_* variables commander maps onto them) that override the file. */
export interface ConfigOverrides {
  readonly config?: string;
  readonly db?: string;
  readonly netflowPort?: number;
  readonly ipfixPort?: number;
  readonly http?: string;
  readonly listen?: string;
}

/**
 * Defaults, then the YAML file, then environment and flags: the order nfcapd and
 * Akvorado users expect. The result is validated once and frozen.
 */
export function resolveConfig(overrides: ConfigOverrides): TunnelflowConfig {
  const raw: Record<string, unknown> = overrides.config ? readYamlFile(overrides.config) : {};
  if (overrides.db !== undefined) {
    // A URL (scheme://...) names a server: store.url, checked when the store opens, so
    // that mysql://... or a typo in postgres:// gets its one clear line there.
    if (isUrl(overrides.db)) setPath(raw, 'store.url', overrides.db);
    else setPath(raw, 'store.path', overrides.db);
  }
  if (overrides.netflowPort !== undefined) setPath(raw, 'collector.netflowPort', overrides.netflowPort);
  if (overrides.ipfixPort !== undefined) setPath(raw, 'collector.ipfixPort', overrides.ipfixPort);
  if (overrides.listen !== undefined) setPath(raw, 'collector.listen', overrides.listen);
  if (overrides.http !== undefined) {
    const { host, port } = parseHostPort(overrides.http);
    setPath(raw, 'http.host', host);
    setPath(raw, 'http.port', port);
  }
  return validateConfig(tunnelflowConfigSchema, raw, overrides.config ?? '(defaults and flags)');
}

/** `scheme://...`: what --db and TUNNELFLOW_DB take as a database server rather than a file. */
export function isUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}

import type { TunnelQueryOptions } from '../analysis/tunnel-queries.js';
import type { TunnelflowConfig } from './config-schema.js';

/** What the tunnel queries and reports take from the configuration. */
export function analysisOptions(config: TunnelflowConfig): TunnelQueryOptions {
  return {
    bucketMs: config.bucketSeconds * 1000,
    observationPoints: config.observationPoints,
    ceilingRatio: config.loss.ceilingRatio,
  };
}

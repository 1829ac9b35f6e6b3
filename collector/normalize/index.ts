// The normalizer stage's public surface (collector/produce → here → store/writer).
export { createNormalizer } from './normalizer.js';
export type { NormalizeResult, Normalizer } from './normalizer.js';
export { normalizeConfigSchema, parseNormalizeConfig } from './config.js';
export type {
  ConfiguredTunnel,
  NormalizeConfig,
  NormalizeConfigInput,
  ObservationPointConfig,
} from './config.js';
export type { NormalizerSnapshot } from './normalizer-state.js';
export { addNormalizerCounters, emptyNormalizerCounters } from './normalizer-counters.js';
export type { NormalizerCounters } from './normalizer-counters.js';

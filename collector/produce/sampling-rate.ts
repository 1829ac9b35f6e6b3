// Which sampling rate applies to a record: the record's own elements first, then the
// sampler / selector it names, then what the exporter announced for the whole domain.

import type { DataRecord } from '../wire/data-record.js';
import type { MessageHeader } from '../wire/decoded-message.js';
import type { DomainOptions } from '../wire/template-cache.js';

/** Rate for records that name no sampler: v5's header field, else the domain's default. */
export function domainSamplingRate(header: MessageHeader, options: DomainOptions | undefined): number {
  if (header.version === 5) {
    // Low 14 bits: 1 out of N; 0 (and 1) mean every packet.
    return header.samplingInterval > 1 ? header.samplingInterval : 1;
  }
  return options?.defaultSamplingRate ?? 1;
}

export function recordSamplingRate(
  record: DataRecord,
  options: DomainOptions | undefined,
  domainRate: number,
): number {
  // RFC 3954 §8: a v9 data record may carry SAMPLING_INTERVAL or
  // FLOW_SAMPLER_RANDOM_INTERVAL itself; FLOW_SAMPLER_ID / selectorId point at an options record.
  if (record.samplingInterval !== null && record.samplingInterval > 0) return record.samplingInterval;
  if (record.samplerRandomInterval !== null && record.samplerRandomInterval > 0)
    return record.samplerRandomInterval;
  if (options) {
    if (record.samplerId !== null) {
      const rate = options.samplerRates.get(record.samplerId);
      if (rate !== undefined) return rate;
    }
    if (record.selectorId !== null) {
      const rate = options.selectorRates.get(record.selectorId);
      if (rate !== undefined) return rate;
    }
  }
  return domainRate;
}

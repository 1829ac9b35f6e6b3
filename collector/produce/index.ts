// The public face of collector/produce: datagram → FlowRecords, per-datagram facts for
// the counters, and the export sequence tracker.

export { produceFlows, produceFromDecoded } from './produce-flows.js';
export type { ProducedDatagram } from './produce-flows.js';
export type { DatagramInfo } from './datagram-info.js';
export { SequenceTracker } from './sequence-tracker.js';
export type {
  SequenceConvention,
  SequenceEvent,
  SequenceObservation,
  SequenceTrackerOptions,
} from './sequence-tracker.js';
export { FlowRecordBuilder, toFlowRecords } from './to-flow-records.js';
export type { ConversionCounts } from './to-flow-records.js';

import { CORPUS_DIR, produceCapture } from '../produce/corpus-exports.js';
import type { FlowRecord } from '../../model/flow.js';
import type { ExporterName, FlowsOptions, ScenarioCapture } from './reference-flows.js';

/**
 * FlowRecords of a corpus export capture as the collector gets them: decoded by our own
 * wire decoders, one batch per datagram (the normalizer sees them exactly so live and in
 * `ingest`). The exporter address can be overridden, as `ingest --exporter` does.
 */
export function decodedBatchesFor(
  scenario: ScenarioCapture,
  exporter: ExporterName,
  options: FlowsOptions = {},
): FlowRecord[][] {
  const { produced } = produceCapture({
    scenario,
    exporter,
    pcapPath: `${CORPUS_DIR}exports/${scenario}/${exporter}.pcap`,
  });
  const address = options.exporterAddress;
  return produced.map((p) =>
    address === undefined ? p.flows : p.flows.map((f) => ({ ...f, exporter: address })),
  );
}

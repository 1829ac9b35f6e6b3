import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FlowRecord } from '../../model/flow.js';
import { produceCapture } from '../produce/corpus-exports.js';
import type { Truth } from '../normalize/truth.js';

/**
 * The issue 12 scenarios of test/fixtures/scenarios (PROVENANCE.md there): scapy pcaps with
 * truth, exported by softflowd (NetFlow v9, IPFIX) and pmacct (IPFIX).
 */
export const SCENARIOS_DIR = fileURLToPath(new URL('../fixtures/scenarios/', import.meta.url));

export const issue12Scenarios = ['j_frag_esp_v6', 'k_frag_natt_v4', 'l_natt_ike_fail_v4'] as const;
export type Issue12Scenario = (typeof issue12Scenarios)[number];

export const issue12Exporters = ['softflowd_v9', 'softflowd_ipfix', 'pmacct_ipfix'] as const;
export type Issue12Exporter = (typeof issue12Exporters)[number];

export function scenarioTruth(scenario: Issue12Scenario): Truth {
  return JSON.parse(readFileSync(`${SCENARIOS_DIR}truth/${scenario}.truth.json`, 'utf8')) as Truth;
}

export function exportPcapPath(scenario: Issue12Scenario, exporter: Issue12Exporter): string {
  return `${SCENARIOS_DIR}exports/${scenario}/${exporter}.pcap`;
}

/** The export capture decoded by tunnelflow's decoders, one batch per datagram. */
export function scenarioBatches(scenario: Issue12Scenario, exporter: Issue12Exporter): FlowRecord[][] {
  const { produced } = produceCapture({ scenario, exporter, pcapPath: exportPcapPath(scenario, exporter) });
  return produced.map((p) => p.flows);
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NormalizeConfigInput } from '../../collector/normalize/config.js';
import type { ScenarioCapture } from './reference-flows.js';

/** The parts of a corpus truth file the tests read (field meanings: corpus README, "Ground truth"). */
export interface TruthCounters {
  ip_packets: number;
  ip_bytes: number;
  esp_packets: number;
  lost: number;
  lost_downstream: number;
  duplicates: number;
  fragments: number;
  fragmented_esp_packets: number;
  non_first_fragments: number;
  ike_packets: number;
  ike_bytes: number;
  natt_keepalives: number;
  ike_udp_500_packets?: number;
  ike_udp_4500_packets?: number;
  /** test/fixtures/scenarios truths only: bytes of IKE on 4500. */
  ike_udp_4500_bytes?: number;
  natt_keepalive_bytes?: number;
}

export interface TruthMinute extends TruthCounters {
  minute_ms: number;
}

export interface TruthPerSpi {
  spi: string;
  esp_packets: number;
  ip_packets: number;
  ip_bytes: number;
  lost: number;
  duplicates: number;
  first_seq: number;
  last_seq: number;
  first_ms: number;
  last_ms: number;
  lost_per_minute: { minute_ms: number; lost: number }[];
}

export interface TruthDirection {
  src: string;
  dst: string;
  totals: TruthCounters;
  per_minute: TruthMinute[];
  per_spi: TruthPerSpi[];
}

export interface TruthTunnel {
  id: string;
  peer_a: string;
  peer_b: string;
  ip_version: 4 | 6;
  encapsulation: string;
  natt?: Record<string, unknown> | null;
  protected_subnets: { a: string[]; b: string[] };
  expected_health: string;
  observed_health: string;
  health_timeline: { minute_ms: number; state: string }[];
  sas: { generation: number; a_to_b: { spi: string }; b_to_a: { spi: string } }[];
  directions: { a_to_b: TruthDirection; b_to_a: TruthDirection };
  icmp_frag_needed: {
    total: number;
    targets: string[];
    per_minute: { minute_ms: number; count?: number; packets?: number }[];
  };
}

export interface TruthLeak {
  type: string;
  src: string;
  dst: string;
  proto: number;
  tunnel: string;
  packets: number;
  bytes: number;
  first_ms: number;
  last_ms: number;
}

export interface TruthFlow {
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
  first_ms: number;
  last_ms: number;
  kind: string;
  tunnel?: string;
  dir?: string;
}

export interface Truth {
  scenario: string;
  time_range: { first_ms: number; last_ms: number };
  tunnels: TruthTunnel[];
  leaks: TruthLeak[];
  flows: TruthFlow[];
}

const truthDir = fileURLToPath(new URL('../fixtures/corpus/truth/', import.meta.url));

export function truthFor(scenario: ScenarioCapture): Truth {
  return JSON.parse(readFileSync(`${truthDir}${scenario}.truth.json`, 'utf8')) as Truth;
}

/** Truth health names → tunnelflow's (DESIGN.md health states). */
export const healthFromTruth: Record<string, string> = {
  healthy: 'up',
  ike_one_side: 'ike-one-sided',
  ike_no_esp: 'negotiating',
  esp_one_direction: 'one-way',
};

export function truthEncapsulation(t: TruthTunnel): 'esp' | 'esp-in-udp' {
  return t.encapsulation.startsWith('esp-in-udp') ? 'esp-in-udp' : 'esp';
}

/** Names every tunnel of the truth and its protected subnets, as an operator would configure them. */
export function configFromTruth(truth: Truth): NormalizeConfigInput {
  return {
    tunnels: truth.tunnels.map((t) => ({
      name: `${truth.scenario} ${t.id}`,
      peerA: t.peer_a,
      peerB: t.peer_b,
      protectedSubnets: t.protected_subnets,
    })),
  };
}

// Builds the README's table "true loss / Argus / tunnelflow" for every corpus scenario
// from the fixtures: the truth files, Argus's output, and tunnelflow's own figures from
// the exports and from the probe's IPFIX for the scenario pcaps (through our decoders and
// the normalizer; test/e2e checks that the HTTP API gives exactly the same), and the table
// of the probe and Argus per SA. `node --import tsx test/readme/loss-table.ts` prints it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareAddresses } from '../../model/address-order.js';
import type { FlowRecord } from '../../model/flow.js';
import type { DirectionFigures } from '../../analysis/tunnel-figures.js';
import { produceFlows } from '../../collector/produce/produce-flows.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import { meterCapture } from '../../probe/meter-capture.js';
import { decodedBatchesFor } from '../normalize/decoded-flows.js';
import { runNormalizer } from '../normalize/run-normalizer.js';
import { truthEncapsulation, truthFor } from '../normalize/truth.js';
import type { ScenarioCapture } from '../normalize/reference-flows.js';
import type { Truth, TruthTunnel } from '../normalize/truth.js';

const ARGUS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'argus');
const minute = 60_000;
const EXPORTER = 'pmacct_ipfix';

interface ArgusFile {
  esp_flows: { argus: { sloss: number }; truth: { tunnel: string; dir: string } }[];
  truth_spis_not_seen_as_esp_by_argus: { tunnel: string; dir: string }[];
}

type Dir = 'a_to_b' | 'b_to_a';

function argusLoss(scenario: string, tunnel: string, dir: Dir): string {
  const a = JSON.parse(readFileSync(join(ARGUS, `${scenario}.argus_vs_truth.json`), 'utf8')) as ArgusFile;
  const flows = a.esp_flows.filter((f) => f.truth.tunnel === tunnel && f.truth.dir === dir);
  if (flows.length === 0) {
    return a.truth_spis_not_seen_as_esp_by_argus.some((f) => f.tunnel === tunnel && f.dir === dir)
      ? 'not seen as ESP'
      : '—';
  }
  return String(flows.reduce((n, f) => n + f.argus.sloss, 0));
}

function windowOf(truth: Truth): [number, number] {
  return [
    Math.floor(truth.time_range.first_ms / minute) * minute,
    Math.floor(truth.time_range.last_ms / minute) * minute + minute,
  ];
}

function idOf(t: TruthTunnel): { id: string; swapped: boolean } {
  const swapped = compareAddresses(t.peer_a, t.peer_b) > 0;
  const [a, b] = swapped ? [t.peer_b, t.peer_a] : [t.peer_a, t.peer_b];
  return { id: `${a}_${b}_${truthEncapsulation(t)}`, swapped };
}

function describe(f: DirectionFigures | undefined): string {
  if (f === undefined) return 'tunnel not visible';
  const cleared = Object.entries(f.bogusCleared).filter(([, n]) => n > 0);
  const clearedText = cleared.map(([reason, n]) => `${n} cleared: ${reason}`).join(', ');
  if (f.lost === null) return cleared.length > 0 ? `not measured (${clearedText})` : 'not measured';
  return `**${f.lost}** (${f.lossSource})${cleared.length > 0 ? `; ${clearedText}` : ''}`;
}

const PCAPS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'pcaps');

/**
 * What `tunnelflow probe --pcap` exports for a scenario pcap (the probe's own meter and IPFIX
 * messages, default timeouts and window), decoded by our decoders into FlowRecords: the
 * collector's input when the probe is the exporter.
 */
function probeBatches(capture: ScenarioCapture): FlowRecord[][] {
  const { messages } = meterCapture(readFileSync(join(PCAPS, `${capture}.pcap`)), {
    activeTimeoutMs: 60_000,
    idleTimeoutMs: 15_000,
  });
  const cache = new TemplateCache({ now: () => 0 });
  return messages.map((m) => produceFlows(m, '203.0.113.250', 0, cache).flows);
}

const scenarios: { label: string; captures: ScenarioCapture[] }[] = [
  { label: 'a_healthy_v4', captures: ['a_healthy_v4'] },
  { label: 'b_rekey_v4', captures: ['b_rekey_v4'] },
  { label: 'c_natt_v4', captures: ['c_natt_v4'] },
  { label: 'd_loss_v4 (rx / tx)', captures: ['d_loss_v4_rx', 'd_loss_v4_tx'] },
  { label: 'e_frag_mtu_v4', captures: ['e_frag_mtu_v4'] },
  { label: 'f_broken_states_v4', captures: ['f_broken_states_v4'] },
  { label: 'g_cleartext_leak_v4', captures: ['g_cleartext_leak_v4'] },
  { label: 'h_multi_tunnel_mixed', captures: ['h_multi_tunnel_mixed'] },
  { label: 'i_reorder_dup_v4', captures: ['i_reorder_dup_v4'] },
];

export function lossTable(): string {
  const rows: string[] = [
    '| scenario | tunnel, direction | true loss | Argus `sloss` | tunnelflow, one exporter (pmacct IPFIX) | tunnelflow, two observation points | tunnelflow, fed by `tunnelflow probe` on the scenario pcap |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const { label, captures } of scenarios) {
    const truth = truthFor(captures[0] as ScenarioCapture);
    const [from, to] = windowOf(truth);
    const single = runNormalizer(decodedBatchesFor(captures[0] as ScenarioCapture, EXPORTER));
    const twoPoint =
      captures.length === 2
        ? runNormalizer([
            ...decodedBatchesFor(captures[1] as ScenarioCapture, EXPORTER, {
              exporterAddress: truth.tunnels[0]?.peer_a as string,
            }),
            ...decodedBatchesFor(captures[0] as ScenarioCapture, EXPORTER, {
              exporterAddress: truth.tunnels[0]?.peer_b as string,
            }),
          ])
        : null;
    const probe = runNormalizer(probeBatches(captures[0] as ScenarioCapture));
    for (const t of truth.tunnels) {
      const { id, swapped } = idOf(t);
      for (const dir of ['a_to_b', 'b_to_a'] as const) {
        const d = t.directions[dir];
        if (d.totals.esp_packets === 0 && d.totals.ip_packets === 0) continue;
        const ours = (dir === 'a_to_b') !== swapped ? 'aToB' : 'bToA';
        const figure = (run: ReturnType<typeof runNormalizer> | null) =>
          run === null
            ? '—'
            : describe(run.tunnels.has(id) ? run.view(id, from, to).summary[ours] : undefined);
        const trueLoss =
          captures.length === 2
            ? `${d.totals.lost} / ${truthFor(captures[1] as ScenarioCapture).tunnels.find((x) => x.id === t.id)?.directions[dir].totals.lost_downstream ?? 0} downstream`
            : String(d.totals.lost) + (d.totals.duplicates > 0 ? ` (${d.totals.duplicates} duplicates)` : '');
        const argus =
          captures.length === 2
            ? `${argusLoss(captures[0] as string, t.id, dir)} / ${argusLoss(captures[1] as string, t.id, dir)}`
            : argusLoss(captures[0] as string, t.id, dir);
        rows.push(
          `| ${label} | ${t.id} ${dir === 'a_to_b' ? 'a→b' : 'b→a'} | ${trueLoss} | ${argus} | ${figure(single)} | ${figure(twoPoint)} | ${figure(probe)} |`,
        );
      }
    }
  }
  return rows.join('\n');
}

interface ArgusEspFlow {
  argus: { spkts: number; sloss: number };
  truth: { tunnel: string; dir: string; spi: string };
}

/** Per SA: the truth, Argus and the probe side by side (packets, lost, duplicates, late). */
export function probeArgusTable(): string {
  const rows: string[] = [
    '| scenario | tunnel, direction, SPI | packets: true / Argus / probe | lost: true / Argus / probe | duplicates: true / probe | late (reordered): true / probe | IP fragments: true / probe |',
    '|---|---|---|---|---|---|---|',
  ];
  const captures: ScenarioCapture[] = [
    'a_healthy_v4',
    'b_rekey_v4',
    'c_natt_v4',
    'd_loss_v4_rx',
    'd_loss_v4_tx',
    'e_frag_mtu_v4',
    'h_multi_tunnel_mixed',
    'i_reorder_dup_v4',
  ];
  for (const capture of captures) {
    const truth = truthFor(capture);
    const argus = JSON.parse(readFileSync(join(ARGUS, `${capture}.argus_vs_truth.json`), 'utf8')) as {
      esp_flows: ArgusEspFlow[];
    };
    const { records } = meterCapture(readFileSync(join(PCAPS, `${capture}.pcap`)), {
      activeTimeoutMs: 60_000,
      idleTimeoutMs: 15_000,
    });
    for (const t of truth.tunnels) {
      for (const dir of ['a_to_b', 'b_to_a'] as const) {
        for (const s of t.directions[dir].per_spi) {
          if (s.esp_packets === 0) continue;
          const spi = Number(s.spi);
          const mine = records.filter((r) => r.type === 'sa' && r.spi === spi);
          const sum = (f: (r: (typeof mine)[number]) => number) => mine.reduce((n, r) => n + f(r), 0);
          const sa = (r: (typeof mine)[number]) => (r.type === 'sa' ? r : null);
          const a = argus.esp_flows.find((f) => f.truth.spi === s.spi);
          const reordered = (s as { reordered?: number }).reordered ?? 0;
          rows.push(
            `| ${capture} | ${t.id} ${dir === 'a_to_b' ? 'a→b' : 'b→a'} ${s.spi} | ${s.esp_packets} / ${a?.argus.spkts ?? 'not seen as ESP'} / ${sum((r) => r.packets)} | ${s.lost} / ${a?.argus.sloss ?? '—'} / **${sum((r) => sa(r)?.lost ?? 0)}** | ${s.duplicates} / ${sum((r) => sa(r)?.duplicates ?? 0)} | ${reordered} / ${sum((r) => sa(r)?.outOfOrder ?? 0)} | ${t.directions[dir].per_spi.length === 1 ? t.directions[dir].totals.fragments : '—'} / ${sum((r) => sa(r)?.fragments ?? 0)} |`,
          );
        }
      }
    }
  }
  return rows.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${lossTable()}\n\n${probeArgusTable()}\n`);
}

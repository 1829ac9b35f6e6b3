import type {
  FlowKind,
  FlowRecord,
  NormalizedFlow,
  ProducedFlow,
  TunnelDirection,
} from '../../model/flow.js';
import type { BatchState } from './batch-state.js';
import type { BucketDeltas } from './bucket-deltas.js';
import { hasFragmentInfo } from './classify-kind.js';
import { validateLoss } from './loss-validation.js';
import type { LossLimits, LossVerdict } from './loss-validation.js';
import type { SaRegistry } from './sa-registry.js';
import type { SubnetMatcher } from './subnet-matcher.js';
import type { TunnelRegistry } from './tunnel-registry.js';

/** A configured tunnel whose protected subnets mark cleartext leaks. */
export interface ConfiguredTunnelMatch {
  readonly name: string;
  readonly peerA: string;
  readonly peerB: string;
  readonly a: SubnetMatcher;
  readonly b: SubnetMatcher;
}

/**
 * What the attribution functions (attribute-*.ts, one per kind) work with: the tunnel and
 * SA registries, the batch's bucket deltas and changes, the loss limits, and the configured
 * protected subnets.
 */
export interface Attribution {
  readonly tunnels: TunnelRegistry;
  readonly sas: SaRegistry;
  readonly buckets: BucketDeltas;
  readonly batch: BatchState;
  readonly limits: LossLimits;
  readonly configured: readonly ConfiguredTunnelMatch[];
  /** Every configured protected subnet, for a quick "could this be a leak at all". */
  readonly anyProtected: SubnetMatcher;
}

export const noLoss: LossVerdict = { lost: null, source: null, clearedReason: null };

/** True when the record carries a loss figure: the exporter's own, or ESP sequence numbers. */
export function carriesLoss(r: FlowRecord): boolean {
  return r.reportedLoss !== null || (r.espSeqFirst !== null && r.espSeqLast !== null);
}

/** Validates a record's loss figure (loss-validation.ts) and counts the verdict. */
export function checkLoss(
  ctx: Attribution,
  r: FlowRecord,
  kind: FlowKind,
  acrossSaChange: boolean,
): LossVerdict {
  const verdict = validateLoss(
    {
      kind,
      fragmented: hasFragmentInfo(r),
      acrossSaChange,
      packets: r.packets,
      startMs: r.startMs,
      endMs: r.endMs,
      reportedLoss: r.reportedLoss,
      espSeqFirst: r.espSeqFirst,
      espSeqLast: r.espSeqLast,
    },
    ctx.limits,
  );
  const counters = ctx.batch.counters;
  counters.lossChecked++;
  if (verdict.clearedReason !== null) counters.lossCleared[verdict.clearedReason]++;
  else counters.lossAccepted++;
  return verdict;
}

/** A record as the producer made it, its normalizer fields not filled yet. */
function isUnfilled(r: FlowRecord): r is ProducedFlow {
  return (r as Partial<ProducedFlow>).kind === null;
}

/**
 * The record with what the normalizer found out about it; counts its kind. A record fresh
 * from the producer (ProducedFlow) gets the fields written into it and is returned itself;
 * any other record is copied.
 */
export function normalizedFlow(
  ctx: Attribution,
  r: FlowRecord,
  kind: FlowKind,
  tunnel: string | null,
  sa: string | null,
  direction: TunnelDirection | null,
  loss: LossVerdict | null,
): NormalizedFlow {
  ctx.batch.counters.kinds[kind]++;
  if (isUnfilled(r)) {
    r.kind = kind;
    r.tunnelId = tunnel;
    r.saId = sa;
    r.tunnelDirection = direction;
    r.validatedLoss = loss === null ? null : loss.lost;
    r.lossClearedReason = loss === null ? null : loss.clearedReason;
    return r as NormalizedFlow;
  }
  // Every field written out: an object spread of 35 properties costs more than the rest
  // of the normalizer together, and a literal gives every flow the same hidden class.
  return {
    exporter: r.exporter,
    domainId: r.domainId,
    version: r.version,
    receivedMs: r.receivedMs,
    startMs: r.startMs,
    endMs: r.endMs,
    ipVersion: r.ipVersion,
    src: r.src,
    dst: r.dst,
    srcIpv4: r.srcIpv4,
    dstIpv4: r.dstIpv4,
    proto: r.proto,
    srcPort: r.srcPort,
    dstPort: r.dstPort,
    spi: r.spi,
    packets: r.packets,
    octets: r.octets,
    rawPackets: r.rawPackets,
    rawOctets: r.rawOctets,
    samplingRate: r.samplingRate,
    tcpFlags: r.tcpFlags,
    tos: r.tos,
    icmpType: r.icmpType,
    icmpCode: r.icmpCode,
    fragmentId: r.fragmentId,
    fragmentOffset: r.fragmentOffset,
    fragmentFlags: r.fragmentFlags,
    inIf: r.inIf,
    outIf: r.outIf,
    flowDirection: r.flowDirection,
    reportedLoss: r.reportedLoss,
    espSeqFirst: r.espSeqFirst,
    espSeqLast: r.espSeqLast,
    templateId: r.templateId,
    kind,
    tunnelId: tunnel,
    saId: sa,
    tunnelDirection: direction,
    validatedLoss: loss === null ? null : loss.lost,
    lossClearedReason: loss === null ? null : loss.clearedReason,
  };
}

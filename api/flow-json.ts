import type { StoredFlow } from '../store/flows/stored-flow.js';

/** A flow in HTTP answers (DESIGN.md "HTTP"); absent values are null, times epoch ms. */
export interface FlowJson {
  readonly id: number;
  readonly exporter: string;
  readonly domainId: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly src: string;
  readonly dst: string;
  readonly proto: number;
  readonly srcPort: number | null;
  readonly dstPort: number | null;
  readonly spi: number | null;
  readonly packets: number;
  readonly octets: number;
  readonly tcpFlags: number | null;
  readonly icmpType: number | null;
  readonly icmpCode: number | null;
  readonly fragment: {
    readonly id: number | null;
    readonly offset: number | null;
    readonly flags: number | null;
  } | null;
  readonly inIf: number | null;
  readonly outIf: number | null;
  readonly samplingRate: number;
  readonly kind: string;
  readonly tunnelId: string | null;
  readonly saId: string | null;
  /** The loss the exporter reported, as reported (see validatedLoss and lossClearedReason). */
  readonly reportedLoss: number | null;
  readonly lossClearedReason: string | null;
  // Beyond DESIGN.md's list (the contract may be extended): what the drill-down needs to
  // read a flow without another request.
  readonly validatedLoss: number | null;
  readonly tunnelDirection: string | null;
  readonly ipVersion: number;
  readonly receivedMs: number;
}

export function toFlowJson(flow: StoredFlow): FlowJson {
  const hasFragment = flow.fragmentId !== null || flow.fragmentOffset !== null || flow.fragmentFlags !== null;
  return {
    id: flow.id,
    exporter: flow.exporter,
    domainId: flow.domainId,
    startMs: flow.startMs,
    endMs: flow.endMs,
    src: flow.src,
    dst: flow.dst,
    proto: flow.proto,
    srcPort: flow.srcPort,
    dstPort: flow.dstPort,
    spi: flow.spi,
    packets: flow.packets,
    octets: flow.octets,
    tcpFlags: flow.tcpFlags,
    icmpType: flow.icmpType,
    icmpCode: flow.icmpCode,
    fragment: hasFragment
      ? { id: flow.fragmentId, offset: flow.fragmentOffset, flags: flow.fragmentFlags }
      : null,
    inIf: flow.inIf,
    outIf: flow.outIf,
    samplingRate: flow.samplingRate,
    kind: flow.kind,
    tunnelId: flow.tunnelId,
    saId: flow.saId,
    reportedLoss: flow.reportedLoss,
    lossClearedReason: flow.lossClearedReason,
    validatedLoss: flow.validatedLoss,
    tunnelDirection: flow.tunnelDirection,
    ipVersion: flow.ipVersion,
    receivedMs: flow.receivedMs,
  };
}

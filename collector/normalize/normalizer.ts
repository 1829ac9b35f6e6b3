import type {
  FlowKind,
  FlowRecord,
  LossClearedReason,
  NormalizedFlow,
  TunnelDirection,
} from '../../model/flow.js';
import type { Encapsulation, SecurityAssociation, Tunnel } from '../../model/tunnel.js';
import { emptyClearedCounts } from '../../model/tunnel-bucket.js';
import type { TunnelBucketDelta } from '../../model/tunnel-bucket.js';
import { compareAddresses } from '../../model/address-order.js';
import { computeBucketSpan, createBucketSpan, shareOf } from './apportion.js';
import { classifyBaseKind, hasFragmentInfo, isIcmpError } from './classify-kind.js';
import type { BaseKind } from './classify-kind.js';
import type { NormalizeConfig } from './config.js';
import { saId, tunnelId } from './ids.js';
import { validateLoss } from './loss-validation.js';
import type { LossVerdict } from './loss-validation.js';
import { addNormalizerCounters, emptyNormalizerCounters } from './normalizer-counters.js';
import type { NormalizerCounters } from './normalizer-counters.js';
import type { NormalizerSnapshot, SaState, TunnelState } from './normalizer-state.js';
import { pairSecurityAssociations } from './sa-pairing.js';
import { compileSubnets, parseAddress } from './subnet-matcher.js';
import type { SubnetMatcher } from './subnet-matcher.js';

/** What one batch (one datagram's records) turned into. */
export interface NormalizeResult {
  /** One per input record, in input order. */
  readonly flows: NormalizedFlow[];
  /** Additive bucket counters; the store adds them into rows with the same key. */
  readonly buckets: TunnelBucketDelta[];
  /** Tunnels created or changed by this batch (upsert: min first seen, max last seen). */
  readonly tunnels: Tunnel[];
  /** SAs created or changed by this batch, including those ended or re-paired. */
  readonly sas: SecurityAssociation[];
  /** What this batch did (add to the cumulative counters). */
  readonly counters: NormalizerCounters;
}

export interface Normalizer {
  process(batch: readonly FlowRecord[]): NormalizeResult;
  /** Plain JSON of everything remembered (tunnels, SAs, clock, counters). */
  snapshot(): NormalizerSnapshot;
  /** Cumulative counters since creation (or since the restored snapshot's creation). */
  counters(): NormalizerCounters;
  tunnels(): Tunnel[];
  securityAssociations(): SecurityAssociation[];
}

interface ConfiguredTunnelMatch {
  readonly name: string;
  readonly peerA: string;
  readonly peerB: string;
  readonly a: SubnetMatcher;
  readonly b: SubnetMatcher;
}

/** A record claiming to end this long after it was received does not move the clock. */
const clockFutureToleranceMs = 3_600_000;

const pairingDirections: readonly TunnelDirection[] = ['a-b', 'b-a'];

/**
 * The normalizer: kinds, tunnels, SAs, loss checks and bucket deltas, as a pure function of
 * its state and the records (no I/O; the only clock is the records' own times).
 *
 * Order within a batch: ESP-carrying flows first (they create tunnels and SAs), then IKE
 * (attached to the tunnels just seen), then ICMP frag-needed and everything else (the leak
 * check needs the peers known). So a leak or an ICMP exported in the same datagram as its
 * tunnel's ESP is recognised. The limitation left: a leak between two peers, or an ICMP
 * frag-needed, that arrives in an earlier datagram than anything of its tunnel is not
 * re-classified later (it stays `other` / unattributed). Leaks between configured protected
 * subnets do not depend on order.
 */
export function createNormalizer(config: NormalizeConfig, restore?: NormalizerSnapshot): Normalizer {
  const bucketMs = config.bucketSeconds * 1000;
  const saIdleMs = config.saIdleSeconds * 1000;
  const tunnelIdleMs = config.tunnelIdleSeconds * 1000;
  const limits = config.loss;

  const tunnels = new Map<string, TunnelState>();
  const sas = new Map<string, SaState>();
  /** src|dst|spi → the latest generation's SA id. */
  const saByKey = new Map<string, string>();
  /** `x|y` in both orders → ids of the tunnels between x and y (one per encapsulation). */
  const pairIndex = new Map<string, string[]>();
  /** peer address → ids of its tunnels. */
  const peerIndex = new Map<string, string[]>();
  const spiPoints = new Set<string>();
  const cumulative = emptyNormalizerCounters();
  let clockMs = 0;
  let lastSweepMs = 0;

  const configuredNames = new Map<string, string>();
  const configured: ConfiguredTunnelMatch[] = [];
  const allProtected: string[] = [];
  for (const t of config.tunnels) {
    const [lo, hi] = compareAddresses(t.peerA, t.peerB) <= 0 ? [t.peerA, t.peerB] : [t.peerB, t.peerA];
    configuredNames.set(`${lo}|${hi}`, t.name);
    if (t.protectedSubnets.a.length > 0 && t.protectedSubnets.b.length > 0) {
      configured.push({
        name: t.name,
        peerA: t.peerA,
        peerB: t.peerB,
        a: compileSubnets(t.protectedSubnets.a),
        b: compileSubnets(t.protectedSubnets.b),
      });
      allProtected.push(...t.protectedSubnets.a, ...t.protectedSubnets.b);
    }
  }
  const anyProtected = compileSubnets(allProtected);

  // Per-batch scratch, reset by process().
  let batchCounters = emptyNormalizerCounters();
  let changedTunnels = new Set<string>();
  let changedSas = new Set<string>();
  let pairingDirty = new Set<string>();
  let deltas = new Map<string, TunnelBucketDelta>();
  const span = createBucketSpan();

  if (restore !== undefined) restoreSnapshot(restore);

  function restoreSnapshot(snap: NormalizerSnapshot): void {
    if (snap.version !== 1)
      throw new Error(`unsupported normalizer snapshot version ${String(snap.version)}`);
    for (const t of snap.tunnels) {
      const copy: TunnelState = { ...t, saIds: { 'a-b': [...t.saIds['a-b']], 'b-a': [...t.saIds['b-a']] } };
      tunnels.set(copy.id, copy);
      indexTunnel(copy);
    }
    for (const s of snap.sas) {
      sas.set(s.id, { ...s });
      const current = saByKey.get(s.key);
      const currentSa = current === undefined ? undefined : sas.get(current);
      if (currentSa === undefined || currentSa.generation < s.generation) saByKey.set(s.key, s.id);
    }
    for (const p of snap.spiObservationPoints) spiPoints.add(p);
    clockMs = snap.clockMs;
    lastSweepMs = snap.lastSweepMs;
    addNormalizerCounters(cumulative, snap.counters);
  }

  function indexTunnel(t: TunnelState): void {
    addToIndex(pairIndex, `${t.peerA}|${t.peerB}`, t.id);
    addToIndex(pairIndex, `${t.peerB}|${t.peerA}`, t.id);
    addToIndex(peerIndex, t.peerA, t.id);
    addToIndex(peerIndex, t.peerB, t.id);
  }

  function unindexTunnel(t: TunnelState): void {
    removeFromIndex(pairIndex, `${t.peerA}|${t.peerB}`, t.id);
    removeFromIndex(pairIndex, `${t.peerB}|${t.peerA}`, t.id);
    removeFromIndex(peerIndex, t.peerA, t.id);
    removeFromIndex(peerIndex, t.peerB, t.id);
  }

  // ---- tunnels ----

  function createTunnel(
    x: string,
    y: string,
    encapsulation: Encapsulation,
    startMs: number,
    endMs: number,
  ): TunnelState {
    const [peerA, peerB] = compareAddresses(x, y) <= 0 ? [x, y] : [y, x];
    const t: TunnelState = {
      id: tunnelId(peerA, peerB, encapsulation),
      name: configuredNames.get(`${peerA}|${peerB}`) ?? null,
      peerA,
      peerB,
      encapsulation,
      ipVersion: peerA.includes(':') ? 6 : 4,
      firstSeenMs: startMs,
      lastSeenMs: endMs,
      lastEspMs: null,
      saIds: { 'a-b': [], 'b-a': [] },
    };
    tunnels.set(t.id, t);
    indexTunnel(t);
    batchCounters.tunnelsCreated++;
    changedTunnels.add(t.id);
    return t;
  }

  /** Ids of the tunnels between two addresses, in either role. */
  function tunnelIdsBetween(x: string, y: string): string[] | undefined {
    // Most records are between hosts that are no peer: one lookup of an address string
    // (interned by the decoder, its hash kept) instead of building a pair key.
    if (!peerIndex.has(x) || !peerIndex.has(y)) return undefined;
    return pairIndex.get(`${x}|${y}`);
  }

  function findTunnel(src: string, dst: string, encapsulation: Encapsulation): TunnelState | undefined {
    const ids = tunnelIdsBetween(src, dst);
    if (ids === undefined) return undefined;
    for (const id of ids) {
      const t = tunnels.get(id);
      if (t !== undefined && t.encapsulation === encapsulation) return t;
    }
    return undefined;
  }

  /** The most recently seen tunnel between two addresses (either encapsulation). */
  function latestTunnelBetween(x: string, y: string): TunnelState | undefined {
    const ids = tunnelIdsBetween(x, y);
    if (ids === undefined) return undefined;
    let best: TunnelState | undefined;
    for (const id of ids) {
      const t = tunnels.get(id);
      if (t !== undefined && (best === undefined || t.lastSeenMs > best.lastSeenMs)) best = t;
    }
    return best;
  }

  function touchTunnel(t: TunnelState, startMs: number, endMs: number): void {
    if (startMs < t.firstSeenMs) t.firstSeenMs = startMs;
    if (endMs > t.lastSeenMs) t.lastSeenMs = endMs;
    changedTunnels.add(t.id);
  }

  function directionOf(t: TunnelState, src: string): TunnelDirection {
    return src === t.peerA ? 'a-b' : 'b-a';
  }

  // ---- SAs ----

  function endSa(sa: SaState, atMs: number, reason: 'rekey' | 'idle'): void {
    sa.endedMs = atMs;
    sa.endReason = reason;
    changedSas.add(sa.id);
    pairingDirty.add(sa.tunnelId);
    if (reason === 'rekey') batchCounters.rekeys++;
    else batchCounters.sasExpired++;
  }

  function saFor(r: FlowRecord, t: TunnelState, direction: TunnelDirection): SaState {
    const key = `${r.src}|${r.dst}|${r.spi === null ? '' : r.spi}`;
    const currentId = saByKey.get(key);
    let sa = currentId === undefined ? undefined : sas.get(currentId);
    let generation = 0;
    if (sa !== undefined && sa.tunnelId !== t.id) {
      // The key moved to another tunnel (e.g. evicted and recreated); start afresh.
      generation = sa.generation + 1;
      sa = undefined;
    }
    if (sa !== undefined && r.startMs - sa.lastSeenMs > saIdleMs) {
      if (sa.endedMs === null) endSa(sa, sa.lastSeenMs, 'idle');
      generation = sa.generation + 1;
      sa = undefined;
    }
    if (sa === undefined) return createSa(r, t, direction, key, generation);
    if (sa.endedMs !== null && sa.endReason === 'idle') {
      // Ended by a sweep driven by another exporter's clock, yet seen within the idle gap: alive.
      sa.endedMs = null;
      sa.endReason = null;
      pairingDirty.add(t.id);
    }
    if (r.startMs < sa.firstSeenMs) sa.firstSeenMs = r.startMs;
    if (r.endMs > sa.lastSeenMs) sa.lastSeenMs = r.endMs;
    if (sa.pairedSaId === null) pairingDirty.add(t.id);
    changedSas.add(sa.id);
    return sa;
  }

  function createSa(
    r: FlowRecord,
    t: TunnelState,
    direction: TunnelDirection,
    key: string,
    generation: number,
  ): SaState {
    const sa: SaState = {
      id: saId(r.src, r.dst, r.spi, generation),
      key,
      tunnelId: t.id,
      direction,
      src: r.src,
      dst: r.dst,
      spi: r.spi,
      generation,
      firstSeenMs: r.startMs,
      lastSeenMs: r.endMs,
      endedMs: null,
      endReason: null,
      pairedSaId: null,
    };
    // A new SPI in a direction is a rekey: the SPI-keyed SAs still current there end when it
    // first appears. Records can arrive out of order, so an SA that first appeared after this
    // one is the successor instead and this one ends at once. SPI-less SAs are one per
    // address pair, so they never rekey each other.
    const history = t.saIds[direction];
    if (r.spi !== null) {
      for (const id of history) {
        const other = sas.get(id);
        if (other === undefined || other.spi === null || other.endedMs !== null) continue;
        if (other.firstSeenMs <= sa.firstSeenMs) endSa(other, sa.firstSeenMs, 'rekey');
        else if (sa.endedMs === null || other.firstSeenMs < sa.endedMs) {
          sa.endedMs = other.firstSeenMs;
          sa.endReason = 'rekey';
        }
      }
      if (sa.endReason === 'rekey') batchCounters.rekeys++;
    }
    sas.set(sa.id, sa);
    saByKey.set(key, sa.id);
    history.push(sa.id);
    trimHistory(history);
    batchCounters.sasCreated++;
    changedSas.add(sa.id);
    pairingDirty.add(t.id);
    return sa;
  }

  /** Drops the oldest ended SAs beyond `saHistory` (they stay in the store). */
  function trimHistory(history: string[]): void {
    while (history.length > config.saHistory) {
      let dropAt = -1;
      for (let i = 0; i < history.length; i++) {
        const sa = sas.get(history[i] as string);
        if (sa === undefined || sa.endedMs !== null) {
          dropAt = i;
          break;
        }
      }
      if (dropAt < 0) dropAt = 0;
      const [id] = history.splice(dropAt, 1);
      if (id === undefined) return;
      const sa = sas.get(id);
      sas.delete(id);
      if (sa !== undefined && saByKey.get(sa.key) === id) saByKey.delete(sa.key);
    }
  }

  function currentSa(t: TunnelState, direction: TunnelDirection): SaState | null {
    const history = t.saIds[direction];
    const id = history[history.length - 1];
    return id === undefined ? null : (sas.get(id) ?? null);
  }

  /** True when another SA of the direction first appeared inside (startMs, endMs]. */
  function saChangedDuring(
    t: TunnelState,
    direction: TunnelDirection,
    own: SaState | null,
    startMs: number,
    endMs: number,
  ): boolean {
    for (const id of t.saIds[direction]) {
      if (own !== null && id === own.id) continue;
      const sa = sas.get(id);
      if (sa !== undefined && sa.firstSeenMs > startMs && sa.firstSeenMs <= endMs) return true;
    }
    return false;
  }

  function updatePairing(tunnelIdValue: string): void {
    const t = tunnels.get(tunnelIdValue);
    if (t === undefined) return;
    const sides: SaState[][] = [[], []];
    for (let d = 0; d < 2; d++) {
      for (const id of t.saIds[pairingDirections[d] as TunnelDirection]) {
        const sa = sas.get(id);
        if (sa !== undefined) (sides[d] as SaState[]).push(sa);
      }
    }
    const pairs = pairSecurityAssociations(sides[0] as SaState[], sides[1] as SaState[]);
    for (const side of sides) {
      for (const sa of side) {
        const partner = pairs.get(sa.id) ?? null;
        if (partner !== sa.pairedSaId) {
          if (partner !== null && sa.direction === 'a-b') batchCounters.saPairsFormed++;
          sa.pairedSaId = partner;
          changedSas.add(sa.id);
        }
      }
    }
  }

  // ---- buckets ----

  function deltaFor(
    tunnel: string,
    bucketStartMs: number,
    direction: TunnelDirection,
    r: FlowRecord,
  ): TunnelBucketDelta {
    const key = `${tunnel}|${bucketStartMs}|${direction}|${r.exporter}|${r.domainId}`;
    let delta = deltas.get(key);
    if (delta === undefined) {
      delta = {
        tunnelId: tunnel,
        bucketStartMs,
        direction,
        exporter: r.exporter,
        domainId: r.domainId,
        packets: 0,
        octets: 0,
        flows: 0,
        espPackets: 0,
        fragments: 0,
        icmpFragNeeded: 0,
        ikePackets: 0,
        leakPackets: 0,
        reportedLost: 0,
        reportedPackets: 0,
        sequenceLost: 0,
        sequencePackets: 0,
        cleared: emptyClearedCounts(),
        carriedIn: 0,
      };
      deltas.set(key, delta);
    }
    return delta;
  }

  function spanOf(r: FlowRecord): void {
    computeBucketSpan(r.startMs, r.endMs, bucketMs, config.maxFlowSpanBuckets, span);
    if (span.clamped) batchCounters.flowsClamped++;
  }

  function addEspToBuckets(
    t: TunnelState,
    direction: TunnelDirection,
    r: FlowRecord,
    kind: BaseKind,
    loss: LossVerdict,
  ): void {
    spanOf(r);
    const isFragment = kind === 'esp-fragment';
    for (let i = 0; i < span.count; i++) {
      const delta = deltaFor(t.id, span.firstBucketMs + i * bucketMs, direction, r);
      const packets = shareOf(r.packets, span, i);
      delta.packets += packets;
      delta.octets += shareOf(r.octets, span, i);
      if (isFragment) delta.fragments += packets;
      else delta.espPackets += packets;
      if (i === 0) delta.flows++;
      else delta.carriedIn++;
      if (loss.lost !== null) {
        if (loss.source === 'reported') {
          delta.reportedLost += shareOf(loss.lost, span, i);
          delta.reportedPackets += packets;
        } else {
          delta.sequenceLost += shareOf(loss.lost, span, i);
          delta.sequencePackets += packets;
        }
      } else if (i === 0 && loss.clearedReason !== null) {
        delta.cleared[loss.clearedReason]++;
      }
    }
  }

  type CountField = 'ikePackets' | 'icmpFragNeeded' | 'leakPackets';

  function addCountToBuckets(
    tunnel: string,
    direction: TunnelDirection,
    r: FlowRecord,
    field: CountField,
    reason: LossClearedReason | null,
  ): void {
    spanOf(r);
    for (let i = 0; i < span.count; i++) {
      const delta = deltaFor(tunnel, span.firstBucketMs + i * bucketMs, direction, r);
      delta[field] += shareOf(r.packets, span, i);
      if (i === 0 && reason !== null) delta.cleared[reason]++;
    }
  }

  // ---- loss ----

  function checkLoss(r: FlowRecord, kind: FlowKind, acrossSaChange: boolean): LossVerdict {
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
      limits,
    );
    batchCounters.lossChecked++;
    if (verdict.clearedReason !== null) batchCounters.lossCleared[verdict.clearedReason]++;
    else batchCounters.lossAccepted++;
    return verdict;
  }

  function carriesLoss(r: FlowRecord): boolean {
    return r.reportedLoss !== null || (r.espSeqFirst !== null && r.espSeqLast !== null);
  }

  function normalized(
    r: FlowRecord,
    kind: FlowKind,
    tunnel: string | null,
    sa: string | null,
    direction: TunnelDirection | null,
    loss: LossVerdict | null,
  ): NormalizedFlow {
    batchCounters.kinds[kind]++;
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

  // ---- the three passes ----

  /**
   * ESP, ESP-in-UDP and ESP fragments. The flow's `validatedLoss` is the exporter's own loss
   * value after validation or, when the record has none, the loss from its ESP sequence
   * numbers (DESIGN.md counts a probe's sequence fields as reported too); the bucket keeps
   * the two apart (`reportedLost` / `sequenceLost`).
   */
  function processEsp(r: FlowRecord, kind: BaseKind): NormalizedFlow {
    const encapsulation: Encapsulation = r.proto === 17 ? 'esp-in-udp' : 'esp';
    const t =
      findTunnel(r.src, r.dst, encapsulation) ??
      createTunnel(r.src, r.dst, encapsulation, r.startMs, r.endMs);
    touchTunnel(t, r.startMs, r.endMs);
    if (t.lastEspMs === null || r.endMs > t.lastEspMs) t.lastEspMs = r.endMs;
    const direction = directionOf(t, r.src);
    // A fragment flow without SPI cannot name its SA; it belongs to the direction's current one.
    const sa = kind === 'esp-fragment' && r.spi === null ? currentSa(t, direction) : saFor(r, t, direction);
    let loss: LossVerdict | null = null;
    if (carriesLoss(r)) {
      const across = r.spi === null && saChangedDuring(t, direction, sa, r.startMs, r.endMs);
      loss = checkLoss(r, kind, across);
    }
    addEspToBuckets(t, direction, r, kind, loss ?? noLoss);
    return normalized(r, kind, t.id, sa === null ? null : sa.id, direction, loss);
  }

  /**
   * IKE joins the tunnel of its peer pair. IKE from or to a port other than 500 went through
   * a NAT, so the peers will talk NAT-T: such IKE prefers the pair's ESP-in-UDP tunnel and
   * creates one if the pair has none; plain 500↔500 IKE prefers (or creates) the ESP tunnel.
   */
  function processIke(r: FlowRecord): NormalizedFlow {
    const natHint = (r.srcPort ?? 500) !== 500 || (r.dstPort ?? 500) !== 500;
    const preferred: Encapsulation = natHint ? 'esp-in-udp' : 'esp';
    const other: Encapsulation = natHint ? 'esp' : 'esp-in-udp';
    const t =
      findTunnel(r.src, r.dst, preferred) ??
      findTunnel(r.src, r.dst, other) ??
      createTunnel(r.src, r.dst, preferred, r.startMs, r.endMs);
    touchTunnel(t, r.startMs, r.endMs);
    const direction = directionOf(t, r.src);
    const loss = carriesLoss(r) ? checkLoss(r, 'ike', false) : null;
    addCountToBuckets(t.id, direction, r, 'ikePackets', loss?.clearedReason ?? null);
    return normalized(r, 'ike', t.id, null, direction, loss);
  }

  /**
   * An ICMP frag-needed belongs to the tunnel of the peer it is sent to (the peer whose
   * ESP was too big) or, failing that, the peer that sends it. The quoted packet (which
   * names the SA) is not in a flow record, so for a hub with several tunnels the one
   * towards the ICMP's other end wins, else the one with the latest ESP (ties by id).
   * The direction is the one the affected ESP travels: from that peer to the other.
   */
  function processIcmpFragNeeded(r: FlowRecord): NormalizedFlow {
    let peer = r.dst;
    let ids = peerIndex.get(r.dst);
    if (ids === undefined || ids.length === 0) {
      peer = r.src;
      ids = peerIndex.get(r.src);
    }
    const loss = carriesLoss(r) ? checkLoss(r, 'icmp-frag-needed', false) : null;
    if (ids === undefined || ids.length === 0) {
      batchCounters.icmpFragNeededUnattributed++;
      return normalized(r, 'icmp-frag-needed', null, null, null, loss);
    }
    const otherEnd = peer === r.dst ? r.src : r.dst;
    let best: TunnelState | undefined;
    for (const id of ids) {
      const t = tunnels.get(id);
      if (t === undefined) continue;
      if (t.peerA === otherEnd || t.peerB === otherEnd) {
        best = t;
        break;
      }
      if (best === undefined || (t.lastEspMs ?? -1) > (best.lastEspMs ?? -1)) best = t;
      else if ((t.lastEspMs ?? -1) === (best.lastEspMs ?? -1) && t.id < best.id) best = t;
    }
    if (best === undefined) {
      batchCounters.icmpFragNeededUnattributed++;
      return normalized(r, 'icmp-frag-needed', null, null, null, loss);
    }
    const direction = directionOf(best, peer);
    addCountToBuckets(best.id, direction, r, 'icmpFragNeeded', loss?.clearedReason ?? null);
    return normalized(r, 'icmp-frag-needed', best.id, null, direction, loss);
  }

  /**
   * Everything else, checked for leaks: traffic between the two peers of a known tunnel
   * (ICMP errors excepted, see classify-kind.ts), or between the protected subnets of a
   * configured tunnel (which need not have been seen yet: the configuration names it).
   */
  function processOther(r: FlowRecord): NormalizedFlow {
    let t: TunnelState | undefined;
    let direction: TunnelDirection = 'a-b';
    if (!isIcmpError(r)) {
      t = latestTunnelBetween(r.src, r.dst);
      if (t !== undefined) direction = directionOf(t, r.src);
    }
    if (t === undefined && configured.length > 0) {
      const src = parseAddress(r.src);
      const dst = src === null ? null : parseAddress(r.dst);
      if (src !== null && dst !== null && anyProtected.contains(src) && anyProtected.contains(dst)) {
        for (const c of configured) {
          let fromPeer: string | null = null;
          if (c.a.contains(src) && c.b.contains(dst)) fromPeer = c.peerA;
          else if (c.b.contains(src) && c.a.contains(dst)) fromPeer = c.peerB;
          if (fromPeer === null) continue;
          t =
            latestTunnelBetween(c.peerA, c.peerB) ??
            createTunnel(c.peerA, c.peerB, 'esp', r.startMs, r.endMs);
          direction = directionOf(t, fromPeer);
          break;
        }
      }
    }
    const kind: FlowKind = t === undefined ? 'other' : 'cleartext-leak';
    const loss = carriesLoss(r) ? checkLoss(r, kind, false) : null;
    if (t === undefined) return normalized(r, kind, null, null, null, loss);
    addCountToBuckets(t.id, direction, r, 'leakPackets', loss?.clearedReason ?? null);
    return normalized(r, kind, t.id, null, direction, loss);
  }

  // ---- housekeeping ----

  /** Ends idle SAs and forgets idle tunnels, at most once per bucket of record time. */
  function sweep(): void {
    if (clockMs - lastSweepMs < bucketMs) return;
    lastSweepMs = clockMs;
    for (const sa of sas.values()) {
      if (sa.endedMs === null && clockMs - sa.lastSeenMs > saIdleMs) endSa(sa, sa.lastSeenMs, 'idle');
    }
    for (const t of tunnels.values()) {
      if (clockMs - t.lastSeenMs <= tunnelIdleMs) continue;
      for (const direction of pairingDirections) {
        for (const id of t.saIds[direction]) {
          const sa = sas.get(id);
          sas.delete(id);
          if (sa !== undefined && saByKey.get(sa.key) === id) saByKey.delete(sa.key);
        }
      }
      unindexTunnel(t);
      tunnels.delete(t.id);
      batchCounters.tunnelsEvicted++;
    }
  }

  function process(batch: readonly FlowRecord[]): NormalizeResult {
    batchCounters = emptyNormalizerCounters();
    changedTunnels = new Set();
    changedSas = new Set();
    pairingDirty = new Set();
    deltas = new Map();
    const n = batch.length;
    const kinds: BaseKind[] = new Array<BaseKind>(n);
    const flows: NormalizedFlow[] = new Array<NormalizedFlow>(n);

    // An observation point that exports an SPI anywhere in this batch counts before its
    // SPI-less ESP records of the same batch are classified.
    for (let i = 0; i < n; i++) {
      const r = batch[i] as FlowRecord;
      if (r.proto === 50 && r.spi !== null) spiPoints.add(`${r.exporter}|${r.domainId}`);
      if (r.endMs > clockMs && r.endMs <= r.receivedMs + clockFutureToleranceMs) clockMs = r.endMs;
    }
    for (let i = 0; i < n; i++) {
      const r = batch[i] as FlowRecord;
      const exportsSpi =
        r.proto === 50 &&
        r.spi === null &&
        spiPoints.size > 0 &&
        spiPoints.has(`${r.exporter}|${r.domainId}`);
      kinds[i] = classifyBaseKind(r, exportsSpi);
    }
    for (let i = 0; i < n; i++) {
      const kind = kinds[i] as BaseKind;
      if (kind === 'esp' || kind === 'esp-in-udp' || kind === 'esp-fragment')
        flows[i] = processEsp(batch[i] as FlowRecord, kind);
    }
    for (const id of pairingDirty) updatePairing(id);
    pairingDirty.clear();
    for (let i = 0; i < n; i++) {
      if (kinds[i] === 'ike') flows[i] = processIke(batch[i] as FlowRecord);
    }
    for (let i = 0; i < n; i++) {
      const kind = kinds[i] as BaseKind;
      if (kind === 'icmp-frag-needed') flows[i] = processIcmpFragNeeded(batch[i] as FlowRecord);
      else if (kind === 'other') flows[i] = processOther(batch[i] as FlowRecord);
    }
    sweep();
    for (const id of pairingDirty) updatePairing(id);
    batchCounters.records = n;

    const result: NormalizeResult = {
      flows,
      buckets: [...deltas.values()],
      tunnels: collect(changedTunnels, tunnels, toTunnel),
      sas: collect(changedSas, sas, toSa),
      counters: batchCounters,
    };
    addNormalizerCounters(cumulative, batchCounters);
    return result;
  }

  return {
    process,
    snapshot(): NormalizerSnapshot {
      return JSON.parse(
        JSON.stringify({
          version: 1,
          tunnels: [...tunnels.values()],
          sas: [...sas.values()],
          spiObservationPoints: [...spiPoints],
          clockMs,
          lastSweepMs,
          counters: cumulative,
        }),
      ) as NormalizerSnapshot;
    },
    counters(): NormalizerCounters {
      const copy = emptyNormalizerCounters();
      addNormalizerCounters(copy, cumulative);
      return copy;
    },
    tunnels(): Tunnel[] {
      return [...tunnels.values()].map(toTunnel);
    },
    securityAssociations(): SecurityAssociation[] {
      return [...sas.values()].map(toSa);
    },
  };
}

const noLoss: LossVerdict = { lost: null, source: null, clearedReason: null };

function collect<S, T>(ids: Set<string>, from: Map<string, S>, convert: (s: S) => T): T[] {
  const out: T[] = [];
  for (const id of ids) {
    const s = from.get(id);
    if (s !== undefined) out.push(convert(s));
  }
  return out;
}

function toTunnel(t: TunnelState): Tunnel {
  return {
    id: t.id,
    name: t.name,
    peerA: t.peerA,
    peerB: t.peerB,
    encapsulation: t.encapsulation,
    ipVersion: t.ipVersion,
    firstSeenMs: t.firstSeenMs,
    lastSeenMs: t.lastSeenMs,
  };
}

function toSa(s: SaState): SecurityAssociation {
  return {
    id: s.id,
    tunnelId: s.tunnelId,
    direction: s.direction,
    src: s.src,
    dst: s.dst,
    spi: s.spi,
    generation: s.generation,
    firstSeenMs: s.firstSeenMs,
    lastSeenMs: s.lastSeenMs,
    endedMs: s.endedMs,
    endReason: s.endReason,
    pairedSaId: s.pairedSaId,
  };
}

function addToIndex(index: Map<string, string[]>, key: string, id: string): void {
  const ids = index.get(key);
  if (ids === undefined) index.set(key, [id]);
  else if (!ids.includes(id)) ids.push(id);
}

function removeFromIndex(index: Map<string, string[]>, key: string, id: string): void {
  const ids = index.get(key);
  if (ids === undefined) return;
  const at = ids.indexOf(id);
  if (at >= 0) ids.splice(at, 1);
  if (ids.length === 0) index.delete(key);
}

import type { LossClearedReason, LossSource, TunnelDirection } from '../model/flow.js';
import { healthFlags, healthState } from './health.js';
import type { HealthEvidence } from './health.js';
import { placeObservationPoints, pointKey, senderSide } from './observation-points.js';
import type { ObservationPointSpec, PointPlacement } from './observation-points.js';
import type { SecurityAssociation, Tunnel } from '../model/tunnel.js';
import type {
  BucketDirectionFigures,
  DirectionFigures,
  LossSpan,
  ObservedBy,
  SaView,
  SourcedLoss,
  TunnelBucketView,
  TunnelSummary,
} from './tunnel-figures.js';
import {
  addBucketCounts,
  emptyBucketCounts,
  emptyClearedCounts,
  lossClearedReasons,
} from '../model/tunnel-bucket.js';
import type { ClearedCounts, TunnelBucket, TunnelBucketCounts } from '../model/tunnel-bucket.js';
import { twoPointSegments } from './two-point-loss.js';
import type { TwoPointBucket, TwoPointSegment } from './two-point-loss.js';

export interface TunnelViewOptions {
  /** Window [fromMs, toMs): buckets whose start falls inside (aligned down to the step). */
  readonly fromMs: number;
  readonly toMs: number;
  /** The stored bucket size. */
  readonly bucketMs: number;
  /** Display step, a multiple of `bucketMs` (default: `bucketMs`). */
  readonly stepMs?: number;
  readonly observationPoints: readonly ObservationPointSpec[];
  readonly ceilingRatio: number;
}

export interface TunnelView {
  readonly summary: TunnelSummary;
  /** One per step that has any row; steps with no record at all (idle) are not listed. */
  readonly buckets: TunnelBucketView[];
}

/** One observation point's rows of one direction, summed per display step. */
interface PointSeries {
  readonly exporter: string;
  readonly domainId: number;
  readonly key: string;
  readonly steps: Map<number, TunnelBucketCounts>;
  /** carriedIn of the stored bucket that starts each step (flows crossing the step's start). */
  readonly carriedInAtStart: Map<number, number>;
  readonly total: TunnelBucketCounts;
  /** carriedIn of the first stored bucket after the window (flows continuing past it). */
  nextCarriedIn: number;
}

interface DirectionPlan {
  readonly direction: TunnelDirection;
  readonly points: PointSeries[];
  readonly reference: PointSeries | null;
  readonly upstream: PointSeries | null;
  readonly downstream: PointSeries | null;
  readonly reportedPoint: PointSeries | null;
  readonly sequencePoint: PointSeries | null;
  readonly segments: TwoPointSegment[];
  /** step start → the two-point segment it belongs to. */
  readonly segmentOf: Map<number, PlacedSegment>;
}

interface PlacedSegment {
  readonly segment: TwoPointSegment;
  readonly startMs: number;
  /** End (exclusive) of the segment's last step. */
  readonly endMs: number;
  readonly lastStepMs: number;
}

const directions: readonly TunnelDirection[] = ['a-b', 'b-a'];
const emptyCounts: Readonly<TunnelBucketCounts> = emptyBucketCounts();

/**
 * Computes a tunnel's figures over a window and per display step from its stored bucket
 * rows (all observation points, both directions). Pass the rows of [fromMs, toMs + one
 * stored bucket): the extra bucket only tells whether records continue past the window.
 *
 * Per direction:
 * - packets / octets: from the point near the sender when one is placed (the upstream
 *   figure: what was sent), else from the point that saw the most packets over the window;
 * - fragments, ICMP frag-needed, IKE and leak counts: the largest any point saw (two
 *   points seeing the same packets must not double them);
 * - loss, first available of: `reported` (exporter loss values, preferring the point near
 *   the receiver, which is where loss shows), `sequence` (likewise), `two-point` (needs a
 *   point near each peer; see two-point-loss.ts for where it is meaningful);
 *   lost = null when nothing measured it;
 * - bogusCleared: values cleared at every point, plus two-point figures cleared.
 * Health per step and over the window: healthState() over the largest ESP and IKE counts
 * any point saw per direction.
 */
export function viewTunnel(
  tunnel: Tunnel,
  sas: readonly SecurityAssociation[],
  rows: readonly TunnelBucket[],
  options: TunnelViewOptions,
): TunnelView {
  const stepMs = options.stepMs ?? options.bucketMs;
  if (stepMs <= 0 || stepMs % options.bucketMs !== 0) {
    throw new RangeError(`step ${stepMs} ms is not a multiple of the bucket size ${options.bucketMs} ms`);
  }
  const firstStep = Math.floor(options.fromMs / stepMs) * stepMs;
  const afterWindow = Math.max(firstStep, Math.ceil(options.toMs / stepMs) * stepMs);

  const series = new Map<TunnelDirection, Map<string, PointSeries>>([
    ['a-b', new Map()],
    ['b-a', new Map()],
  ]);
  const stepStarts = new Set<number>();
  const pointsSeen = new Map<string, { exporter: string; domainId: number }>();
  for (const row of rows) {
    if (row.tunnelId !== tunnel.id) continue;
    const inWindow = row.bucketStartMs >= firstStep && row.bucketStartMs < afterWindow;
    const justAfter = row.bucketStartMs === afterWindow;
    if (!inWindow && !justAfter) continue;
    const key = pointKey(row.exporter, row.domainId);
    const byPoint = series.get(row.direction) as Map<string, PointSeries>;
    let s = byPoint.get(key);
    if (s === undefined) {
      s = {
        exporter: row.exporter,
        domainId: row.domainId,
        key,
        steps: new Map(),
        carriedInAtStart: new Map(),
        total: emptyBucketCounts(),
        nextCarriedIn: 0,
      };
      byPoint.set(key, s);
    }
    if (justAfter) {
      s.nextCarriedIn += row.carriedIn;
      continue;
    }
    pointsSeen.set(key, { exporter: row.exporter, domainId: row.domainId });
    const step = Math.floor(row.bucketStartMs / stepMs) * stepMs;
    stepStarts.add(step);
    let counts = s.steps.get(step);
    if (counts === undefined) {
      counts = emptyBucketCounts();
      s.steps.set(step, counts);
    }
    addBucketCounts(counts, row);
    addBucketCounts(s.total, row);
    if (row.bucketStartMs === step)
      s.carriedInAtStart.set(step, (s.carriedInAtStart.get(step) ?? 0) + row.carriedIn);
  }

  const placements = placeObservationPoints(
    tunnel.peerA,
    tunnel.peerB,
    [...pointsSeen.values()],
    options.observationPoints,
  );
  const placementOf = new Map<string, PointPlacement>(
    placements.map((p) => [pointKey(p.exporter, p.domainId), p]),
  );
  const orderedSteps = [...stepStarts].sort((x, y) => x - y);
  const plans = new Map<TunnelDirection, DirectionPlan>();
  for (const direction of directions) {
    plans.set(
      direction,
      planDirection(
        direction,
        series.get(direction) as Map<string, PointSeries>,
        placementOf,
        orderedSteps,
        stepMs,
        options.ceilingRatio,
      ),
    );
  }
  const planAB = plans.get('a-b') as DirectionPlan;
  const planBA = plans.get('b-a') as DirectionPlan;

  const buckets: TunnelBucketView[] = orderedSteps.map((step) => {
    const aToB = bucketFigures(planAB, step);
    const bToA = bucketFigures(planBA, step);
    const evidence = evidenceOf(planAB, planBA, (s) => s.steps.get(step));
    return {
      start: step,
      aToB,
      bToA,
      fragments: evidence.fragments,
      icmpFragNeeded: evidence.icmpFragNeeded,
      ikePackets: evidence.ikeAToB + evidence.ikeBToA,
      leakPackets: evidence.leakPackets,
      state: healthState(evidence),
      flags: healthFlags(evidence),
    };
  });

  const evidence = evidenceOf(planAB, planBA, (s) => s.total);
  const summary: TunnelSummary = {
    id: tunnel.id,
    name: tunnel.name,
    peerA: tunnel.peerA,
    peerB: tunnel.peerB,
    encapsulation: tunnel.encapsulation,
    state: healthState(evidence),
    flags: healthFlags(evidence),
    firstSeen: tunnel.firstSeenMs,
    lastSeen: tunnel.lastSeenMs,
    sas: sas
      .filter(
        (sa) => sa.tunnelId === tunnel.id && sa.firstSeenMs < options.toMs && sa.lastSeenMs >= options.fromMs,
      )
      .sort((x, y) => x.firstSeenMs - y.firstSeenMs || (x.id < y.id ? -1 : 1))
      .map(saView),
    aToB: windowFigures(planAB),
    bToA: windowFigures(planBA),
    fragments: evidence.fragments,
    icmpFragNeeded: evidence.icmpFragNeeded,
    ikePackets: evidence.ikeAToB + evidence.ikeBToA,
    leakPackets: evidence.leakPackets,
    observationPoints: placements
      .map((p) => ({ exporter: p.exporter, domainId: p.domainId, near: p.near, placedBy: p.placedBy }))
      .sort((x, y) => (pointKey(x.exporter, x.domainId) < pointKey(y.exporter, y.domainId) ? -1 : 1)),
  };
  return { summary, buckets };
}

/** The point with the most packets over the window (ties by key, so the choice is stable). */
function busiest(points: readonly PointSeries[], weight: (s: PointSeries) => number): PointSeries | null {
  let best: PointSeries | null = null;
  for (const s of points) {
    if (best === null || weight(s) > weight(best) || (weight(s) === weight(best) && s.key < best.key))
      best = s;
  }
  return best;
}

function planDirection(
  direction: TunnelDirection,
  byPoint: Map<string, PointSeries>,
  placementOf: Map<string, PointPlacement>,
  orderedSteps: readonly number[],
  stepMs: number,
  ceilingRatio: number,
): DirectionPlan {
  const points = [...byPoint.values()].filter((s) => s.steps.size > 0);
  const sender = senderSide(direction);
  const packets = (s: PointSeries): number => s.total.packets;
  const upstream = busiest(
    points.filter((s) => placementOf.get(s.key)?.near === sender),
    packets,
  );
  const downstream = busiest(
    points.filter((s) => {
      const near = placementOf.get(s.key)?.near;
      return near !== null && near !== undefined && near !== sender;
    }),
    packets,
  );
  const reference = upstream ?? busiest(points, packets);
  const lossPoint = (has: (c: Readonly<TunnelBucketCounts>) => boolean): PointSeries | null => {
    const candidates = points.filter((s) => has(s.total));
    if (downstream !== null && candidates.includes(downstream)) return downstream;
    if (reference !== null && candidates.includes(reference)) return reference;
    return busiest(candidates, packets);
  };
  const reportedPoint = lossPoint(hasReported);
  const sequencePoint = lossPoint(hasSequence);

  let segments: TwoPointSegment[] = [];
  const segmentOf = new Map<number, PlacedSegment>();
  if (upstream !== null && downstream !== null) {
    const steps = orderedSteps.filter((step) => upstream.steps.has(step) || downstream.steps.has(step));
    const input: TwoPointBucket[] = steps.map((step) => ({
      startMs: step,
      upPackets: upstream.steps.get(step)?.packets ?? 0,
      downPackets: downstream.steps.get(step)?.packets ?? 0,
      carriedIn: (upstream.carriedInAtStart.get(step) ?? 0) + (downstream.carriedInAtStart.get(step) ?? 0),
    }));
    segments = twoPointSegments(input, ceilingRatio, upstream.nextCarriedIn + downstream.nextCarriedIn);
    for (const segment of segments) {
      const startMs = steps[segment.first] as number;
      const lastStepMs = steps[segment.last] as number;
      const placed: PlacedSegment = { segment, startMs, endMs: lastStepMs + stepMs, lastStepMs };
      for (let i = segment.first; i <= segment.last; i++) segmentOf.set(steps[i] as number, placed);
    }
  }
  return {
    direction,
    points,
    reference,
    upstream,
    downstream,
    reportedPoint,
    sequencePoint,
    segments,
    segmentOf,
  };
}

function hasReported(c: Readonly<TunnelBucketCounts>): boolean {
  return c.reportedPackets > 0 || c.reportedLost > 0;
}

function hasSequence(c: Readonly<TunnelBucketCounts>): boolean {
  return c.sequencePackets > 0 || c.sequenceLost > 0;
}

function observedBy(s: PointSeries | null): ObservedBy | null {
  return s === null ? null : { exporter: s.exporter, domainId: s.domainId };
}

function sumCleared(
  points: readonly PointSeries[],
  pick: (s: PointSeries) => Readonly<TunnelBucketCounts> | undefined,
): ClearedCounts {
  const cleared = emptyClearedCounts();
  for (const s of points) {
    const c = pick(s);
    if (c === undefined) continue;
    for (const reason of lossClearedReasons) cleared[reason] += c.cleared[reason];
  }
  return cleared;
}

interface LossFigure {
  lost: number | null;
  lossRatio: number | null;
  sent: number | null;
  lossSource: LossSource | null;
}

function fromCounts(c: Readonly<TunnelBucketCounts>, source: 'reported' | 'sequence'): LossFigure {
  const lost = source === 'reported' ? c.reportedLost : c.sequenceLost;
  const received = source === 'reported' ? c.reportedPackets : c.sequencePackets;
  const sent = lost + received;
  return { lost, lossRatio: sent > 0 ? lost / sent : null, sent, lossSource: source };
}

/** Reported and sequence figures of every point (counts picked by `pick`), in point order. */
function pointFigures(
  plan: DirectionPlan,
  pick: (s: PointSeries) => Readonly<TunnelBucketCounts> | undefined,
): SourcedLoss[] {
  const out: SourcedLoss[] = [];
  for (const s of plan.points) {
    const c = pick(s);
    if (c === undefined) continue;
    for (const source of ['reported', 'sequence'] as const) {
      if (source === 'reported' ? !hasReported(c) : !hasSequence(c)) continue;
      const f = fromCounts(c, source);
      out.push({ source, lost: f.lost, lossRatio: f.lossRatio, observedBy: observedBy(s) });
    }
  }
  return out;
}

function bucketFigures(plan: DirectionPlan, step: number): BucketDirectionFigures {
  const ref = plan.reference?.steps.get(step) ?? emptyCounts;
  const bogusCleared = sumCleared(plan.points, (s) => s.steps.get(step));
  let loss: LossFigure = { lost: null, lossRatio: null, sent: null, lossSource: null };
  let lossSpan: LossSpan | null = null;
  const reported = plan.reportedPoint?.steps.get(step);
  const sequence = plan.sequencePoint?.steps.get(step);
  const placed = plan.segmentOf.get(step);
  if (reported !== undefined && hasReported(reported)) {
    loss = fromCounts(reported, 'reported');
  } else if (sequence !== undefined && hasSequence(sequence)) {
    loss = fromCounts(sequence, 'sequence');
  } else if (placed !== undefined) {
    const { segment, startMs, endMs, lastStepMs } = placed;
    const single = segment.first === segment.last;
    if (single && segment.complete) {
      loss = {
        lost: segment.lost,
        lossRatio: segment.lossRatio,
        sent: segment.lost === null ? null : segment.upPackets,
        lossSource: segment.lost === null ? null : 'two-point',
      };
    } else {
      lossSpan = {
        startMs,
        endMs,
        lost: segment.lost,
        lossRatio: segment.lossRatio,
        clearedReason: segment.clearedReason,
        complete: segment.complete,
      };
    }
    // A cleared two-point figure is counted once, on the last bucket it covers.
    if (segment.clearedReason !== null && step === lastStepMs) bogusCleared[segment.clearedReason]++;
  }
  const lossFigures = pointFigures(plan, (s) => s.steps.get(step));
  if (placed !== undefined && placed.segment.first === placed.segment.last && placed.segment.complete) {
    if (placed.segment.lost !== null) {
      lossFigures.push({
        source: 'two-point',
        lost: placed.segment.lost,
        lossRatio: placed.segment.lossRatio,
        observedBy: null,
      });
    }
  }
  return {
    packets: ref.packets,
    octets: ref.octets,
    flows: ref.flows,
    ...loss,
    bogusCleared,
    observedBy: observedBy(plan.reference),
    lossFigures,
    lossSpan,
  };
}

function windowFigures(plan: DirectionPlan): DirectionFigures {
  const ref = plan.reference?.total ?? emptyCounts;
  const bogusCleared = sumCleared(plan.points, (s) => s.total);
  let loss: LossFigure = { lost: null, lossRatio: null, sent: null, lossSource: null };
  const lossFigures = pointFigures(plan, (s) => s.total);
  let twoPoint: LossFigure | null = null;
  if (plan.segments.length > 0) {
    let lost = 0;
    let up = 0;
    let any = false;
    for (const segment of plan.segments) {
      if (segment.lost === null) continue;
      any = true;
      lost += segment.lost;
      up += segment.upPackets;
    }
    if (any) twoPoint = { lost, lossRatio: up > 0 ? lost / up : 0, sent: up, lossSource: 'two-point' };
    if (twoPoint !== null) {
      lossFigures.push({ source: 'two-point', lost, lossRatio: twoPoint.lossRatio, observedBy: null });
    }
  }
  if (plan.reportedPoint !== null) {
    loss = fromCounts(plan.reportedPoint.total, 'reported');
  } else if (plan.sequencePoint !== null) {
    loss = fromCounts(plan.sequencePoint.total, 'sequence');
  } else if (plan.segments.length > 0) {
    for (const segment of plan.segments) {
      if (segment.clearedReason !== null) bogusCleared[segment.clearedReason as LossClearedReason]++;
    }
    if (twoPoint !== null) loss = twoPoint;
  }
  return {
    packets: ref.packets,
    octets: ref.octets,
    flows: ref.flows,
    ...loss,
    bogusCleared,
    observedBy: observedBy(plan.reference),
    lossFigures,
  };
}

function maxOver(
  points: readonly PointSeries[],
  pick: (s: PointSeries) => Readonly<TunnelBucketCounts> | undefined,
  field: keyof Omit<TunnelBucketCounts, 'cleared'>,
): number {
  let max = 0;
  for (const s of points) {
    const c = pick(s);
    if (c !== undefined && c[field] > max) max = c[field];
  }
  return max;
}

function evidenceOf(
  ab: DirectionPlan,
  ba: DirectionPlan,
  pick: (s: PointSeries) => Readonly<TunnelBucketCounts> | undefined,
): HealthEvidence {
  return {
    espAToB: maxOver(ab.points, pick, 'packets'),
    espBToA: maxOver(ba.points, pick, 'packets'),
    ikeAToB: maxOver(ab.points, pick, 'ikePackets'),
    ikeBToA: maxOver(ba.points, pick, 'ikePackets'),
    fragments: maxOver(ab.points, pick, 'fragments') + maxOver(ba.points, pick, 'fragments'),
    icmpFragNeeded: maxOver(ab.points, pick, 'icmpFragNeeded') + maxOver(ba.points, pick, 'icmpFragNeeded'),
    leakPackets: maxOver(ab.points, pick, 'leakPackets') + maxOver(ba.points, pick, 'leakPackets'),
  };
}

function saView(sa: SecurityAssociation): SaView {
  return {
    id: sa.id,
    direction: sa.direction,
    spi: sa.spi,
    src: sa.src,
    dst: sa.dst,
    generation: sa.generation,
    firstSeen: sa.firstSeenMs,
    lastSeen: sa.lastSeenMs,
    ended: sa.endedMs,
    endReason: sa.endReason,
    pairedSaId: sa.pairedSaId,
  };
}

import type { FlowKind, LossClearedReason } from '../../model/flow.js';

/** Where a flow's loss figure came from: the exporter's own field, or ESP sequence numbers. */
export type FlowLossSource = 'reported' | 'sequence';

export interface LossInput {
  readonly kind: FlowKind;
  /** The record has IP fragment information (IE 88 / IE 197). */
  readonly fragmented: boolean;
  /** Another SA of the same direction began inside this flow's time range (a rekey). */
  readonly acrossSaChange: boolean;
  readonly packets: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly reportedLoss: number | null;
  readonly espSeqFirst: number | null;
  readonly espSeqLast: number | null;
}

export interface LossLimits {
  readonly ceilingRatio: number;
  readonly maxPacketRate: number;
}

export interface LossVerdict {
  /** The believable loss, or null (absent or cleared). */
  readonly lost: number | null;
  readonly source: FlowLossSource | null;
  readonly clearedReason: LossClearedReason | null;
}

/** A 32-bit ESP sequence number space (RFC 4303 §2.2); one SA never spans more. */
const sequenceSpace = 2 ** 32;

const absent: LossVerdict = { lost: null, source: null, clearedReason: null };

function cleared(source: FlowLossSource, reason: LossClearedReason): LossVerdict {
  return { lost: null, source, clearedReason: reason };
}

/**
 * Validates one flow's loss figure (DESIGN.md "Loss"). The exporter's own value (IE 133 /
 * 135, or a probe's espLostPackets) is the figure when present; with ESP sequence numbers
 * beside it, it is a probe's sequence count and its source is `sequence`; sequence numbers
 * alone give last − first + 1 − packets. Without either there is nothing to validate. A value is cleared, with the first reason that applies, when it is:
 *
 * 1. on a flow that is not ESP (`non-esp`; ESP-in-UDP counts as ESP);
 * 2. on a flow with IP fragments (`fragments`): non-first fragments carry no ESP header,
 *    so sequence numbers and per-packet loss are unreliable;
 * 3. taken across an SA change (`sa-change`): another SA began inside the flow, or the
 *    last sequence number is below the first (the numbers restarted with a new SA);
 * 4. negative (`negative`): with sequence numbers this is what duplicates do
 *    (more packets than numbers), which Argus turns into absurd loss;
 * 5. more than the sequence space or the packet rate allows (`exceeds-sequence-space`):
 *    more than last − first + 1 or 2^32 numbers, or more lost packets than `maxPacketRate`
 *    could carry over the flow's duration (at least one second);
 * 6. a loss ratio lost / (lost + packets) above `ceilingRatio` (`exceeds-ceiling`).
 */
export function validateLoss(input: LossInput, limits: LossLimits): LossVerdict {
  const hasSequence = input.espSeqFirst !== null && input.espSeqLast !== null;
  // A loss figure that comes with ESP sequence numbers was counted from them: a probe's
  // window (tunnelflow probe), where duplicates and reordering are already accounted for, so
  // the figure is taken as it is rather than recomputed as last − first + 1 − packets.
  const source: FlowLossSource | null = hasSequence
    ? 'sequence'
    : input.reportedLoss !== null
      ? 'reported'
      : null;
  if (source === null) return absent;
  if (input.kind === 'esp-fragment' || input.fragmented) return cleared(source, 'fragments');
  if (input.kind !== 'esp' && input.kind !== 'esp-in-udp') return cleared(source, 'non-esp');
  if (input.acrossSaChange) return cleared(source, 'sa-change');

  let expected = -1;
  if (hasSequence) {
    const first = input.espSeqFirst as number;
    const last = input.espSeqLast as number;
    if (last < first) return cleared(source, 'sa-change');
    expected = last - first + 1;
  }
  const lost = input.reportedLoss !== null ? input.reportedLoss : expected - input.packets;
  if (!Number.isFinite(lost) || lost < 0) return cleared(source, 'negative');
  if (expected > sequenceSpace || lost > sequenceSpace) return cleared(source, 'exceeds-sequence-space');
  if (expected >= 0 && lost > expected) return cleared(source, 'exceeds-sequence-space');
  const seconds = Math.max(1, (input.endMs - input.startMs) / 1000);
  if (lost > limits.maxPacketRate * seconds) return cleared(source, 'exceeds-sequence-space');
  const sent = lost + input.packets;
  if (lost > 0 && lost / sent > limits.ceilingRatio) return cleared(source, 'exceeds-ceiling');
  return { lost, source, clearedReason: null };
}

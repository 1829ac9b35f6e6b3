// Absolute flow start / end from whatever time elements a record carries.

import type { DataRecord } from '../wire/data-record.js';
import type { MessageHeader } from '../wire/decoded-message.js';

/** Per-datagram time facts the record times are relative to. */
export interface TimeBase {
  /** Export time of the datagram, epoch ms (v5 includes the header's nanoseconds). */
  readonly exportMs: number;
  /** The exporter's sysUpTime at export (v5, v9); null for IPFIX, whose header has none. */
  readonly uptimeMs: number | null;
  /** IPFIX systemInitTimeMilliseconds announced in options (IE 160), if any. */
  readonly systemInitMs: number | null;
}

export function timeBase(header: MessageHeader, systemInitMs: number | null): TimeBase {
  switch (header.version) {
    case 5:
      return {
        exportMs: header.unixSecs * 1000 + header.unixNsecs / 1e6,
        uptimeMs: header.sysUptimeMs,
        systemInitMs: null,
      };
    case 9:
      return { exportMs: header.unixSecs * 1000, uptimeMs: header.sysUptimeMs, systemInitMs: null };
    case 10:
      return { exportMs: header.exportTime * 1000, uptimeMs: null, systemInitMs };
  }
}

/** A sysUpTime-relative time (IE 22 / 21, v5 First / Last) as epoch ms, or null. */
function fromUptime(value: number | null, record: DataRecord, base: TimeBase): number | null {
  if (value === null) return null;
  if (base.uptimeMs !== null) {
    // RFC 3954 §8: FIRST/LAST_SWITCHED are sysUpTime ms; the header gives sysUpTime and unix
    // time at export. The difference is taken as a signed 32-bit number so that a flow that
    // started before sysUpTime wrapped (every 49.7 days) still lands just before export.
    return base.exportMs + ((value - base.uptimeMs) | 0);
  }
  // IPFIX has no sysUpTime in its header: RFC 7012 says to add systemInitTimeMilliseconds.
  const init = record.systemInitMs ?? base.systemInitMs;
  return init === null ? null : init + value;
}

/**
 * Start and end in epoch ms (whole ms, rounded down as nfdump does), written into
 * `out[0]` / `out[1]`. Preference: absolute times (IE 150-157), then deltas from the
 * export time (IE 158/159, RFC 7012), then sysUpTime-relative times. A record with only
 * one end uses it for both; one with none gets the export time and the function returns
 * false so the caller can count it.
 */
export function flowTimes(record: DataRecord, base: TimeBase, out: Float64Array): boolean {
  let start = record.startAbsMs;
  let end = record.endAbsMs;
  if (start === null && record.startDeltaUs !== null) start = base.exportMs - record.startDeltaUs / 1000;
  if (end === null && record.endDeltaUs !== null) end = base.exportMs - record.endDeltaUs / 1000;
  if (start === null) start = fromUptime(record.firstSwitched, record, base);
  if (end === null) end = fromUptime(record.lastSwitched, record, base);
  let known = true;
  if (start === null && end === null) {
    start = end = base.exportMs;
    known = false;
  } else if (start === null) {
    start = end;
  } else if (end === null) {
    end = start;
  }
  out[0] = Math.floor(start!);
  out[1] = Math.floor(end!);
  return known;
}

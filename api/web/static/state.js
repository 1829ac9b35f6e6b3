// The page's state lives in the URL, so every view (a range, a tunnel, a minute, a flow
// search) is a link an engineer can paste into a ticket.
//
//   range=1h|24h|7d|all      a preset, resolved against the clock (or the data) on load
//   from=…&to=…              an absolute range (ISO 8601 or epoch ms), when no preset
//   step=60                  bucket size in seconds (absent: chosen from the range)
//   tunnel=<id>              the tunnel shown in detail
//   bucket=<ISO>&span=<s>    the bucket (or run of buckets) whose flows are shown
//   filter=<text>            a flow search (/api/v1/flows) over the bucket or the range
//   minRatio=0.001           threshold of the worst-loss list
//   live=1                   refetch every minute (presets only: an absolute range does not move)

export const PRESETS = {
  '1h': 3600e3,
  '24h': 86400e3,
  '7d': 7 * 86400e3,
};

export const DEFAULT_RANGE = '24h';
export const DEFAULT_MIN_RATIO = 0.001;

/** Bucket sizes the page offers, in seconds; the API wants multiples of the collector's bucket. */
export const STEPS = [60, 300, 900, 3600, 21600, 86400];
/** Most buckets one chart or table asks for when the step is chosen automatically. */
const MAX_AUTO_BUCKETS = 1440;

export function readState(search) {
  const q = new URLSearchParams(search);
  const range = q.get('range');
  const from = q.get('from');
  const to = q.get('to');
  const state = {
    range: range in PRESETS || range === 'all' ? range : null,
    from: null,
    to: null,
    step: positiveInt(q.get('step')),
    tunnel: q.get('tunnel') || null,
    bucket: parseTime(q.get('bucket')),
    span: positiveInt(q.get('span')),
    filter: q.get('filter') ?? null,
    minRatio: nonNegative(q.get('minRatio')),
    live: q.get('live') === '1',
  };
  if (state.range === null) {
    const fromMs = parseTime(from);
    const toMs = parseTime(to);
    if (fromMs !== null && toMs !== null && toMs > fromMs) {
      state.from = fromMs;
      state.to = toMs;
    } else {
      state.range = DEFAULT_RANGE;
    }
  }
  return state;
}

/** The query string for a state (without the leading `?`); defaults are left out. */
export function writeState(state) {
  const q = new URLSearchParams();
  if (state.range !== null) q.set('range', state.range);
  else {
    q.set('from', iso(state.from));
    q.set('to', iso(state.to));
  }
  if (state.step) q.set('step', String(state.step));
  if (state.minRatio !== null && state.minRatio !== undefined) q.set('minRatio', String(state.minRatio));
  if (state.tunnel) q.set('tunnel', state.tunnel);
  if (state.tunnel && state.bucket !== null) {
    q.set('bucket', iso(state.bucket));
    if (state.span) q.set('span', String(state.span));
  }
  if (state.filter !== null) q.set('filter', state.filter);
  if (state.live && state.range !== null) q.set('live', '1');
  return q.toString();
}

function iso(ms) {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * Epoch ms or ISO 8601 text → epoch ms; null when it is neither. A date and time without
 * a zone is taken as UTC, as everything on the page is.
 */
export function parseTime(text) {
  if (text === null || text === undefined) return null;
  const t = String(text).trim();
  if (t === '') return null;
  if (/^\d{1,15}$/.test(t)) return Number(t);
  let candidate = t.replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(candidate)) candidate += 'T00:00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(candidate)) candidate += 'Z';
  const ms = Date.parse(candidate);
  return Number.isNaN(ms) ? null : ms;
}

function positiveInt(text) {
  if (text === null || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n > 0 ? n : null;
}

function nonNegative(text) {
  if (text === null || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/**
 * The bucket size in seconds for a range: the chosen one rounded to a multiple of the
 * collector's bucket (`bucketSeconds`, from /api/v1/health), or the smallest offered
 * multiple that keeps charts readable.
 */
export function stepFor(state, fromMs, toMs, bucketSeconds = 60) {
  const bucket = bucketSeconds > 0 ? bucketSeconds : 60;
  if (state.step) return Math.max(bucket, Math.round(state.step / bucket) * bucket);
  const span = (toMs - fromMs) / 1000;
  const steps = stepsFor(bucket);
  return steps.find((s) => span / s <= MAX_AUTO_BUCKETS) ?? steps[steps.length - 1];
}

/** The steps the page offers for a collector bucket: the bucket itself, then the multiples of it in STEPS. */
export function stepsFor(bucketSeconds) {
  const multiples = STEPS.filter((s) => s > bucketSeconds && s % bucketSeconds === 0);
  return [bucketSeconds, ...multiples];
}

/** Floor and ceiling of a time to a step (seconds), in ms. */
export function floorTo(ms, stepSeconds) {
  const step = stepSeconds * 1000;
  return Math.floor(ms / step) * step;
}

export function ceilTo(ms, stepSeconds) {
  const step = stepSeconds * 1000;
  return Math.ceil(ms / step) * step;
}

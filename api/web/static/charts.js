// The tunnel's per-bucket charts, drawn by uPlot: packets per direction, loss per direction,
// and the signals of the runbook (fragments, ICMP frag-needed, IKE, cleartext leaks).
// The three share one cursor; dragging selects a time range, a click selects a bucket.
import uPlot from './vendor/uPlot.esm.js';
import { percent, si, utc, utcTime } from './format.js';

export const COLORS = {
  aToB: '#1f6fd1',
  bToA: '#d9730d',
  fragments: '#b58900',
  icmpFragNeeded: '#c0392b',
  ike: '#7b4fc9',
  leak: '#8e1b4f',
};

const SYNC_KEY = 'tunnel-buckets';

/** Charts currently on the page, destroyed before the next render. */
let live = [];

export function destroyCharts() {
  for (const chart of live) chart.destroy();
  live = [];
}

/**
 * Draws the charts into `container`. `buckets` are the API's items in time order; `stepS`
 * the bucket size in seconds. Points sit at bucket centres so bars and lines line up.
 */
export function drawCharts(container, { buckets, stepS, selectedStart, onSelectRange, onSelectBucket }) {
  destroyCharts();
  const stepMs = stepS * 1000;
  const xs = buckets.map((b) => (b.start + stepMs / 2) / 1000);
  const pick = (fn) => buckets.map((b) => fn(b));
  // A bucket's own loss, and apart from it the ratio of a two-point run (a figure that only a
  // run of buckets can give): drawn lighter on every bucket of the run, so nobody reads the
  // run's average as a loss in each of its minutes.
  const bucketLoss = (d) => (d.lossRatio === null || d.lossRatio === undefined ? null : d.lossRatio * 100);
  const runLoss = (d) => {
    const span = d.lossSpan;
    if (bucketLoss(d) !== null || !span || !span.complete || span.lossRatio === null) return null;
    return span.lossRatio * 100;
  };
  const lossLegend = (dir) => (_u, value, _si, idx) => {
    if (idx === null || idx === undefined) return '—';
    const d = buckets[idx]?.[dir];
    if (!d) return '—';
    if (value === null || value === undefined) return d.lost === null && !d.lossSpan ? 'not measured' : '—';
    return `${percent(value / 100)} · ${si(d.lost)} lost`;
  };
  const runLegend = (dir) => (_u, value, _si, idx) => {
    const span = idx === null || idx === undefined ? null : buckets[idx]?.[dir]?.lossSpan;
    if (value === null || value === undefined || !span) return '—';
    const when = `${utcTime(span.startMs).slice(0, 5)}–${utcTime(span.endMs).slice(0, 5)}`;
    return `${percent(value / 100)} · ${si(span.lost)} lost over ${when}`;
  };
  const countLegend = (_u, value) => (value === null || value === undefined ? '—' : si(value));

  const width = Math.max(320, container.clientWidth - 8);
  const common = (title, height) => ({
    title,
    width,
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    cursor: {
      sync: { key: SYNC_KEY, setSeries: true },
      drag: { x: true, y: false, setScale: false },
      points: { size: 6 },
    },
    legend: { live: true },
    // Room on the right for the last tick's label.
    padding: [8, 40, 0, 0],
    hooks: {
      // Under the series, so the selected bucket's bars keep their colours.
      drawClear: [(u) => markBucket(u, selectedStart, stepMs)],
      setSelect: [
        (u) => {
          if (u.select.width < 4) return;
          const from = u.posToVal(u.select.left, 'x') * 1000;
          const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          onSelectRange(from, to);
        },
      ],
      ready: [
        (u) => {
          u.over.addEventListener('click', () => {
            const idx = u.cursor.idx;
            if (idx !== null && idx !== undefined && buckets[idx]) onSelectBucket(buckets[idx]);
          });
          u.over.title = 'Click a bucket to see its flows · drag to zoom into a time range';
        },
      ],
    },
  });
  const xScale = { time: true, range: () => rangeX(buckets, stepMs) };
  const xAxis = {
    stroke: '#444',
    grid: { stroke: '#eee' },
    ticks: { stroke: '#ccc' },
    values: timeTicks,
    // Tick spacing in whole buckets: a tick between two buckets would label nothing.
    incrs: TIME_INCRS.filter((i) => i >= stepS),
  };
  const yAxis = (label, format) => ({
    label,
    stroke: '#444',
    size: 60,
    grid: { stroke: '#eee' },
    ticks: { stroke: '#ccc' },
    values: (_u, splits) => splits.map(format),
  });
  const timeSeries = {
    label: 'Bucket (UTC)',
    value: (_u, ts) => (ts === null || ts === undefined ? '—' : utc(ts * 1000 - stepMs / 2)),
  };

  const packets = new uPlot(
    {
      ...common(`Packets per ${stepLabel(stepS)}`, 200),
      series: [
        timeSeries,
        line('A→B packets', COLORS.aToB, countLegend),
        line('B→A packets', COLORS.bToA, countLegend),
      ],
      axes: [xAxis, yAxis('packets', si)],
      scales: { x: xScale, y: { range: (_u, _min, max) => [0, niceMax(max)] } },
    },
    [xs, pick((b) => b.aToB.packets), pick((b) => b.bToA.packets)],
    container.appendChild(chartBox('Packets per bucket, A→B and B→A')),
  );

  const bars = (align) => uPlot.paths.bars({ size: [0.45, 24, 1], align });
  const loss = new uPlot(
    {
      ...common('Loss (% of packets sent)', 170),
      series: [
        timeSeries,
        {
          label: 'A→B loss',
          stroke: COLORS.aToB,
          fill: COLORS.aToB + 'cc',
          width: 0,
          paths: bars(-1),
          points: { show: false },
          value: lossLegend('aToB'),
        },
        {
          label: 'B→A loss',
          stroke: COLORS.bToA,
          fill: COLORS.bToA + 'cc',
          width: 0,
          paths: bars(1),
          points: { show: false },
          value: lossLegend('bToA'),
        },
        {
          label: 'A→B run',
          stroke: COLORS.aToB,
          fill: COLORS.aToB + '40',
          width: 0,
          paths: bars(-1),
          points: { show: false },
          value: runLegend('aToB'),
        },
        {
          label: 'B→A run',
          stroke: COLORS.bToA,
          fill: COLORS.bToA + '40',
          width: 0,
          paths: bars(1),
          points: { show: false },
          value: runLegend('bToA'),
        },
      ],
      axes: [xAxis, yAxis('loss', (v) => `${+v.toPrecision(3)} %`)],
      scales: { x: xScale, y: { range: (_u, _min, max) => [0, Math.max(niceMax(max), 0.1)] } },
    },
    [
      xs,
      pick((b) => bucketLoss(b.aToB)),
      pick((b) => bucketLoss(b.bToA)),
      pick((b) => runLoss(b.aToB)),
      pick((b) => runLoss(b.bToA)),
    ],
    container.appendChild(chartBox('Loss per bucket, A→B and B→A')),
  );

  const signals = new uPlot(
    {
      ...common('Signals: fragments, ICMP frag-needed, IKE, cleartext leaks (packets)', 170),
      series: [
        timeSeries,
        line('ESP fragments', COLORS.fragments, countLegend),
        line('ICMP frag needed', COLORS.icmpFragNeeded, countLegend),
        line('IKE', COLORS.ike, countLegend),
        line('cleartext leak', COLORS.leak, countLegend),
      ],
      axes: [xAxis, yAxis('packets', si)],
      scales: { x: xScale, y: { range: (_u, _min, max) => [0, Math.max(niceMax(max), 1)] } },
    },
    [
      xs,
      pick((b) => b.fragments),
      pick((b) => b.icmpFragNeeded),
      pick((b) => b.ikePackets),
      pick((b) => b.leakPackets),
    ],
    container.appendChild(
      chartBox('ESP fragments, ICMP frag-needed, IKE and cleartext leak packets per bucket'),
    ),
  );

  live = [packets, loss, signals];
  // The legends show the selected bucket's figures until the pointer moves over a chart.
  const selectedIdx = buckets.findIndex((b) => b.start === selectedStart);
  if (selectedIdx >= 0) {
    // After uPlot's first layout pass (it commits sizes asynchronously).
    window.requestAnimationFrame(() => {
      for (const chart of live)
        chart.setCursor({ left: chart.valToPos(xs[selectedIdx], 'x'), top: 1 }, false);
    });
  }
  const resize = () => {
    const w = Math.max(320, container.clientWidth - 8);
    for (const chart of live) chart.setSize({ width: w, height: chart.height });
  };
  if (typeof ResizeObserver === 'function') {
    const observer = new ResizeObserver(() => window.requestAnimationFrame(resize));
    observer.observe(container);
    const destroy = packets.destroy.bind(packets);
    packets.destroy = () => {
      observer.disconnect();
      destroy();
    };
  }
}

/** A chart's container; screen readers are pointed to the bucket table, which has the same figures. */
function chartBox(label) {
  const div = window.document.createElement('div');
  div.className = 'chart';
  div.setAttribute('role', 'img');
  div.setAttribute('aria-label', `${label}; the bucket table below lists the same figures`);
  return div;
}

function line(label, color, value) {
  return {
    label,
    stroke: color,
    width: 1.5,
    points: { show: (u, si) => u.data[si].length <= 40, size: 4 },
    value,
    spanGaps: false,
  };
}

const TIME_INCRS = [
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  10800,
  21600,
  43200,
  86400,
  2 * 86400,
  7 * 86400,
  14 * 86400,
  30 * 86400,
];

/**
 * Tick labels in UTC, 24-hour: "03:05", with the date under the first tick and under every
 * tick where the day changes (and date-only labels for day-sized ticks).
 */
function timeTicks(_u, splits, _axisIdx, _space, incr) {
  let lastDay = null;
  return splits.map((ts) => {
    const iso = new Date(ts * 1000).toISOString();
    const day = iso.slice(0, 10);
    const time = iso.slice(11, 16);
    const label = incr >= 86400 ? day.slice(5) : day === lastDay ? time : `${time}\n${day}`;
    lastDay = day;
    return label;
  });
}

/** The whole requested range on the x axis, not just the buckets that have data. */
function rangeX(buckets, stepMs) {
  if (buckets.length === 0) return [0, 1];
  const first = buckets[0].start;
  const last = buckets[buckets.length - 1].start + stepMs;
  return [first / 1000, last / 1000];
}

function niceMax(max) {
  if (max === null || max === undefined || !Number.isFinite(max) || max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (m * magnitude >= max * 1.05) return m * magnitude;
  }
  return 10 * magnitude;
}

/** Shades the selected bucket so the charts and the flows below visibly belong together. */
function markBucket(u, selectedStart, stepMs) {
  if (selectedStart === null || selectedStart === undefined) return;
  const left = u.valToPos(selectedStart / 1000, 'x', true);
  const right = u.valToPos((selectedStart + stepMs) / 1000, 'x', true);
  const { top, height } = u.bbox;
  const ctx = u.ctx;
  ctx.save();
  ctx.fillStyle = 'rgba(255, 196, 0, 0.28)';
  ctx.strokeStyle = 'rgba(200, 140, 0, 0.9)';
  const w = Math.max(2, right - left);
  ctx.fillRect(left, top, w, height);
  ctx.strokeRect(left, top, w, height);
  ctx.restore();
}

export function stepLabel(stepS) {
  if (stepS % 86400 === 0) return stepS === 86400 ? 'day' : `${stepS / 86400} days`;
  if (stepS % 3600 === 0) return stepS === 3600 ? 'hour' : `${stepS / 3600} h`;
  if (stepS % 60 === 0) return stepS === 60 ? 'minute' : `${stepS / 60} min`;
  return `${stepS} s`;
}

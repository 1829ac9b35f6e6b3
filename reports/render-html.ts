import escapeHtml from 'escape-html';
import { describeBreach } from './report.js';
import type { DirectionReport, SlaReport, TunnelReport } from './report.js';

/**
 * The report as ONE self-contained HTML file: inline CSS and an inline SVG chart, no
 * script and no external resource, so it reads the same mailed, opened offline or printed.
 * (The web page's uPlot needs a script and a canvas; a mail client runs neither, so the
 * chart here is plain SVG.)
 */
export function renderHtml(report: SlaReport): string {
  const e = escapeHtml;
  const title = `SLA report ${report.policy.name}: ${day(report.period.from)} – ${day(report.period.to)}`;
  const s = report.summary;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tunnelflow">
<title>${e(title)}</title>
<style>${css}</style>
</head>
<body>
<header>
<h1>${e(title)}</h1>
<p class="period">Period ${e(iso(report.period.from))} to ${e(iso(report.period.to))} (${e(report.period.timezone)}),
minute = ${report.bucketSeconds} s bucket. Generated ${e(iso(report.generatedAt))}.</p>
</header>
<section id="summary">
<h2>Summary</h2>
<dl class="summary">
<div><dt>Tunnels</dt><dd>${s.tunnels}</dd></div>
<div><dt>Meeting targets</dt><dd>${s.meetingTargets}</dd></div>
<div><dt>Breaching</dt><dd class="${s.breaching > 0 ? 'bad' : ''}">${s.breaching}</dd></div>
<div><dt>Worst availability</dt><dd>${pct(s.worstAvailability, 3)}</dd></div>
<div><dt>Packets sent / lost</dt><dd>${num(s.sent)} / ${num(s.lost)}</dd></div>
</dl>
<p class="policy">Targets: availability ≥ ${pct(report.policy.targets.availability, 3)}, loss ratio ≤ ${pct(report.policy.targets.lossRatio, 3)}.
High-loss minute: loss ratio &gt; ${pct(report.policy.highLossRatio, 2)} in either direction, or traffic not both ways;
${report.policy.consecutiveMinutes} consecutive minutes start or end unavailable time (MEF 10.3, ITU-T Y.1540).
Idle minutes ${report.policy.expectTraffic ? 'count as high-loss (traffic expected)' : 'are out of scope'}.
${report.maintenance.length} maintenance window(s) in the period.</p>
</section>
<section id="chart">
<h2>Availability and loss per tunnel</h2>
${chart(report)}
</section>
<section id="tunnels">
<h2>Tunnels (worst first)</h2>
<table class="tunnels">
<thead><tr><th>Tunnel</th><th>Peers</th><th>Availability</th><th>Minutes in scope / unavailable / no data</th><th>HLI / CHLI</th>
<th>A→B sent / lost / ratio</th><th>B→A sent / lost / ratio</th><th>Breaches</th></tr></thead>
<tbody>
${report.tunnels.map(tunnelRow).join('\n')}
</tbody>
</table>
</section>
${report.tunnels.map(tunnelDetails).join('\n')}
<section id="completeness">
<h2>Completeness of the data</h2>
<table>
<thead><tr><th>Exporter</th><th>Domain</th><th>Records</th><th>Datagrams</th><th>Decode issues</th><th>Sequence gaps</th><th>Silent minutes</th></tr></thead>
<tbody>
${report.completeness
  .map(
    (c) =>
      `<tr><td>${e(c.exporter)}</td><td>${c.domainId}</td><td>${num(c.records)}</td><td>${num(c.datagrams)}</td><td class="${c.issues > 0 ? 'bad' : ''}">${num(c.issues)}</td><td class="${c.sequenceGaps > 0 ? 'bad' : ''}">${num(c.sequenceGaps)}</td><td>${num(c.silentMinutes)}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
</section>
<footer><p>Loss ratio = lost / packets sent, per direction. Minutes where loss was not measured are counted as such, never as zero loss.
Availability = available minutes / (minutes − maintenance − no data − idle, unless traffic is expected).</p></footer>
</body>
</html>
`;
}

function tunnelRow(t: TunnelReport): string {
  const e = escapeHtml;
  const dir = (d: DirectionReport | undefined) =>
    d === undefined || d.lost === null
      ? `<td class="na">${d === undefined ? '' : `${num(d.packets)} / not measured`}</td>`
      : `<td>${num(d.sent ?? d.packets)} / ${num(d.lost)} / ${pct(d.lossRatio, 3)} <small>${e(d.lossSource ?? '')}</small></td>`;
  return `<tr class="tunnel${t.breaches.length > 0 ? ' breach' : ''}" data-tunnel="${e(t.id)}">
<td><a href="#t-${e(t.id)}">${e(t.name ?? t.id)}</a></td><td>${e(t.peerA)} ↔ ${e(t.peerB)}</td>
<td>${pct(t.availability, 3)}</td><td>${t.minutes.inScope} / ${t.minutes.unavailable} / ${t.minutes.noData}</td><td>${t.hli} / ${t.chli}</td>
${dir(t.directions[0])}${dir(t.directions[1])}<td>${e(t.breaches.map(describeBreach).join('; '))}</td></tr>`;
}

function tunnelDetails(t: TunnelReport): string {
  const e = escapeHtml;
  const states = Object.entries(t.minutesByState)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${e(s)} ${n}`)
    .join(', ');
  const flagged = Object.entries(t.minutesWithFlag)
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${e(f)} ${n}`)
    .join(', ');
  return `<section class="tunnel-detail" id="t-${e(t.id)}">
<h3>${e(t.name ?? t.id)} <small>${e(t.peerA)} ↔ ${e(t.peerB)}, ${e(t.encapsulation)}</small></h3>
<p>Minutes by state: ${states || 'none with data'}. Flags: ${flagged || 'none'}. Coverage: ${pct(t.coverage.withData, 1)} of minutes with data.</p>
<table><thead><tr><th>Direction</th><th>Packets</th><th>Octets</th><th>Lost</th><th>Ratio</th><th>Source</th><th>Measured minutes</th><th>p50 / p95 / p99</th></tr></thead><tbody>
${t.directions
  .map(
    (d) =>
      `<tr><td>${d.direction === 'a-b' ? 'A→B' : 'B→A'}</td><td>${num(d.packets)}</td><td>${num(d.octets)}</td><td>${d.lost === null ? 'not measured' : num(d.lost)}</td><td>${pct(d.lossRatio, 3)}</td><td>${e(d.lossSource ?? '')}</td><td>${d.measuredMinutes} (${pct(d.measuredShare, 1)})</td><td>${d.lossRatioPercentiles === null ? '' : `${pct(d.lossRatioPercentiles.p50, 2)} / ${pct(d.lossRatioPercentiles.p95, 2)} / ${pct(d.lossRatioPercentiles.p99, 2)}`}</td></tr>`,
  )
  .join('\n')}
</tbody></table>
${
  t.unavailableIntervals.length === 0
    ? ''
    : `<p>Unavailable: ${t.unavailableIntervals.map((i) => `${e(iso(i.startMs))} – ${e(iso(i.endMs))}`).join('; ')}</p>`
}
${
  t.worstMinutes.length === 0
    ? ''
    : `<p>Worst minutes:</p><ol class="worst">${t.worstMinutes
        .map(
          (w) =>
            `<li>${e(iso(w.start))} – ${e(iso(w.end))} ${w.direction === 'a-b' ? 'A→B' : 'B→A'}: ${num(w.lost)} lost (${pct(w.lossRatio, 2)}, ${e(w.lossSource)}) — drill-down <code>${e(w.drillDown)}</code></li>`,
        )
        .join('')}</ol>`
}
</section>`;
}

const CHART_MAX = 50;

/** One row per tunnel (worst first, at most 50): availability bar with the target, loss per direction. */
function chart(report: SlaReport): string {
  const tunnels = report.tunnels.slice(0, CHART_MAX);
  if (tunnels.length === 0) return '<p>No tunnel in the period.</p>';
  const rowH = 22;
  const label = 220;
  const bar = 300;
  const gap = 40;
  const width = label + bar + gap + bar + 10;
  const height = 30 + rowH * tunnels.length;
  const maxLoss = Math.max(
    report.policy.targets.lossRatio * 2,
    ...tunnels.flatMap((t) => t.directions.map((d) => d.lossRatio ?? 0)),
  );
  const target = label + bar * report.policy.targets.availability;
  const lossTarget = label + bar + gap + (bar * report.policy.targets.lossRatio) / maxLoss;
  const rows = tunnels.map((t, i) => {
    const y = 30 + i * rowH;
    const a = t.availability;
    const e = escapeHtml;
    const lossBars = t.directions
      .map((d, j) => {
        const w = d.lossRatio === null ? 0 : (bar * d.lossRatio) / maxLoss;
        return `<rect class="loss ${d.direction}" x="${label + bar + gap}" y="${y + 2 + j * 8}" width="${w.toFixed(1)}" height="7"><title>${d.direction} ${pct(d.lossRatio, 3)}</title></rect>`;
      })
      .join('');
    return `<g class="row"><text x="${label - 6}" y="${y + 14}" text-anchor="end">${e(truncate(t.name ?? t.id, 30))}</text>
<rect class="track" x="${label}" y="${y + 3}" width="${bar}" height="14"/>${a === null ? '' : `<rect class="avail${a < report.policy.targets.availability ? ' bad' : ''}" x="${label}" y="${y + 3}" width="${(bar * a).toFixed(1)}" height="14"><title>${pct(a, 3)}</title></rect>`}${lossBars}</g>`;
  });
  return `<svg class="chart" role="img" aria-label="availability and loss ratio per tunnel" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<text x="${label}" y="14">availability (0–100 %, line = target)</text>
<text x="${label + bar + gap}" y="14">loss ratio A→B / B→A (0–${pct(maxLoss, 2)})</text>
${rows.join('\n')}
<line class="target" x1="${target}" x2="${target}" y1="24" y2="${height}"/>
<line class="target" x1="${lossTarget}" x2="${lossTarget}" y1="24" y2="${height}"/>
</svg>${report.tunnels.length > CHART_MAX ? `<p>The ${CHART_MAX} worst of ${report.tunnels.length} tunnels.</p>` : ''}`;
}

const css = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433;margin:2em auto;max-width:75em;padding:0 1em}
h1{font-size:1.5em;margin:0}h2{font-size:1.2em;border-bottom:1px solid #ccd;margin-top:1.6em}h3{font-size:1.05em}
small{color:#667}.period,.policy{color:#445}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #d5d9e2;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f1f3f7}tr.breach td:first-child{border-left:4px solid #c0392b}.bad{color:#c0392b;font-weight:600}.na{color:#889}
dl.summary{display:flex;flex-wrap:wrap;gap:1em;margin:0}dl.summary div{border:1px solid #d5d9e2;padding:.4em .8em;border-radius:4px}
dt{font-size:.8em;color:#667}dd{margin:0;font-size:1.2em}
svg.chart{max-width:100%;height:auto;font-size:11px}svg .track{fill:#eef0f4}svg .avail{fill:#2e8b57}svg .avail.bad{fill:#c0392b}
svg .loss.a-b{fill:#d35400}svg .loss.b-a{fill:#8e44ad}svg .target{stroke:#1d2433;stroke-dasharray:3 2}
code{font-size:.9em}
@media print{body{margin:0;max-width:none;font-size:11px}a{color:inherit;text-decoration:none}section{break-inside:avoid-page}}
`;

function pct(x: number | null, digits: number): string {
  return x === null ? '—' : `${(x * 100).toFixed(digits)} %`;
}

function num(x: number): string {
  return x.toLocaleString('en-US');
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function day(ms: number): string {
  return iso(ms).slice(0, 16).replace('T', ' ');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

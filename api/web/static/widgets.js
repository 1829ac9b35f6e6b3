// Small pieces shared by the views: badges, loss figures, times, problems.
import { h } from './dom.js';
import {
  FLAG_HELP,
  FLAG_TEXT,
  SOURCE_HELP,
  STATE_HELP,
  STATE_TEXT,
  clearedText,
  clearedTotal,
  exact,
  isoParam,
  localHint,
  percent,
  si,
  utc,
  utcTime,
} from './format.js';

export function stateBadge(state) {
  return h(
    'span',
    { class: `badge state-${state}`, title: STATE_HELP[state] ?? state },
    STATE_TEXT[state] ?? state,
  );
}

export function flagChips(flags) {
  if (!flags || flags.length === 0) return h('span', { class: 'muted' }, '—');
  return h(
    'span',
    { class: 'chips' },
    flags.map((f) => h('span', { class: `chip flag-${f}`, title: FLAG_HELP[f] ?? f }, FLAG_TEXT[f] ?? f)),
  );
}

/** The state badge with the flags that hold under it. */
export function stateAndFlags({ state, flags }) {
  return h(
    'div',
    { class: 'state-flags' },
    stateBadge(state),
    flags && flags.length ? flagChips(flags) : null,
  );
}

/**
 * The class of a signal count: zero is muted; fragments warn, ICMP frag-needed and leaks
 * alarm; IKE is normal traffic (rekeys, liveness) and stays plain.
 */
export function signalClass(n, level) {
  if (!(n > 0)) return 'muted';
  return level === 'alarm' ? 'sig-alarm' : level === 'warn' ? 'sig-on' : '';
}

/** `<time>` in UTC with the local time in its tooltip. */
export function timeEl(ms, { short = false } = {}) {
  if (ms === null || ms === undefined) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: isoParam(ms), title: localHint(ms) }, short ? utcTime(ms) : utc(ms));
}

export function sourceTag(source) {
  if (!source) return null;
  return h('span', { class: `source source-${source}`, title: SOURCE_HELP[source] ?? source }, source);
}

/** "n cleared" chip: loss values refused as impossible, with the reasons in its tooltip. */
export function clearedChip(cleared) {
  const total = clearedTotal(cleared);
  if (total === 0) return null;
  return h(
    'span',
    {
      class: 'chip cleared',
      title: `Loss values cleared as bogus (not counted as loss): ${clearedText(cleared)}`,
    },
    `${exact(total)} cleared as bogus`,
  );
}

/**
 * A direction's loss: ratio, lost packets and where the figure comes from; "not measured"
 * when nothing could measure it (null is not zero). Cleared values are always shown.
 */
export function lossFigure(d, { span = true } = {}) {
  const parts = [];
  const run = d.lossSpan ?? null;
  if ((d.lost === null || d.lost === undefined) && span && run) {
    // Two-point loss that only a run of buckets can give: the run's figure stands in.
    parts.push(runFigure(run));
  } else if (d.lost === null || d.lost === undefined) {
    parts.push(
      h(
        'span',
        {
          class: 'muted',
          title: 'No loss measurement: no sequence fields, no reported loss, no second observation point',
        },
        'not measured',
      ),
    );
  } else {
    parts.push(
      h(
        'span',
        { class: `loss-value ${lossClass(d.lossRatio)}`, title: `${exact(d.lost)} packets lost` },
        percent(d.lossRatio),
      ),
    );
    if (d.lost > 0) parts.push(' ', h('span', { class: 'small' }, `${si(d.lost)} lost`));
  }
  const source = d.lossSource ?? (run && span ? 'two-point' : null);
  if (source) parts.push(' ', sourceTag(source));
  if (span && run && d.lost !== null && d.lost !== undefined) parts.push(h('div', {}, runFigure(run)));
  const chip = clearedChip(d.bogusCleared);
  if (chip) parts.push(h('div', {}, chip));
  return h('div', { class: 'loss' }, parts);
}

/** A two-point run's figure: "0.98 % 17 lost" over "run 09:00–09:05". */
function runFigure(run) {
  const when = `${utcTime(run.startMs).slice(0, 5)}–${utcTime(run.endMs).slice(0, 5)}`;
  const title =
    'Two-point loss: packets seen near the sender minus packets seen near the receiver. It is exact only ' +
    'where no flow crosses a bucket edge, so this figure covers the whole run of buckets, not this bucket alone.';
  if (!run.complete) {
    return h('span', { class: 'muted small', title }, `run ${when}: cut by the window’s edge, no figure`);
  }
  if (run.lost === null) {
    return h(
      'span',
      { class: 'muted small', title },
      `run ${when}: cleared${run.clearedReason ? ` (${run.clearedReason})` : ''}`,
    );
  }
  return h(
    'span',
    { class: 'run', title },
    h('span', { class: `loss-value ${lossClass(run.lossRatio)}` }, percent(run.lossRatio)),
    run.lost > 0 ? h('span', { class: 'small' }, ` ${si(run.lost)} lost`) : null,
    h('span', { class: 'small muted' }, ` over run ${when}`),
  );
}

export function lossClass(ratio) {
  if (ratio === null || ratio === undefined) return '';
  if (ratio >= 0.01) return 'loss-bad';
  if (ratio >= 0.001) return 'loss-warn';
  if (ratio > 0) return 'loss-low';
  return 'loss-none';
}

/** "seen by 192.0.2.140 (domain 0)" for tooltips. */
export function observedText(observedBy) {
  if (!observedBy) return 'no observation point';
  return `seen by ${observedBy.exporter} (domain ${observedBy.domainId})`;
}

/** A problem from the API, with its `detail`, in an alert box. */
export function problemBox(err, what) {
  const status = err.status ? ` (HTTP ${err.status})` : '';
  return h(
    'div',
    { class: 'problem', role: 'alert' },
    h('strong', {}, `Could not load ${what}${status}: `),
    err.detail || err.title || err.message || String(err),
    err.url ? h('div', { class: 'small' }, h('code', {}, err.url)) : null,
  );
}

export function emptyNote(text, ...extra) {
  return h('p', { class: 'empty' }, text, ...extra);
}

export function dirLabel(direction, tunnel) {
  const ab = direction === 'a-b' || direction === 'aToB';
  const text = ab ? 'A→B' : 'B→A';
  const title = tunnel
    ? ab
      ? `${tunnel.peerA} → ${tunnel.peerB}`
      : `${tunnel.peerB} → ${tunnel.peerA}`
    : null;
  return h('span', { class: `dir ${ab ? 'dir-ab' : 'dir-ba'}`, title }, text);
}

export function tunnelTitle(t) {
  return t.name || `${t.peerA} ↔ ${t.peerB}`;
}

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
  if (d.lost === null || d.lost === undefined) {
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
  if (d.lossSource) parts.push(' ', sourceTag(d.lossSource));
  if (span && d.lossSpan) parts.push(h('div', { class: 'small' }, spanText(d.lossSpan)));
  const chip = clearedChip(d.bogusCleared);
  if (chip) parts.push(h('div', {}, chip));
  return h('div', { class: 'loss' }, parts);
}

function spanText(span) {
  const when = `${utcTime(span.startMs).slice(0, 5)}–${utcTime(span.endMs).slice(0, 5)}`;
  const title =
    'Two-point loss is exact only where no flow crosses a bucket edge, so this figure covers a run of buckets';
  if (!span.complete) {
    return h('span', { class: 'muted', title }, `run ${when}: incomplete at the window’s edge, no figure`);
  }
  if (span.lost === null) {
    return h(
      'span',
      { class: 'muted', title },
      `run ${when}: cleared${span.clearedReason ? ` (${span.clearedReason})` : ''}`,
    );
  }
  return h('span', { title }, `run ${when}: ${si(span.lost)} lost (${percent(span.lossRatio)})`);
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

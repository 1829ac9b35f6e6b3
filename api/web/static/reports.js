// The Reports view: stored SLA reports, newest first, with a link to each format, and a
// button that makes a report of the range on screen (POST /api/v1/reports).
import { h, fill, table } from './dom.js';
import { utc } from './format.js';
import { emptyNote } from './widgets.js';

function availabilityText(a) {
  return a === null || a === undefined ? '—' : `${(a * 100).toFixed(3)} %`;
}

/**
 * Renders the list. `onCreate` makes a report of the range on screen; `busy` disables the
 * button while one is being made; `message` is a line shown above the list (a result or a problem).
 */
export function renderReports(body, { items, onCreate, busy = false, message = null }) {
  const button = h(
    'button',
    { type: 'button', class: 'primary', id: 'report-range', disabled: busy, onclick: onCreate },
    busy ? 'Making the report…' : 'Report this range',
  );
  const rows = items.map((r) =>
    h(
      'tr',
      { class: 'report-row', dataset: { report: String(r.id) } },
      h('td', { class: 'num' }, String(r.id)),
      h('td', {}, r.policy, h('div', { class: 'small muted' }, r.trigger)),
      h('td', { class: 'nowrap small' }, utc(r.from), h('br'), utc(r.to)),
      h('td', { class: 'num' }, String(r.tunnels)),
      h('td', { class: r.breaching > 0 ? 'num bad' : 'num' }, String(r.breaching)),
      h('td', { class: 'num' }, availabilityText(r.worstAvailability)),
      h(
        'td',
        { class: 'nowrap' },
        h('a', { href: r.links.html, target: '_blank', rel: 'noopener', class: 'report-html' }, 'HTML'),
        ' · ',
        h('a', { href: r.links.csv, class: 'report-csv' }, 'CSV'),
        ' · ',
        h('a', { href: r.links.json, target: '_blank', rel: 'noopener', class: 'report-json' }, 'JSON'),
      ),
    ),
  );
  fill(
    body,
    h(
      'div',
      { class: 'report-actions' },
      button,
      message === null ? null : h('p', { class: 'small', role: 'status' }, message),
    ),
    items.length === 0
      ? emptyNote(
          'No report stored yet: make one of the range on screen, or configure a schedule (README "SLA reports").',
        )
      : table({
          columns: [
            { label: 'Id', num: true },
            'Policy',
            'Period (UTC)',
            { label: 'Tunnels', num: true },
            { label: 'Breaching', num: true, title: 'tunnels that missed a target of the policy' },
            { label: 'Worst availability', num: true },
            'Formats',
          ],
          rows,
          className: 'reports',
        }),
  );
}

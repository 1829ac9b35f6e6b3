// The overview: health line, tunnels table, worst-loss list and exporter counters.
import { fill, h, headerCell, table } from './dom.js';
import { bytes, duration, encapsulationText, exact, percent, si, utc } from './format.js';
import {
  dirLabel,
  emptyNote,
  lossClass,
  lossFigure,
  observedText,
  sourceTag,
  timeEl,
  tunnelTitle,
  stateAndFlags,
  signalClass,
} from './widgets.js';

export function renderHealth(el, health, exporters) {
  const parts = [];
  const ok = health.status === 'ok' || health.status === 'up';
  parts.push(h('span', { class: `dot ${ok ? 'dot-ok' : 'dot-warn'}`, 'aria-hidden': 'true' }));
  parts.push(`${health.status ?? 'unknown'} · v${health.version ?? '?'}`);
  if (!ok && health.database?.error) parts.push(` · database: ${health.database.error}`);
  if (typeof health.uptimeSeconds === 'number') parts.push(` · up ${duration(health.uptimeSeconds * 1000)}`);
  if (exporters) {
    const problems = exporters.reduce((n, e) => n + exporterProblems(e), 0);
    parts.push(` · ${exporters.length} exporter${exporters.length === 1 ? '' : 's'}`);
    if (problems > 0) {
      parts.push(' ', h('a', { href: '#exporters', class: 'chip warn' }, `${si(problems)} export problems`));
    }
  }
  fill(el, ...parts);
}

/** "2024-05-14 03:59" with the seconds and the local time in the tooltip. */
function shortTime(ms) {
  const el = timeEl(ms);
  if (ms !== null && ms !== undefined) el.textContent = utc(ms).slice(0, 16);
  return el;
}

/** Only the counters that are not zero, so a healthy exporter reads "none". */
function problemsText(e, issues) {
  const parts = [];
  const add = (n, what) => {
    if (n > 0) parts.push(`${si(n)} ${what}`);
  };
  add(e.malformed ?? 0, 'malformed');
  add(e.missingTemplateRecords ?? 0, 'without template');
  add(e.sequenceGaps ?? 0, 'seq gaps');
  add(e.dropped ?? 0, 'dropped');
  if (parts.length === 0 && issues.length === 0) return h('span', { class: 'muted' }, 'none');
  return h(
    'div',
    {},
    parts.map((p) => h('div', { class: 'warn-text nowrap' }, p)),
    issues.map(([k, n]) => h('div', { class: 'muted nowrap' }, `${k} ${si(n)}`)),
  );
}

function exporterProblems(e) {
  return (e.malformed ?? 0) + (e.missingTemplateRecords ?? 0) + (e.sequenceGaps ?? 0) + (e.dropped ?? 0);
}

// Sorting of the tunnels table; kept for the page's life, not in the URL.
const sort = { key: 'tunnel', dir: 1 };
const STATE_ORDER = { 'ike-one-sided': 0, 'one-way': 1, negotiating: 2, idle: 3, up: 4 };
const SORTS = {
  tunnel: (t) => tunnelTitle(t).toLowerCase(),
  state: (t) => STATE_ORDER[t.state] ?? 9,
  abPackets: (t) => t.aToB.packets,
  abLoss: (t) => t.aToB.lossRatio ?? -1,
  baPackets: (t) => t.bToA.packets,
  baLoss: (t) => t.bToA.lossRatio ?? -1,
  lastSeen: (t) => t.lastSeen,
};

export function renderTunnels(body, { tunnels, truncated, selectedId, href, onAllData, rerender }) {
  if (tunnels.length === 0) {
    fill(
      body,
      emptyNote(
        'No tunnel traffic in this range. ',
        h('button', { type: 'button', class: 'link', onclick: onAllData }, 'Show all stored data'),
        ' or point an exporter at the collector.',
      ),
    );
    return;
  }
  const keyFn = SORTS[sort.key] ?? SORTS.tunnel;
  const sorted = [...tunnels].sort((a, b) => {
    const x = keyFn(a);
    const y = keyFn(b);
    return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
  });
  const sortable = (label, key, extra = {}) => {
    const active = sort.key === key;
    return {
      ...extra,
      sort: active ? (sort.dir > 0 ? 'ascending' : 'descending') : null,
      label: h(
        'button',
        {
          type: 'button',
          class: 'sort',
          onclick: () => {
            sort.dir = active ? -sort.dir : key === 'tunnel' || key === 'state' ? 1 : -1;
            sort.key = key;
            rerender();
          },
        },
        label,
        active ? (sort.dir > 0 ? ' ▲' : ' ▼') : '',
      ),
    };
  };
  const headRows = [
    h(
      'tr',
      {},
      headerCell(sortable('Tunnel', 'tunnel', { rowspan: 2 })),
      headerCell(sortable('State · flags', 'state', { rowspan: 2 })),
      headerCell({
        label: 'A → B',
        colspan: 3,
        scope: 'colgroup',
        title: 'sent by peer A (the lower address)',
      }),
      headerCell({ label: 'B → A', colspan: 3, scope: 'colgroup', title: 'sent by peer B' }),
      headerCell({
        label: ['Signals', h('div', { class: 'small muted' }, 'frag · icmp · ike · leak')],
        rowspan: 2,
        num: true,
        title: 'ESP fragments · ICMP frag-needed · IKE packets · cleartext leak packets',
      }),
      headerCell(sortable('Last seen (UTC)', 'lastSeen', { rowspan: 2 })),
    ),
    h(
      'tr',
      {},
      headerCell(sortable('Packets', 'abPackets', { num: true })),
      headerCell({ label: 'Bytes', num: true }),
      headerCell(sortable('Loss', 'abLoss')),
      headerCell(sortable('Packets', 'baPackets', { num: true })),
      headerCell({ label: 'Bytes', num: true }),
      headerCell(sortable('Loss', 'baLoss')),
    ),
  ];
  const rows = sorted.map((t) => {
    const selected = t.id === selectedId;
    return h(
      'tr',
      { class: selected ? 'selected' : null },
      h(
        'th',
        { scope: 'row', class: 'tunnel-cell' },
        h(
          'a',
          {
            href: href({ tunnel: t.id, bucket: null, span: null, filter: null }),
            'data-nav': true,
            'aria-current': selected ? 'true' : null,
          },
          t.name ? t.name : h('span', { class: 'mono nowrap' }, `${t.peerA} ↔ ${t.peerB}`),
        ),
        t.name ? h('div', { class: 'small mono nowrap' }, `${t.peerA} ↔ ${t.peerB}`) : null,
        h(
          'div',
          { class: 'small muted nowrap' },
          encapsulationText(t.encapsulation),
          ` · ${t.sas.length} SA${t.sas.length === 1 ? '' : 's'}`,
        ),
      ),
      h('td', {}, stateAndFlags(t)),
      ...directionCells(t.aToB),
      ...directionCells(t.bToA),
      h(
        'td',
        { class: 'num signals' },
        signal(t.fragments, 'ESP fragments', 'warn'),
        ' · ',
        signal(t.icmpFragNeeded, 'ICMP frag-needed', 'alarm'),
        ' · ',
        signal(t.ikePackets, 'IKE packets', 'plain'),
        ' · ',
        signal(t.leakPackets, 'cleartext leak packets', 'alarm'),
      ),
      h('td', { class: 'nowrap' }, timeEl(t.lastSeen)),
    );
  });
  fill(
    body,
    table({ caption: null, headRows, rows, className: 'tunnels' }),
    truncated ? emptyNote('More tunnels exist than one page shows; narrow the range.') : null,
  );
}

function directionCells(d) {
  return [
    h(
      'td',
      { class: 'num', title: `${exact(d.packets)} packets, ${observedText(d.observedBy)}` },
      si(d.packets),
    ),
    h('td', { class: 'num', title: `${exact(d.octets)} bytes` }, bytes(d.octets)),
    h('td', {}, lossFigure(d, { span: false })),
  ];
}

function signal(n, what, level) {
  return h('span', { class: signalClass(n, level), title: `${exact(n)} ${what}` }, si(n));
}

export function renderLoss(body, { items, hasMore, onMore, href, minRatio }) {
  if (items.length === 0) {
    fill(body, emptyNote(`No measured loss of at least ${percent(minRatio)} in this range.`));
    return;
  }
  const rows = items.map((item) => {
    const spanS = Math.max(60, Math.round((item.end - item.start) / 1000));
    const gaps = item.completeness?.reduce((n, c) => n + (c.sequenceGaps ?? 0) + (c.issues ?? 0), 0) ?? 0;
    return h(
      'tr',
      {},
      h(
        'td',
        { class: 'nowrap' },
        h(
          'a',
          {
            href: href({ tunnel: item.tunnelId, bucket: item.start, span: spanS, filter: null }),
            'data-nav': true,
            title: 'Show the flows behind this loss',
          },
          timeEl(item.start),
        ),
        spanS > 60 ? h('div', { class: 'small muted' }, `run of ${duration(spanS * 1000)}`) : null,
      ),
      h(
        'td',
        { title: `${item.peerA} ↔ ${item.peerB}`, class: 'nowrap' },
        item.name ? item.name : h('span', { class: 'mono small' }, `${item.peerA} ↔ ${item.peerB}`),
      ),
      h('td', {}, dirLabel(item.direction, item)),
      h(
        'td',
        { class: 'num', title: `${exact(item.lost)} of ${exact(item.packets)} packets` },
        `${si(item.lost)} / ${si(item.packets)}`,
      ),
      h(
        'td',
        { class: 'ratio-cell' },
        h('span', { class: `loss-value ${lossClass(item.lossRatio)}` }, percent(item.lossRatio)),
        h(
          'span',
          { class: 'bar', 'aria-hidden': 'true' },
          h('span', { style: `width:${Math.min(100, Math.max(2, item.lossRatio * 100 * 5))}%` }),
        ),
      ),
      h('td', {}, sourceTag(item.lossSource)),
      h(
        'td',
        {},
        gaps > 0
          ? h(
              'span',
              { class: 'chip warn', title: completenessTitle(item.completeness) },
              `${si(gaps)} gaps/issues`,
            )
          : h('span', { class: 'muted', title: completenessTitle(item.completeness) }, 'complete'),
      ),
    );
  });
  fill(
    body,
    table({
      columns: [
        'When (UTC)',
        'Tunnel',
        'Dir',
        { label: 'Lost / sent', num: true },
        'Loss',
        'Source',
        {
          label: 'Export data',
          title: 'Records, decode issues and sequence gaps of the exporters behind it',
        },
      ],
      rows,
      className: 'loss-list',
    }),
    hasMore ? h('button', { type: 'button', class: 'more', onclick: onMore }, 'Show more') : null,
  );
}

export function completenessTitle(completeness) {
  if (!completeness || completeness.length === 0) return 'no exporter counters for this time';
  return completeness
    .map(
      (c) =>
        `${c.exporter}/${c.domainId}: ${exact(c.records)} records, ${exact(c.datagrams)} datagrams, ${exact(c.issues)} issues, ${exact(c.sequenceGaps)} sequence gaps`,
    )
    .join('\n');
}

export function renderExporters(body, exporters) {
  if (exporters.length === 0) {
    fill(body, emptyNote('No exporter has sent anything yet.'));
    return;
  }
  const rows = exporters.map((e) => {
    const issues = Object.entries(e.issues ?? {}).filter(([, n]) => n > 0);
    return h(
      'tr',
      {},
      h(
        'th',
        { scope: 'row' },
        h('span', { class: 'mono nowrap' }, e.exporter, h('span', { class: 'muted' }, `/${e.domainId}`)),
      ),
      h(
        'td',
        { class: 'num', title: `${exact(e.records)} records in ${exact(e.datagrams)} datagrams` },
        si(e.records),
        h('div', { class: 'small muted' }, `${si(e.datagrams)} dgrams`),
      ),
      h('td', { class: 'small' }, problemsText(e, issues)),
      h('td', { class: 'nowrap small', title: `first seen ${utc(e.firstSeenMs)}` }, shortTime(e.lastSeenMs)),
    );
  });
  fill(
    body,
    table({
      columns: [
        'Exporter / domain',
        { label: 'Records', num: true, title: 'records and the datagrams that carried them' },
        {
          label: 'Problems',
          title:
            'malformed datagrams, records without a template, export sequence gaps (lost between exporter and collector), records dropped, decode issues by kind',
        },
        'Last seen (UTC)',
      ],
      rows,
      className: 'exporters',
    }),
  );
}

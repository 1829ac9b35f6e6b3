// The flows behind a bucket (or a flow search): what was on the wire at that minute.
import { fill, h, table } from './dom.js';
import {
  CLEARED_HELP,
  KIND_TEXT,
  bytes,
  duration,
  exact,
  icmpText,
  protoName,
  si,
  spiHex,
  utc,
  utcTime,
} from './format.js';
import { dirLabel, emptyNote, timeEl } from './widgets.js';

const EXAMPLES = [
  'proto esp and host 192.0.2.1',
  'kind icmp-frag-needed',
  'spi 0x6b1d2e93',
  'kind cleartext-leak or kind esp-fragment',
];

/**
 * `heading` names what is shown; `filter` is the search box's text; `jsonUrl` the API URL
 * behind the table (linked so the numbers can be checked or scripted).
 */
export function renderFlowsFrame(body, { heading, sub, filter, onSearch, onClear, clearLabel }) {
  const input = h('input', {
    id: 'flow-filter',
    name: 'filter',
    type: 'search',
    value: filter,
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: EXAMPLES[0],
    'aria-describedby': 'flow-filter-help',
  });
  const form = h(
    'form',
    {
      class: 'flow-filter',
      onsubmit: (e) => {
        e.preventDefault();
        onSearch(input.value.trim());
      },
    },
    h('label', { for: 'flow-filter' }, 'Filter flows'),
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
    onClear ? h('button', { type: 'button', onclick: onClear }, clearLabel) : null,
    h(
      'p',
      { id: 'flow-filter-help', class: 'small muted' },
      'nfdump-like: ',
      EXAMPLES.map((ex, i) => [i ? ', ' : '', h('code', {}, ex)]),
      '. Searches the same time window.',
    ),
  );
  fill(
    body,
    h('h2', { id: 'flows-title' }, heading),
    sub,
    form,
    h('div', { id: 'flows-table', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'loading flows…')),
  );
}

export function renderFlowsTable(body, { items, completeness, hasMore, onMore, jsonUrl, tunnel, href }) {
  const holder = body.querySelector('#flows-table');
  holder.removeAttribute('aria-busy');
  const link = h('a', { href: jsonUrl, class: 'small', target: '_blank', rel: 'noopener' }, 'open as JSON');
  const exportData = completeness ? completenessLine(completeness) : null;
  if (items.length === 0) {
    fill(holder, exportData, emptyNote('No flows in this window. ', link));
    return;
  }
  const kinds = new Map();
  for (const f of items) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const packets = items.reduce((n, f) => n + (f.packets ?? 0), 0);
  const octets = items.reduce((n, f) => n + (f.octets ?? 0), 0);
  const rows = items.map((f) => flowRow(f, tunnel, href));
  fill(
    holder,
    exportData,
    h(
      'p',
      { class: 'flow-summary' },
      `${exact(items.length)} flow${items.length === 1 ? '' : 's'}${hasMore ? ' (more available)' : ''} · ${si(packets)} packets · ${bytes(octets)} · `,
      [...kinds.entries()].map(([k, n]) => [
        h('span', { class: `kind kind-${k}` }, KIND_TEXT[k] ?? k),
        ` ${n} `,
      ]),
      ' · ',
      link,
    ),
    table({
      columns: [
        'Kind',
        { label: 'Dir / SA', title: 'tunnel direction and SA' },
        'Exporter',
        'Src → Dst',
        'Proto',
        { label: 'Ports / ICMP', title: 'source → destination port, or ICMP type/code' },
        'SPI',
        { label: 'Packets', num: true },
        { label: 'Bytes', num: true },
        { label: 'Start (UTC)', title: 'time of day; the date is in each tooltip' },
        'End (UTC)',
        { label: 'Dur', num: true },
        'Fragment',
        { label: 'Loss', title: 'loss the exporter reported, or why it was cleared' },
      ],
      rows,
      className: 'flows',
    }),
    hasMore ? h('button', { type: 'button', class: 'more', onclick: onMore }, 'Load more flows') : null,
  );
}

/** What the exporters behind this bucket sent, and what was missing (issues, sequence gaps). */
function completenessLine(completeness) {
  if (completeness.length === 0) {
    return h(
      'p',
      { class: 'small warn-text' },
      'No exporter counters for this bucket: the figures may be incomplete.',
    );
  }
  return h(
    'p',
    { class: 'small' },
    'Export data behind this bucket: ',
    completeness.map((c, i) => [
      i ? ' · ' : '',
      h('span', { class: 'mono' }, `${c.exporter}/${c.domainId}`),
      ` ${exact(c.records)} records in ${exact(c.datagrams)} datagrams`,
      c.issues > 0 || c.sequenceGaps > 0
        ? h(
            'span',
            { class: 'warn-text' },
            `, ${exact(c.issues)} decode issues, ${exact(c.sequenceGaps)} sequence gaps`,
          )
        : h('span', { class: 'muted' }, ', complete'),
    ]),
  );
}

function flowRow(f, tunnel, href) {
  const direction = f.tunnelDirection ?? directionOf(f, tunnel);
  const sampled = f.samplingRate && f.samplingRate > 1 ? ` (sampled 1:${f.samplingRate}, scaled)` : '';
  return h(
    'tr',
    { class: `kind-row-${f.kind}` },
    h('td', {}, h('span', { class: `kind kind-${f.kind}` }, KIND_TEXT[f.kind] ?? f.kind)),
    h(
      'td',
      { class: 'small' },
      direction ? dirLabel(direction, tunnel) : null,
      f.saId ? h('div', { class: 'mono muted nowrap', title: f.saId }, shortSa(f.saId)) : null,
      // In a search across tunnels, the tunnel each flow belongs to, one click away.
      f.tunnelId && href && (!tunnel || tunnel.id !== f.tunnelId)
        ? h(
            'div',
            { class: 'nowrap' },
            h(
              'a',
              {
                href: href({ tunnel: f.tunnelId, bucket: null, span: null, filter: null }),
                'data-nav': true,
                title: f.tunnelId,
              },
              tunnelFromId(f.tunnelId),
            ),
          )
        : null,
    ),
    h('td', { class: 'mono small', title: `domain ${f.domainId}` }, `${f.exporter}/${f.domainId}`),
    h('td', { class: 'mono nowrap' }, `${f.src} → ${f.dst}`),
    h('td', {}, protoName(f.proto)),
    h('td', { class: 'mono nowrap' }, portsText(f)),
    h('td', { class: 'mono' }, spiHex(f.spi)),
    h('td', { class: 'num', title: `${exact(f.packets)} packets${sampled}` }, si(f.packets)),
    h('td', { class: 'num', title: `${exact(f.octets)} bytes${sampled}` }, bytes(f.octets)),
    h('td', { class: 'nowrap mono' }, flowTime(f.startMs)),
    h('td', { class: 'nowrap mono' }, flowTime(f.endMs)),
    h('td', { class: 'num' }, duration(f.endMs - f.startMs)),
    h('td', { class: 'small nowrap' }, fragmentText(f)),
    h('td', { class: 'small' }, lossText(f)),
  );
}

/** Time of day with milliseconds; the date (all flows of a bucket share it) is in the tooltip. */
function flowTime(ms) {
  const el = timeEl(ms);
  el.textContent = utcTime(ms, true);
  el.title = `${utc(ms)} · ${el.title}`;
  return el;
}

function directionOf(f, tunnel) {
  if (!tunnel) return null;
  if (f.src === tunnel.peerA && f.dst === tunnel.peerB) return 'a-b';
  if (f.src === tunnel.peerB && f.dst === tunnel.peerA) return 'b-a';
  return null;
}

/** Tunnel ids are `<peerA>_<peerB>_<encapsulation>` (collector/normalize/ids.ts). */
function tunnelFromId(id) {
  const parts = id.split('_');
  return parts.length === 3 ? `${parts[0]} ↔ ${parts[1]}` : id;
}

/** SA ids are `<src>_<dst>_<spi>_g<n>`; the SPI and generation say enough in a table. */
function shortSa(saId) {
  const m = /_(0x[0-9a-f]{8}|nospi)_(g\d+)$/.exec(saId);
  return m ? `${m[1]} ${m[2]}` : saId;
}

function portsText(f) {
  if (f.icmpType !== null && f.icmpType !== undefined && (f.proto === 1 || f.proto === 58)) {
    return icmpText(f.proto, f.icmpType, f.icmpCode);
  }
  // ESP and AH have no ports; some exporters (pmacct) still write 0 → 0.
  if (f.proto === 50 || f.proto === 51) return '—';
  if (f.srcPort === null && f.dstPort === null) return '—';
  return `${f.srcPort ?? '*'} → ${f.dstPort ?? '*'}`;
}

/**
 * Fragment information as the API gives it: an object (id / offset / flags), or the
 * flat fragmentId / fragmentOffset / fragmentFlags fields of the stored flow.
 */
function fragmentText(f) {
  const frag = typeof f.fragment === 'object' && f.fragment !== null ? f.fragment : null;
  const id = frag?.id ?? frag?.fragmentId ?? f.fragmentId ?? null;
  const offset = frag?.offset ?? frag?.fragmentOffset ?? f.fragmentOffset ?? null;
  const flags = frag?.flags ?? frag?.fragmentFlags ?? f.fragmentFlags ?? null;
  if (f.fragment === true) return h('span', { class: 'sig-on' }, 'fragment');
  if (id === null && offset === null && flags === null) return h('span', { class: 'muted' }, '—');
  const bits = [];
  // fragmentFlags (IE 197): DF is 0x40, MF 0x20 (bits numbered from the most significant).
  if (flags !== null && flags & 0x40) bits.push('DF');
  if (flags !== null && flags & 0x20) bits.push('MF');
  const parts = [];
  if (id !== null) parts.push(`id ${id}`);
  if (offset !== null) parts.push(`off ${offset}`);
  if (bits.length) parts.push(bits.join(' '));
  const fragmented = (offset ?? 0) > 0 || (flags ?? 0) & 0x20;
  return h('span', { class: fragmented ? 'sig-on' : '' }, parts.join(' · '));
}

function lossText(f) {
  if (f.lossClearedReason) {
    return h(
      'span',
      {
        class: 'chip cleared',
        title: `reported ${f.reportedLoss ?? '?'} but cleared: ${CLEARED_HELP[f.lossClearedReason] ?? f.lossClearedReason}`,
      },
      `cleared: ${f.lossClearedReason}`,
    );
  }
  if (f.reportedLoss === null || f.reportedLoss === undefined) return h('span', { class: 'muted' }, '—');
  return `${si(f.reportedLoss)} reported`;
}

// One tunnel: who its peers are, its SAs, per-bucket charts and the bucket table.
import { drawCharts, destroyCharts, stepLabel, COLORS } from './charts.js';
import { fill, h, headerCell, table } from './dom.js';
import { bytes, encapsulationText, exact, si, spiHex } from './format.js';
import { completenessTitle } from './overview.js';
import {
  dirLabel,
  emptyNote,
  flagChips,
  lossFigure,
  observedText,
  stateBadge,
  timeEl,
  tunnelTitle,
  stateAndFlags,
  signalClass,
} from './widgets.js';

/** Bucket table filters; kept for the page's life. */
const view = { hideIdle: true, onlyNotable: false };
const MAX_ROWS = 500;

export function renderDetailHeader(body, { tunnel, href }) {
  destroyCharts();
  fill(
    body,
    h(
      'div',
      { class: 'detail-head' },
      h(
        'div',
        {},
        h(
          'h2',
          { id: 'detail-title' },
          tunnelTitle(tunnel),
          ' ',
          stateBadge(tunnel.state),
          ' ',
          tunnel.flags.length ? flagChips(tunnel.flags) : null,
        ),
        h(
          'p',
          { class: 'peers' },
          h('span', { class: 'dir dir-ab' }, 'A'),
          ` ${tunnel.peerA}  ↔  `,
          h('span', { class: 'dir dir-ba' }, 'B'),
          ` ${tunnel.peerB} · ${encapsulationText(tunnel.encapsulation)} · first seen `,
          timeEl(tunnel.firstSeen),
          ' · last seen ',
          timeEl(tunnel.lastSeen),
        ),
        h('p', { class: 'small muted' }, 'id ', h('code', {}, tunnel.id)),
      ),
      h(
        'a',
        {
          href: href({ tunnel: null, bucket: null, span: null, filter: null }),
          'data-nav': true,
          class: 'close',
        },
        'Close ✕',
      ),
    ),
    h(
      'div',
      { class: 'direction-cards' },
      directionCard('aToB', tunnel),
      directionCard('bToA', tunnel),
      signalsCard(tunnel),
    ),
    sasBlock(tunnel),
    h(
      'div',
      { class: 'charts', id: 'charts' },
      h('p', { class: 'muted', 'aria-busy': 'true' }, 'loading buckets…'),
    ),
    h('div', { id: 'buckets' }),
  );
}

function directionCard(dir, t) {
  const d = t[dir];
  return h(
    'div',
    { class: `card card-${dir}` },
    h(
      'h3',
      {},
      dirLabel(dir, t),
      ' ',
      dir === 'aToB' ? `${t.peerA} → ${t.peerB}` : `${t.peerB} → ${t.peerA}`,
    ),
    h(
      'dl',
      {},
      h('dt', {}, 'Packets'),
      h('dd', { title: exact(d.packets) }, si(d.packets)),
      h('dt', {}, 'Bytes'),
      h('dd', { title: exact(d.octets) }, bytes(d.octets)),
      h('dt', {}, 'Loss'),
      h('dd', {}, lossFigure(d)),
      h('dt', {}, 'Observed by'),
      h('dd', { class: 'small' }, observedText(d.observedBy).replace(/^seen by /, '')),
    ),
  );
}

function signalsCard(t) {
  const row = (label, n, level) =>
    h('div', {}, h('dt', {}, label), h('dd', { class: signalClass(n, level) }, si(n)));
  return h(
    'div',
    { class: 'card' },
    h('h3', {}, 'Signals'),
    h(
      'dl',
      {},
      row('ESP fragments', t.fragments, 'warn'),
      row('ICMP frag needed', t.icmpFragNeeded, 'alarm'),
      row('IKE packets', t.ikePackets, 'plain'),
      row('Cleartext leak', t.leakPackets, 'alarm'),
      h(
        'div',
        {},
        h('dt', {}, 'Observation points'),
        h(
          'dd',
          { class: 'small' },
          t.observationPoints.length === 0
            ? 'none'
            : t.observationPoints.map((p) =>
                h(
                  'div',
                  {},
                  `${p.exporter}/${p.domainId} near ${p.near ? p.near.toUpperCase() : '?'} (${p.placedBy})`,
                ),
              ),
        ),
      ),
    ),
  );
}

function sasBlock(t) {
  const rows = [...t.sas]
    .sort((a, b) => a.firstSeen - b.firstSeen)
    .map((sa) =>
      h(
        'tr',
        {},
        h('td', {}, dirLabel(sa.direction, t)),
        h('td', { class: 'mono' }, spiHex(sa.spi)),
        h('td', { class: 'mono' }, `${sa.src} → ${sa.dst}`),
        h('td', { class: 'num' }, String(sa.generation)),
        h('td', { class: 'nowrap' }, timeEl(sa.firstSeen)),
        h('td', { class: 'nowrap' }, timeEl(sa.lastSeen)),
        h(
          'td',
          {},
          sa.ended === null
            ? h('span', { class: 'muted' }, 'active')
            : [timeEl(sa.ended), ` (${sa.endReason ?? '?'})`],
        ),
        h(
          'td',
          { class: 'small' },
          sa.pairedSaId === null
            ? h(
                'span',
                { class: 'chip warn', title: 'half-open: no SA in the other direction overlaps it' },
                'unpaired',
              )
            : h('span', { class: 'mono muted' }, pairedSpi(sa.pairedSaId)),
        ),
      ),
    );
  return h(
    'details',
    { class: 'sas', open: t.sas.length <= 6 },
    h('summary', {}, `Security associations (${t.sas.length})`),
    t.sas.length === 0
      ? emptyNote('No ESP SA in this range.')
      : table({
          columns: [
            'Dir',
            'SPI',
            'Src → Dst',
            { label: 'Gen', num: true, title: 'generation of this (src, dst, SPI)' },
            'First seen (UTC)',
            'Last seen (UTC)',
            'Ended',
            'Paired with',
          ],
          rows,
          className: 'sa-table',
        }),
  );
}

/** SA ids end in `_<spi hex>_g<n>` (collector/normalize/ids.ts); show the SPI part. */
function pairedSpi(saId) {
  const m = /_(0x[0-9a-f]{8}|nospi)_g\d+$/.exec(saId);
  if (!m) return saId;
  return m[1] === 'nospi' ? 'paired (no SPI exported)' : m[1];
}

export function renderBuckets(
  detailBody,
  { tunnel, buckets, truncated, stepS, selectedStart, href, onSelectRange, onSelectBucket },
) {
  const charts = detailBody.querySelector('#charts');
  const holder = detailBody.querySelector('#buckets');
  if (buckets.length === 0) {
    fill(charts, emptyNote('No buckets in this range for this tunnel.'));
    fill(holder);
    return;
  }
  const measured = buckets.some(
    (b) => b.aToB.lost !== null || b.bToA.lost !== null || b.aToB.lossSpan || b.bToA.lossSpan,
  );
  fill(
    charts,
    h(
      'p',
      { class: 'small muted chart-help' },
      legendKey(),
      ` Buckets of ${stepLabel(stepS)}, times in UTC. Click a bucket for its flows; drag across a chart to zoom in.`,
      measured
        ? null
        : h(
            'strong',
            { class: 'warn-text' },
            ' No loss could be measured for this tunnel in this range (no sequence fields, no reported loss, no second observation point): an empty loss chart is not zero loss.',
          ),
    ),
  );
  drawCharts(charts, { buckets, stepS, selectedStart, onSelectRange, onSelectBucket });
  renderBucketTable(holder, { tunnel, buckets, truncated, stepS, selectedStart, href });
}

function legendKey() {
  return h(
    'span',
    {},
    h('span', { class: 'swatch', style: `background:${COLORS.aToB}` }),
    ' A→B ',
    h('span', { class: 'swatch', style: `background:${COLORS.bToA}` }),
    ' B→A ·',
  );
}

function notable(b) {
  const comp = b.completeness ?? [];
  return (
    (b.aToB.lost ?? 0) > 0 ||
    (b.bToA.lost ?? 0) > 0 ||
    (b.aToB.lossSpan?.lost ?? 0) > 0 ||
    (b.bToA.lossSpan?.lost ?? 0) > 0 ||
    b.flags.length > 0 ||
    (b.state !== 'up' && b.state !== 'idle') ||
    comp.some((c) => c.issues > 0 || c.sequenceGaps > 0)
  );
}

function renderBucketTable(holder, args) {
  const { tunnel, buckets, truncated, stepS, selectedStart, href } = args;
  const rerender = () => renderBucketTable(holder, args);
  const shown = buckets.filter(
    (b) =>
      b.start === selectedStart ||
      ((!view.hideIdle || b.state !== 'idle' || b.aToB.packets + b.bToA.packets > 0) &&
        (!view.onlyNotable || notable(b))),
  );
  const rows = shown.slice(0, MAX_ROWS).map((b) => {
    const selected = b.start === selectedStart;
    return h(
      'tr',
      { class: selected ? 'selected' : null, id: selected ? 'selected-bucket' : null },
      h(
        'th',
        { scope: 'row', class: 'nowrap' },
        h(
          'a',
          {
            href: href({ bucket: b.start, span: stepS, filter: null }),
            'data-nav': true,
            'aria-current': selected ? 'true' : null,
          },
          timeEl(b.start),
        ),
      ),
      h('td', {}, stateAndFlags(b)),
      h(
        'td',
        {
          class: 'num',
          title: `${exact(b.aToB.packets)} packets, ${exact(b.aToB.octets)} bytes; ${observedText(b.aToB.observedBy)}`,
        },
        si(b.aToB.packets),
      ),
      h('td', {}, lossFigure(b.aToB)),
      h(
        'td',
        {
          class: 'num',
          title: `${exact(b.bToA.packets)} packets, ${exact(b.bToA.octets)} bytes; ${observedText(b.bToA.observedBy)}`,
        },
        si(b.bToA.packets),
      ),
      h('td', {}, lossFigure(b.bToA)),
      h(
        'td',
        { class: 'num signals' },
        sig(b.fragments, 'warn'),
        ' · ',
        sig(b.icmpFragNeeded, 'alarm'),
        ' · ',
        sig(b.ikePackets, 'plain'),
        ' · ',
        sig(b.leakPackets, 'alarm'),
      ),
      h('td', {}, completenessCell(b.completeness)),
    );
  });
  const check = (label, key) =>
    h(
      'label',
      { class: 'inline' },
      h('input', {
        type: 'checkbox',
        checked: view[key],
        onchange: (e) => {
          view[key] = e.target.checked;
          rerender();
        },
      }),
      ` ${label}`,
    );
  fill(
    holder,
    h(
      'div',
      { class: 'section-head' },
      h('h3', {}, `Buckets (${stepLabel(stepS)})`),
      h(
        'div',
        { class: 'filters' },
        check('hide idle buckets', 'hideIdle'),
        check('only loss, flags, gaps or bad state', 'onlyNotable'),
      ),
    ),
    rows.length === 0
      ? emptyNote('No bucket matches these filters.')
      : h(
          'div',
          { class: 'scroll-box' },
          table({
            headRows: [
              h(
                'tr',
                {},
                headerCell('Bucket start (UTC)'),
                headerCell('State · flags'),
                headerCell({ label: 'A→B packets', num: true, title: `${tunnel.peerA} → ${tunnel.peerB}` }),
                headerCell({ label: 'A→B loss', title: `${tunnel.peerA} → ${tunnel.peerB}` }),
                headerCell({ label: 'B→A packets', num: true, title: `${tunnel.peerB} → ${tunnel.peerA}` }),
                headerCell({ label: 'B→A loss', title: `${tunnel.peerB} → ${tunnel.peerA}` }),
                headerCell({
                  label: 'Frag · ICMP · IKE · Leak',
                  num: true,
                  title: 'ESP fragments · ICMP frag-needed · IKE packets · cleartext leak packets',
                }),
                headerCell({
                  label: 'Export data',
                  title: 'per exporter: records, decode issues, export sequence gaps',
                }),
              ),
            ],
            rows,
            className: 'buckets',
          }),
        ),
    shown.length > MAX_ROWS
      ? emptyNote(
          `Showing the first ${MAX_ROWS} of ${shown.length} buckets; narrow the range or pick a larger bucket.`,
        )
      : null,
    truncated ? emptyNote('The API returned more buckets than one request reads; narrow the range.') : null,
  );
  revealSelected(holder);
}

/** Keeps the selected bucket visible inside the table's own scroll box, without moving the page. */
function revealSelected(holder) {
  const row = holder.querySelector('#selected-bucket');
  const box = holder.querySelector('.scroll-box');
  if (!row || !box) return;
  box.scrollTop = Math.max(0, row.offsetTop - box.clientHeight / 2);
}

function sig(n, level) {
  return h('span', { class: signalClass(n, level) }, si(n));
}

/**
 * Records and exporters behind the bucket on one line; every exporter with decode issues
 * or export sequence gaps gets its own warning line (details in the tooltip).
 */
function completenessCell(completeness) {
  const title = completenessTitle(completeness);
  if (!completeness || completeness.length === 0)
    return h('span', { class: 'muted small', title }, 'no records');
  const records = completeness.reduce((n, c) => n + c.records, 0);
  const n = completeness.length;
  return h(
    'div',
    { class: 'small', title },
    h('span', { class: 'nowrap' }, `${si(records)} rec · ${n} exporter${n === 1 ? '' : 's'}`),
    completeness
      .filter((c) => c.issues > 0 || c.sequenceGaps > 0)
      .map((c) =>
        h(
          'div',
          { class: 'nowrap warn-text' },
          `${c.exporter}/${c.domainId}: `,
          [
            c.issues > 0 ? `${si(c.issues)} issue${c.issues === 1 ? '' : 's'}` : null,
            c.sequenceGaps > 0 ? `${si(c.sequenceGaps)} seq gap${c.sequenceGaps === 1 ? '' : 's'}` : null,
          ]
            .filter(Boolean)
            .join(', '),
        ),
      ),
  );
}

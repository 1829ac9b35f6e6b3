// The page's entry point: reads the state from the URL, asks the JSON API, renders the
// overview, the selected tunnel and the flows behind the selected bucket.
import { ApiProblem, absoluteUrl, apiUrl, clearCache, getAllItems, getJson, postJson } from './api.js';
import { fill, h } from './dom.js';
import { renderBuckets, renderDetailHeader } from './detail.js';
import { renderFlowsFrame, renderFlowsTable } from './flows.js';
import { duration, isoParam, localHint, utc, utcOffset } from './format.js';
import { renderExporters, renderHealth, renderLoss, renderTunnels } from './overview.js';
import { renderReports } from './reports.js';
import {
  DEFAULT_MIN_RATIO,
  PRESETS,
  ceilTo,
  floorTo,
  parseTime,
  readState,
  stepFor,
  stepsFor,
  writeState,
} from './state.js';
import { emptyNote, problemBox, tunnelTitle } from './widgets.js';

const $ = (selector) => document.querySelector(selector);
const sections = {
  tunnels: $('#tunnels .section-body'),
  loss: $('#loss .section-body'),
  exporters: $('#exporters .section-body'),
  reports: $('#reports .section-body'),
  detail: $('#detail'),
  detailBody: $('#detail .section-body'),
  flows: $('#flows'),
  flowsBody: $('#flows .section-body'),
};
const form = {
  el: $('#range-form'),
  from: $('#range-from'),
  to: $('#range-to'),
  step: $('#range-step'),
  summary: $('#range-summary'),
  minRatio: $('#min-ratio'),
};

let state = readState(location.search);
/** The range in ms for the range parameters it was resolved from; presets resolve once per visit. */
let resolved = null;
/** Incremented by each render; an answer for an older render is dropped. */
let generation = 0;
/** Scroll the flows into view after the next render (set by a click, not by loading a link). */
let scrollToFlows = false;

/** A link to the page with some of the state changed. */
function href(patch) {
  return `?${writeState({ ...state, ...patch })}`;
}

function navigate(patch, { replace = false } = {}) {
  state = { ...state, ...patch };
  const url = `?${writeState(state)}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

// In-page links carry the whole state in their href: follow them without a reload, but
// leave modified clicks (new tab, new window) to the browser.
document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  const next = readState(new URL(a.href).search);
  if (next.bucket !== null && next.bucket !== state.bucket) scrollToFlows = true;
  state = next;
  history.pushState(null, '', a.href);
  render();
});

window.addEventListener('popstate', () => {
  state = readState(location.search);
  render();
});

for (const button of document.querySelectorAll('[data-range]')) {
  button.addEventListener('click', () => {
    resolved = null;
    navigate({ range: button.dataset.range, from: null, to: null });
  });
}

form.el.addEventListener('submit', (e) => {
  e.preventDefault();
  const from = parseTime(form.from.value);
  const to = parseTime(form.to.value);
  form.from.setCustomValidity(from === null ? 'ISO 8601 (2024-05-14T03:00Z) or epoch ms' : '');
  form.to.setCustomValidity(
    to === null
      ? 'ISO 8601 (2024-05-14T04:00Z) or epoch ms'
      : from !== null && to <= from
        ? 'must be after From'
        : '',
  );
  if (!form.el.reportValidity()) return;
  navigate({ range: null, from, to, step: form.step.value ? Number(form.step.value) : null });
});

form.step.addEventListener('change', () =>
  navigate({ step: form.step.value ? Number(form.step.value) : null }),
);
form.minRatio.addEventListener('change', () => navigate({ minRatio: Number(form.minRatio.value) }));

/** Forgets every answer and the resolved range, and renders again. */
function refresh() {
  clearCache();
  resolved = null;
  lossList.key = null;
  flowList.key = null;
  render();
}

$('#refresh').addEventListener('click', refresh);

const auto = $('#auto-refresh');
auto.addEventListener('change', () => navigate({ live: auto.checked }, { replace: true }));
// A preset ("last 1 h") moves with the clock; with live=1 the page follows it every minute.
// Skipped while the tab is hidden, and while the user is typing a range or a filter.
window.setInterval(() => {
  if (!state.live || state.range === null || state.range === 'all' || document.hidden) return;
  if (document.activeElement?.matches?.('input[type=text], input[type=search]')) return;
  refresh();
}, 60_000);

/** Resolves presets against the clock, and "all data" against the tunnels' first/last traffic. */
async function resolveRange() {
  const key = state.range ?? `${state.from}/${state.to}`;
  if (resolved !== null && resolved.key === key) return resolved;
  const now = Date.now();
  let range;
  if (state.range === 'all') {
    const { items } = await getAllItems('tunnels', { from: 0, to: now });
    if (items.length === 0) {
      range = {
        fromMs: ceilTo(now, 60) - PRESETS['24h'],
        toMs: ceilTo(now, 60),
        note: 'no tunnel traffic stored yet',
      };
    } else {
      const first = Math.min(...items.map((t) => t.firstSeen));
      const last = Math.max(...items.map((t) => t.lastSeen));
      range = { fromMs: floorTo(first, 60), toMs: Math.max(ceilTo(last + 1, 60), floorTo(first, 60) + 60e3) };
    }
  } else if (state.range !== null) {
    const to = ceilTo(now, 60);
    range = { fromMs: to - PRESETS[state.range], toMs: to };
  } else {
    range = { fromMs: state.from, toMs: state.to };
  }
  resolved = { key, ...range };
  return resolved;
}

function syncForm(range, stepS) {
  for (const button of document.querySelectorAll('[data-range]')) {
    button.setAttribute('aria-pressed', String(button.dataset.range === state.range));
  }
  form.step.value = state.step ? String(state.step) : '';
  auto.checked = state.live && state.range !== null;
  auto.disabled = state.range === null || state.range === 'all';
  auto.parentElement.title = auto.disabled
    ? 'Only a preset range (last 1 h, 24 h, 7 d) moves with the clock'
    : 'Fetch everything again every minute';
  form.minRatio.value = String(state.minRatio ?? DEFAULT_MIN_RATIO);
  if (!range) return;
  form.from.value = isoParam(range.fromMs);
  form.to.value = isoParam(range.toMs);
  form.from.title = localHint(range.fromMs);
  form.to.title = localHint(range.toMs);
  const absolute = `?${writeState({ ...state, range: null, from: range.fromMs, to: range.toMs })}`;
  fill(
    form.summary,
    `${utc(range.fromMs)} → ${utc(range.toMs)} · ${duration(range.toMs - range.fromMs)} · buckets of ${duration(stepS * 1000)} · your browser is at ${utcOffset()}`,
    range.note ? ` · ${range.note}` : '',
    state.range !== null
      ? [' · ', h('a', { href: absolute, 'data-nav': true }, 'link to this exact range')]
      : '',
  );
}

/**
 * The collector's bucket size (`bucketSeconds` of /api/v1/health), asked once: steps are
 * multiples of it. 60 s (the default) until it is known or when health cannot say.
 */
let bucketSeconds = null;
async function collectorBucketSeconds() {
  if (bucketSeconds !== null) return bucketSeconds;
  try {
    const health = await getJson(apiUrl('health')).catch((err) => {
      if (err instanceof ApiProblem && err.body) return err.body;
      throw err;
    });
    const value = Number(health?.bucketSeconds);
    bucketSeconds = Number.isInteger(value) && value > 0 ? value : 60;
  } catch {
    return 60;
  }
  offerSteps(bucketSeconds);
  return bucketSeconds;
}

/** The step menu offers only what the API accepts for this collector's bucket. */
function offerSteps(bucketS) {
  if (![...form.step.options].some((o) => o.value === String(bucketS))) {
    const own = document.createElement('option');
    own.value = String(bucketS);
    own.textContent = duration(bucketS * 1000);
    form.step.insertBefore(own, form.step.options[1] ?? null);
  }
  const allowed = new Set(stepsFor(bucketS).map(String));
  for (const option of form.step.options) {
    if (option.value !== '') option.hidden = !allowed.has(option.value);
  }
}

async function render() {
  const gen = ++generation;
  const current = () => gen === generation;
  const bucketS = await collectorBucketSeconds();
  if (!current()) return;
  syncForm(null, bucketS);
  const pageError = $('#page-error');
  let range;
  try {
    range = await resolveRange();
  } catch (err) {
    if (!current()) return;
    pageError.hidden = false;
    fill(pageError, problemBox(err, 'the time range'));
    return;
  }
  if (!current()) return;
  pageError.hidden = true;
  const stepS = stepFor(state, range.fromMs, range.toMs, bucketS);
  syncForm(range, stepS);
  const window_ = { from: range.fromMs, to: range.toMs };

  loadHealth(current);
  const tunnels = getAllItems('tunnels', window_);
  loadTunnels(current, tunnels);
  loadLoss(current, window_);
  loadReports(current, window_);
  await Promise.allSettled([
    loadDetail(current, tunnels, window_, stepS),
    loadFlows(current, tunnels, window_, stepS),
  ]);
  // Only once the charts and the bucket table have their height, or the flows move away.
  if (current() && scrollToFlows && !sections.flows.hidden) {
    scrollToFlows = false;
    sections.flows.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }
}

async function loadHealth(current) {
  const el = $('#health');
  try {
    const [health, exporters] = await Promise.all([
      // A degraded collector answers 503 with the same body: show it, not a bare error.
      getJson(apiUrl('health')).catch((err) => {
        if (err instanceof ApiProblem && err.body && typeof err.body.status === 'string') return err.body;
        throw err;
      }),
      getAllItems('exporters', {}).catch(() => null),
    ]);
    if (!current()) return;
    renderHealth(el, health, exporters?.items ?? null);
    if (exporters) {
      renderExporters(sections.exporters, exporters.items);
      sections.exporters.removeAttribute('aria-busy');
    }
  } catch (err) {
    if (!current()) return;
    fill(
      el,
      h('span', { class: 'dot dot-bad', 'aria-hidden': 'true' }),
      `collector: ${err.detail || err.message}`,
    );
    fill(sections.exporters, problemBox(err, 'exporters'));
  }
}

/** The stored reports (first page, newest first); the button reports the range on screen. */
async function loadReports(current, window_, message = null) {
  const body = sections.reports;
  const show = (items, busy = false, note = message) =>
    renderReports(body, {
      items,
      busy,
      message: note,
      onCreate: async () => {
        show(items, true, null);
        try {
          const created = await postJson(apiUrl('reports'), { from: window_.from, to: window_.to });
          const s = created.report.summary;
          clearCache();
          loadReports(
            current,
            window_,
            `Report ${created.id}: ${s.tunnels} tunnel(s), ${s.breaching} breaching, ${utc(created.from)} – ${utc(created.to)}.`,
          );
        } catch (err) {
          show(items, false, `No report: ${err.detail || err.message}`);
        }
      },
    });
  try {
    const list = await getJson(apiUrl('reports', { limit: 20 }));
    if (!current()) return;
    show(list.items);
  } catch (err) {
    if (current()) fill(body, problemBox(err, 'reports'));
  } finally {
    if (current()) body.removeAttribute('aria-busy');
  }
}

async function loadTunnels(current, tunnels) {
  const body = sections.tunnels;
  body.setAttribute('aria-busy', 'true');
  try {
    const { items, truncated } = await tunnels;
    if (!current()) return;
    const rerender = () =>
      renderTunnels(body, {
        tunnels: items,
        truncated,
        selectedId: state.tunnel,
        href,
        onAllData: () => {
          resolved = null;
          navigate({ range: 'all', from: null, to: null });
        },
        rerender,
      });
    rerender();
  } catch (err) {
    if (current()) fill(body, problemBox(err, 'tunnels'));
  } finally {
    if (current()) body.removeAttribute('aria-busy');
  }
}

/** The worst-loss list shows a page at a time; more pages are read as the list grows. */
const lossList = { key: null, items: [], cursor: null, shown: 15 };

async function loadLoss(current, window_) {
  const body = sections.loss;
  const minRatio = state.minRatio ?? DEFAULT_MIN_RATIO;
  const params = { ...window_, minRatio };
  const key = JSON.stringify(params);
  try {
    if (lossList.key !== key) {
      body.setAttribute('aria-busy', 'true');
      const first = await getJson(apiUrl('loss', params));
      if (!current()) return;
      Object.assign(lossList, { key, items: first.items ?? [], cursor: first.nextCursor ?? null, shown: 15 });
    }
    const draw = () =>
      renderLoss(body, {
        items: lossList.items.slice(0, lossList.shown),
        hasMore: lossList.items.length > lossList.shown || lossList.cursor !== null,
        href,
        minRatio,
        onMore: async () => {
          lossList.shown += 25;
          if (lossList.items.length < lossList.shown && lossList.cursor !== null) {
            try {
              const next = await getJson(apiUrl('loss', { ...params, cursor: lossList.cursor }));
              lossList.items.push(...(next.items ?? []));
              lossList.cursor = next.nextCursor ?? null;
            } catch (err) {
              body.append(problemBox(err, 'more loss'));
              return;
            }
          }
          draw();
        },
      });
    draw();
  } catch (err) {
    if (current()) fill(body, problemBox(err, 'the loss list'));
  } finally {
    if (current()) body.removeAttribute('aria-busy');
  }
}

/** The selected tunnel's summary: from the tunnels list, or asked for by id (it may be idle in the range). */
async function selectedTunnel(tunnels, window_) {
  try {
    const { items } = await tunnels;
    const found = items.find((t) => t.id === state.tunnel);
    if (found) return found;
  } catch {
    // The list failed (its section says why); ask for the one tunnel below.
  }
  return getJson(apiUrl(`tunnels/${encodeURIComponent(state.tunnel)}`, window_));
}

async function loadDetail(current, tunnels, window_, stepS) {
  const { detail, detailBody } = sections;
  if (!state.tunnel) {
    detail.hidden = true;
    fill(detailBody);
    document.title = 'tunnelflow — IPsec tunnels, loss and flows';
    return;
  }
  detail.hidden = false;
  let tunnel;
  try {
    tunnel = await selectedTunnel(tunnels, window_);
  } catch (err) {
    if (current())
      fill(detailBody, h('h2', { id: 'detail-title' }, 'Tunnel'), problemBox(err, `tunnel ${state.tunnel}`));
    return;
  }
  if (!current()) return;
  document.title = `${tunnelTitle(tunnel)} — tunnelflow`;
  renderDetailHeader(detailBody, { tunnel, href });
  try {
    const { items, truncated } = await getAllItems(`tunnels/${encodeURIComponent(tunnel.id)}/buckets`, {
      ...window_,
      step: stepS,
    });
    if (!current()) return;
    renderBuckets(detailBody, {
      tunnel,
      buckets: items,
      truncated,
      stepS,
      selectedStart: state.bucket,
      href,
      onSelectRange: (fromMs, toMs) => {
        // To the nearest bucket edges: a drag starts and ends where the pointer was, give or take a pixel.
        const from = Math.round(fromMs / 60e3) * 60e3;
        const to = Math.max(Math.round(toMs / 60e3) * 60e3, from + 60e3);
        const keepBucket = state.bucket !== null && state.bucket >= from && state.bucket < to;
        resolved = null;
        navigate({ range: null, from, to, ...(keepBucket ? {} : { bucket: null, span: null }) });
      },
      onSelectBucket: (bucket) => {
        scrollToFlows = true;
        navigate({ bucket: bucket.start, span: stepS, filter: null });
      },
    });
  } catch (err) {
    if (!current()) return;
    const charts = detailBody.querySelector('#charts');
    fill(charts, problemBox(err, 'buckets'));
  }
}

/** Flows shown, with the cursor of the next page. */
const flowList = { key: null, items: [], cursor: null, completeness: null };

async function loadFlows(current, tunnels, window_, stepS) {
  const { flows, flowsBody } = sections;
  const inBucket = state.tunnel !== null && state.bucket !== null;
  if (!inBucket && state.filter === null) {
    flows.hidden = true;
    fill(flowsBody);
    return;
  }
  flows.hidden = false;
  let tunnel = null;
  if (state.tunnel) {
    try {
      tunnel = await selectedTunnel(tunnels, window_);
    } catch {
      tunnel = null;
    }
  }
  if (!current()) return;
  const spanS = state.span ?? stepS;
  const from = inBucket ? state.bucket : window_.from;
  const to = inBucket ? state.bucket + spanS * 1000 : window_.to;
  const who = tunnel ? tunnelTitle(tunnel) : state.tunnel;
  // The bucket endpoint answers for one stored (one-minute) bucket; longer windows and free
  // searches go to the flow search with the same time window.
  let path;
  let params;
  if (state.filter !== null) {
    path = 'flows';
    params = { from, to, filter: state.filter, limit: 200 };
  } else if (spanS === 60) {
    path = `tunnels/${encodeURIComponent(state.tunnel)}/buckets/${state.bucket}/flows`;
    params = {};
  } else {
    path = 'flows';
    params = { from, to, filter: `tunnel "${state.tunnel}"`, limit: 200 };
  }
  const heading =
    state.filter !== null
      ? `Flow search ${inBucket ? `in ${who} · ` : ''}${utc(from)} → ${utc(to)}`
      : `Flows behind ${who} · ${utc(from)} → ${utc(to).slice(11)}`;
  renderFlowsFrame(flowsBody, {
    heading,
    sub: h(
      'p',
      { class: 'small muted' },
      state.filter !== null
        ? `Filter: ${state.filter || '(none)'} · `
        : `Every flow stored for this tunnel in this ${spanS === 60 ? 'minute' : 'window'}: ESP by SPI, fragments, ICMP frag-needed, IKE, cleartext leaks. `,
      h('span', { title: localHint(from) }, `Local: ${localHint(from).replace(/^local /, '')}`),
    ),
    filter: state.filter ?? (state.tunnel ? `tunnel "${state.tunnel}"` : ''),
    onSearch: (text) => navigate({ filter: text }),
    onClear:
      state.filter !== null
        ? () => navigate({ filter: null })
        : inBucket
          ? () => navigate({ bucket: null, span: null })
          : null,
    clearLabel: state.filter !== null ? (inBucket ? 'Back to the bucket’s flows' : 'Close search') : 'Close',
  });
  const key = JSON.stringify([path, params]);
  const jsonUrl = absoluteUrl(apiUrl(path, params));
  try {
    if (flowList.key !== key) {
      const first = await getJson(apiUrl(path, params));
      if (!current()) return;
      Object.assign(flowList, {
        key,
        items: first.items ?? [],
        cursor: first.nextCursor ?? null,
        // The bucket endpoint says how complete the export data behind the minute is.
        completeness: Array.isArray(first.completeness) ? first.completeness : null,
      });
    }
    const draw = () =>
      renderFlowsTable(flowsBody, {
        items: flowList.items,
        completeness: flowList.completeness,
        href,
        hasMore: flowList.cursor !== null,
        jsonUrl,
        tunnel,
        onMore: async () => {
          try {
            const next = await getJson(apiUrl(path, { ...params, cursor: flowList.cursor }));
            flowList.items.push(...(next.items ?? []));
            flowList.cursor = next.nextCursor ?? null;
            draw();
          } catch (err) {
            flowsBody.querySelector('#flows-table').append(problemBox(err, 'more flows'));
          }
        },
      });
    draw();
  } catch (err) {
    if (!current()) return;
    const holder = flowsBody.querySelector('#flows-table');
    holder.removeAttribute('aria-busy');
    fill(
      holder,
      problemBox(err, 'flows'),
      err instanceof ApiProblem && err.status === 404
        ? emptyNote('The flows may have aged out of the drill-down window (30 days by default).')
        : null,
    );
  }
}

render();

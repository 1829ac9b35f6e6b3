// A small element builder. Text always goes in as text nodes (never HTML), so names,
// addresses and filter text from the API cannot inject markup.

/**
 * h('td', {class: 'num', title: '…'}, 'text', otherNode, null) → HTMLTableCellElement.
 * Attributes: `class`, `dataset`, `on<Event>` handlers, booleans (true → present, false → absent).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table with a caption, a header built from `columns` and the given body rows. */
export function table({ caption, columns, rows, className = '', headRows = null }) {
  const head = headRows ?? [
    h(
      'tr',
      {},
      columns.map((c) => headerCell(c)),
    ),
  ];
  return h(
    'table',
    { class: `grid ${className}` },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, head),
    h('tbody', {}, rows),
  );
}

export function headerCell(column) {
  if (typeof column === 'string') return h('th', { scope: 'col' }, column);
  const { label, title, num, colspan, rowspan, scope = 'col', sort } = column;
  return h(
    'th',
    {
      scope,
      title,
      colspan,
      rowspan,
      class: num ? 'num' : null,
      'aria-sort': sort ?? null,
    },
    label,
  );
}

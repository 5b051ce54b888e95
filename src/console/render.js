// DOM helpers, text only: elements are built with createElement and filled
// with text nodes, attributes come from a short allow-list, and nothing
// here hands a string to the HTML parser. Every value from an event (body,
// headers, IDs, types, errors, target answers) reaches the page this way.

export const $ = (sel) => document.querySelector(sel);

const ALLOWED = new Set(['href', 'title', 'type', 'name', 'value', 'colspan', 'id', 'for', 'role']);

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'onclick') el.addEventListener('click', v);
    else if (k === 'checked') el.checked = Boolean(v);
    else if (k === 'disabled') el.disabled = Boolean(v);
    else if (k.startsWith('data-') || ALLOWED.has(k)) el.setAttribute(k, String(v));
    else throw new Error('attribute not allowed: ' + k);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A status word as a badge; the class is built only from known words.
const STATUSES = new Set(['pending', 'delivered', 'failed', 'dead', 'cancelled', 'unrouted', 'retry']);
export function badge(status) {
  const known = STATUSES.has(status) ? status : 'unknown';
  return h('span', { class: 'badge s-' + known }, status);
}

// "3 deliveries", "1 delivery".
export function plural(n, one, many = one + 's') {
  return n + ' ' + (n === 1 ? one : many);
}

export function when(rfc3339) {
  return rfc3339 ? rfc3339.replace('T', ' ').replace(/Z$/, '') : '';
}

export function percent(rate) {
  return rate === null || rate === undefined ? '—' : (rate * 100).toFixed(1) + ' %';
}

export function age(secs) {
  if (secs === null || secs === undefined) return '—';
  if (secs < 90) return Math.round(secs) + ' s';
  if (secs < 5400) return Math.round(secs / 60) + ' min';
  return (secs / 3600).toFixed(1) + ' h';
}

export function flash(text, kind) {
  const el = $('#flash');
  el.textContent = text;
  el.className = kind === 'error' ? 'error' : 'ok';
  el.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { el.hidden = true; }, 8000);
}

export function backLink(hash, label) {
  return h('p', {}, h('a', { href: hash }, '← ' + label));
}

// A `<select>`'s choices: "any", then each name.
export function options(names) {
  return [h('option', { value: '' }, 'any'), ...names.map((n) => h('option', { value: n }, n))];
}

// A table with a header row and the given rows.
export function grid(columns, rows) {
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c)))),
    h('tbody', {}, rows));
}

// A definition list from [label, value, props of the value] rows.
export function meta(rows) {
  return h('dl', { class: 'meta' }, rows.map(([label, value, props]) => [h('dt', {}, label), h('dd', props || {}, value)]));
}

export function headersTable(headers) {
  return h('table', { class: 'grid headers' },
    h('tbody', {}, (headers || []).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'mono' }, v)))));
}

// The payload, indented, with its keys in the order they were sent (the
// API's parsed copy sorts them) when the raw text is there to parse.
export function prettyJson(e) {
  let value;
  try { value = JSON.parse(e.body_text); } catch (_) { value = e.payload; }
  return JSON.stringify(value, null, 2);
}

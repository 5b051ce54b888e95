// The events list: filters in the URL, pages by cursor, auto-refresh, and
// the bulk retry of dead deliveries that match the filters.

import { api, hasToken, query } from './api.js';
import { $, badge, flash, h, plural, when } from './render.js';
import { current, errorLine, isCurrent, navigation, open } from './view.js';

const HOOKGATE_ID = /^evt_[0-9a-f]{28}$/;
const FILTERS = ['q', 'source', 'type', 'status', 'since', 'until', 'limit'];
const list = { params: new URLSearchParams(), cursors: [null], page: 0 };

export function eventsView(params) {
  const form = $('#filters');
  for (const name of FILTERS) form.elements[name].value = params.get(name) || (name === 'limit' ? '50' : '');
  list.params = params;
  list.cursors = [null];
  list.page = 0;
  return loadEvents();
}

function listQuery(cursor) {
  const p = list.params;
  return query({
    source: p.get('source'), type: p.get('type'), status: p.get('status'),
    since: p.get('since'), until: p.get('until'), limit: p.get('limit'),
    provider_event_id: p.get('q'), cursor,
  });
}

async function loadEvents() {
  const mine = current();
  const tbody = $('#events-table tbody');
  let page;
  try {
    page = await api('GET', '/events' + listQuery(list.cursors[list.page]));
  } catch (err) {
    if (!isCurrent(mine)) return;
    tbody.replaceChildren(h('tr', {}, h('td', { colspan: 6 }, errorLine(err))));
    $('#events-summary').textContent = '';
    return;
  }
  if (!isCurrent(mine)) return;
  const started = performance.now();
  const rows = document.createDocumentFragment();
  for (const e of page.items) {
    rows.append(h('tr', { 'data-id': e.event_id },
      h('td', {}, h('a', { href: '#/event/' + encodeURIComponent(e.event_id), title: e.received_at }, when(e.received_at))),
      h('td', {}, e.source),
      h('td', {}, e.event_type),
      h('td', { class: 'mono' }, e.provider_event_id),
      h('td', {}, badge(e.status)),
      h('td', { class: 'num' }, e.size)));
  }
  if (!page.items.length) rows.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No events match.')));
  tbody.replaceChildren(rows);
  tbody.dataset.renderMs = (performance.now() - started).toFixed(1);
  tbody.dataset.rows = String(page.items.length);
  list.cursors[list.page + 1] = page.next_cursor;
  $('#page-next').disabled = !page.next_cursor;
  $('#page-first').disabled = list.page === 0;
  $('#events-summary').textContent = 'Page ' + (list.page + 1) + ': ' + plural(page.items.length, 'event') +
    (page.next_cursor ? ', more older' : '') + ' · loaded ' + new Date().toLocaleTimeString();
}

async function applyFilters(event) {
  event.preventDefault();
  const form = $('#filters');
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const v = form.elements[name].value.trim();
    if (v && !(name === 'limit' && v === '50')) params.set(name, v);
  }
  // A hookgate ID opens that event; anything else is a provider event ID.
  const q = params.get('q') || '';
  if (HOOKGATE_ID.test(q)) {
    try {
      await api('GET', '/events/' + q);
      location.hash = '#/event/' + q;
      return;
    } catch (err) {
      if (err.status !== 404) { flash(err.message, 'error'); return; }
    }
  }
  open('#/events' + (params.toString() ? '?' + params : ''));
}

function turnPage(page) {
  list.page = page;
  navigation();
  loadEvents();
}

function autoRefresh() {
  if ($('#auto-refresh').checked && !$('#view-events').hidden && list.page === 0 &&
      document.visibilityState === 'visible' && hasToken()) {
    loadEvents();
  }
}

// ---- bulk retry ---------------------------------------------------------

let bulkBody = null;

function bulkFilter() {
  const p = list.params;
  const body = { status: 'dead' };
  for (const k of ['source', 'type', 'since', 'until']) if (p.get(k)) body[k] = p.get(k);
  const target = $('#bulk-target').value;
  if (target) body.target = target;
  return body;
}

function describe(body) {
  const parts = Object.entries(body).filter(([k]) => k !== 'status' && k !== 'dry_run').map(([k, v]) => k + '=' + v);
  return parts.length ? ' (' + parts.join(', ') + ')' : ' (all events, all targets)';
}

async function bulkCount() {
  bulkBody = bulkFilter();
  const result = $('#bulk-result');
  const confirm = $('#bulk-confirm');
  confirm.hidden = true;
  try {
    const answer = await api('POST', '/deliveries/retry', Object.assign({ dry_run: true }, bulkBody));
    result.textContent = plural(answer.count, 'dead delivery', 'dead deliveries') +
      (answer.count === 1 ? ' matches' : ' match') + describe(bulkBody) + '.';
    result.dataset.count = String(answer.count);
    if (answer.count > 0) {
      confirm.textContent = 'Retry ' + plural(answer.count, 'delivery', 'deliveries');
      confirm.hidden = false;
    }
  } catch (err) {
    result.textContent = err.message;
  }
}

async function bulkConfirm() {
  const confirm = $('#bulk-confirm');
  confirm.hidden = true;
  try {
    const answer = await api('POST', '/deliveries/retry', bulkBody);
    $('#bulk-result').textContent = 'Queued ' + plural(answer.count, 'delivery', 'deliveries') + ' for retry.';
    flash('Retrying ' + answer.count + ' dead deliveries.', 'ok');
    loadEvents();
  } catch (err) {
    $('#bulk-result').textContent = err.message;
  }
}

// Wires the list's controls; called once the page is there.
export function wireEvents() {
  $('#filters').addEventListener('submit', applyFilters);
  $('#clear-filters').addEventListener('click', () => open('#/events'));
  $('#page-next').addEventListener('click', () => turnPage(list.page + 1));
  $('#page-first').addEventListener('click', () => turnPage(0));
  $('#bulk-open').addEventListener('click', () => { $('#bulk').hidden = false; $('#bulk-result').textContent = ''; $('#bulk-confirm').hidden = true; });
  $('#bulk-close').addEventListener('click', () => { $('#bulk').hidden = true; });
  $('#bulk-count').addEventListener('click', bulkCount);
  $('#bulk-confirm').addEventListener('click', bulkConfirm);
  $('#events-table tbody').addEventListener('click', (ev) => {
    const row = ev.target.closest('tr[data-id]');
    if (row && !ev.target.closest('a')) location.hash = '#/event/' + encodeURIComponent(row.dataset.id);
  });
  setInterval(autoRefresh, 5000);
}

// The routes: each configured route with its jq expressions, and the route
// tester, which asks the admin API where a pasted body (or a stored event)
// would go, what each target would receive and with which ordering key.
// Nothing is stored or sent.

import { api } from './api.js';
import { $, flash, grid, h, options } from './render.js';
import { config, viewData } from './view.js';

const expr = (text) => (text ? h('code', {}, text) : '—');

function results(answer) {
  return [
    h('p', { id: 'route-test-summary' }, 'Event type ', h('code', {}, answer.event_type),
      ', provider event ID ', h('code', {}, answer.provider_event_id), '.'),
    answer.routes.length
      ? grid(['Route', 'Target', 'Applies', 'Why', 'Ordering key', 'Body the target receives'],
        answer.routes.map((r) => h('tr', { 'data-target': r.target, 'data-applies': String(r.applies) },
          h('td', { class: 'mono' }, r.route),
          h('td', {}, h('strong', {}, r.target)),
          h('td', {}, r.applies ? 'yes' : 'no'),
          h('td', {}, r.why),
          h('td', { class: 'mono' }, r.ordering_key === null || r.ordering_key === undefined ? '—' : r.ordering_key),
          h('td', {}, r.applies && r.body !== undefined ? h('pre', { class: 'body' }, JSON.stringify(r.body, null, 2)) : '—'))))
      : h('p', { class: 'muted' }, 'This source has no route: the event would be stored as unrouted.'),
  ];
}

function tester() {
  const source = h('select', { id: 'test-source', name: 'source' }, options(config.sources.map((s) => s.name)).slice(1));
  const body = h('textarea', { id: 'test-body', name: 'body', class: 'mono' });
  body.placeholder = '{"id": "evt_1", "type": "invoice.paid", "livemode": true}';
  const headers = h('textarea', { id: 'test-headers', name: 'headers', class: 'mono small' });
  headers.placeholder = '{"X-GitHub-Event": "push"}';
  const eventId = h('input', { id: 'test-event', name: 'event' });
  eventId.placeholder = 'evt_…';
  const out = h('div', { id: 'route-test-result' });
  const load = async () => {
    try {
      const e = await api('GET', '/events/' + encodeURIComponent(eventId.value.trim()));
      source.value = e.source;
      body.value = e.body_text !== null && e.body_text !== undefined ? e.body_text : JSON.stringify(e.payload);
      const kept = {};
      for (const [k, v] of e.headers) if (k.startsWith('x-') && !/signature|hmac|token/i.test(k)) kept[k] = v;
      headers.value = JSON.stringify(kept, null, 2);
    } catch (err) { flash(err.message, 'error'); }
  };
  const run = async () => {
    let parsed;
    let extra;
    try {
      parsed = JSON.parse(body.value);
      extra = headers.value.trim() ? JSON.parse(headers.value) : undefined;
    } catch (err) { flash('Not JSON: ' + err.message, 'error'); return; }
    try {
      out.replaceChildren(...results(await api('POST', '/routes/test', { source: source.value, body: parsed, headers: extra })));
    } catch (err) {
      out.replaceChildren(h('p', { class: 'error', id: 'route-test-error' }, err.message));
    }
  };
  return h('div', { class: 'panel', id: 'route-tester' },
    h('h2', {}, 'Test an event'),
    h('p', { class: 'muted' }, 'Paste a body as the provider sends it, or load a stored event; the body is signed with the source\'s secret and read as ingest reads it. Nothing is stored or sent.'),
    h('div', { class: 'filters' },
      h('label', {}, 'Source ', source),
      h('label', {}, 'Stored event ', eventId),
      h('button', { type: 'button', class: 'quiet', id: 'test-load', onclick: load }, 'Load')),
    h('label', { class: 'block' }, 'Body (JSON)', body),
    h('label', { class: 'block' }, 'Headers besides the signature (JSON object, optional)', headers),
    h('button', { type: 'button', id: 'test-run', onclick: run }, 'Test'),
    out);
}

export async function routesView() {
  const view = $('#view-routes');
  const routes = await viewData(view, '/routes', []);
  if (!routes) return;
  view.replaceChildren(
    h('h1', {}, 'Routes'),
    grid(['Route', 'Source', 'Target', 'Event types', 'Filter', 'Transform', 'Ordering key'],
      routes.map((r) => h('tr', { 'data-route': r.route },
        h('td', { class: 'mono' }, r.route),
        h('td', {}, r.source),
        h('td', {}, h('strong', {}, r.target)),
        h('td', { class: 'mono' }, r.event_types ? r.event_types.join(', ') : '*'),
        h('td', {}, expr(r.filter)),
        h('td', {}, expr(r.transform)),
        h('td', {}, expr(r.ordering_key))))),
    tester());
}

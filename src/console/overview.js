// The views of the whole gateway: targets with their health (and cancelling
// what waits for one), sources, and the conflicts with both bodies side by
// side.

import { api } from './api.js';
import { $, age, backLink, flash, grid, h, headersTable, meta, percent, plural, prettyJson, when } from './render.js';
import { act, config, current, isCurrent, viewData } from './view.js';

export async function targetsView() {
  const mine = current();
  const view = $('#view-targets');
  if (!await viewData(view, '/targets', [], (answer) => { config.targets = answer; })) return;
  const note = h('p', { class: 'emph', id: 'cancel-result' });
  const cancelFor = (t) => h('button', {
    type: 'button', class: 'quiet', disabled: t.pending === 0,
    onclick: async () => {
      try {
        const dry = await api('POST', '/deliveries/cancel', { target: t.name, dry_run: true });
        note.replaceChildren(plural(dry.count, 'pending delivery', 'pending deliveries') + ' to ' + t.name + ' would be cancelled. ',
          h('button', {
            type: 'button', class: 'danger',
            onclick: () => act(() => api('POST', '/deliveries/cancel', { target: t.name }),
              (done) => 'Cancelled ' + done.count + ' pending deliveries to ' + t.name + '.',
              () => { if (isCurrent(mine)) targetsView(); }),
          }, 'Cancel them'));
      } catch (err) { flash(err.message, 'error'); }
    },
  }, 'Cancel pending…');
  view.replaceChildren(
    h('h1', {}, 'Targets'),
    note,
    grid(['Target', 'URL', 'Success rate', 'Backlog', 'Oldest pending', 'Delivered', 'Dead', 'Cancelled', 'Last error', ''],
      config.targets.map((t) => h('tr', { 'data-target': t.name },
        h('td', {}, h('strong', {}, t.name)),
        h('td', { class: 'mono' }, t.url),
        h('td', { class: 'num' }, percent(t.success_rate)),
        h('td', { class: 'num' }, t.pending),
        h('td', { class: 'num' }, age(t.oldest_pending_secs)),
        h('td', { class: 'num' }, t.delivered),
        h('td', { class: 'num' }, t.dead),
        h('td', { class: 'num' }, t.cancelled),
        h('td', {}, t.last_error
          ? [when(t.last_error.at), ' ', t.last_error.status_code ? 'HTTP ' + t.last_error.status_code + ' ' : '', t.last_error.error || '']
          : '—'),
        h('td', {}, cancelFor(t))))));
}

export async function sourcesView() {
  const view = $('#view-sources');
  if (!await viewData(view, '/sources', [], (answer) => { config.sources = answer; })) return;
  view.replaceChildren(
    h('h1', {}, 'Sources'),
    grid(['Source', 'Provider', 'Ingest path', 'Events', 'Conflicts', 'Routes to'],
      config.sources.map((s) => h('tr', {},
        h('td', {}, h('a', { href: '#/events?source=' + encodeURIComponent(s.name) }, s.name)),
        h('td', {}, s.provider),
        h('td', { class: 'mono' }, s.ingest_path),
        h('td', { class: 'num' }, s.events),
        h('td', { class: 'num' }, s.conflicts),
        h('td', {}, s.routes.join(', ') || '—')))));
}

export async function conflictsView() {
  const view = $('#view-conflicts');
  const page = await viewData(view, '/conflicts?limit=100');
  if (!page) return;
  view.replaceChildren(
    h('h1', {}, 'Conflicts'),
    h('p', { class: 'muted' }, 'Requests refused with 409: a provider event ID already stored, with a different body.'),
    grid(['Received (UTC)', 'Source', 'Provider event ID', 'Stored event'],
      page.items.length ? page.items.map((c) => h('tr', {},
        h('td', {}, h('a', { href: '#/conflict/' + encodeURIComponent(c.conflict_id) }, when(c.received_at))),
        h('td', {}, c.source),
        h('td', { class: 'mono' }, c.provider_event_id),
        h('td', {}, h('a', { class: 'mono', href: '#/event/' + encodeURIComponent(c.event_id) }, c.event_id))))
        : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No conflicts.'))));
}

function conflictSide(title, side) {
  const body = side.payload_encoding === 'json' ? prettyJson(side)
    : (side.body_text !== null ? side.body_text : 'base64: ' + side.payload);
  return h('div', { class: 'side' },
    h('h2', {}, title),
    meta([
      ['Received (UTC)', when(side.received_at)],
      ['SHA-256', side.sha256, { class: 'mono' }],
    ]),
    h('pre', { class: 'body' }, body),
    h('h3', {}, 'Headers'),
    headersTable(side.headers));
}

export async function conflictView(id) {
  const view = $('#view-conflict');
  const c = await viewData(view, '/conflicts/' + encodeURIComponent(id), [backLink('#/conflicts', 'Conflicts')]);
  if (!c) return;
  view.replaceChildren(
    backLink('#/conflicts', 'Conflicts'),
    h('h1', {}, 'Conflict on ', h('span', { class: 'mono' }, c.provider_event_id), ' (', c.source, ')'),
    h('div', { class: 'columns' },
      conflictSide('Stored (delivered as ' + c.event_id + ')', c.stored),
      conflictSide('Refused', c.received)));
}

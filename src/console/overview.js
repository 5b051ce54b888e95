// The views of the whole gateway: targets with their health, pause and
// circuit (pausing, resuming, cancelling what waits for one), sources, and the conflicts with both bodies side by
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
  // Pause holds every delivery of the target (in every process) until resumed.
  const pauseFor = (t) => {
    const verb = t.paused ? 'resume' : 'pause';
    return h('button', {
      type: 'button', class: t.paused ? '' : 'quiet', 'data-action': verb,
      onclick: () => act(() => api('POST', '/targets/' + encodeURIComponent(t.name) + '/' + verb),
        () => (t.paused ? 'Resumed ' : 'Paused ') + t.name + '.',
        () => { if (isCurrent(mine)) targetsView(); }),
    }, t.paused ? 'Resume' : 'Pause');
  };
  // Paused, and the circuit when it is not closed, with when it changed.
  const stateOf = (t) => {
    const parts = [];
    if (t.paused) parts.push(h('span', { class: 'badge s-pending', 'data-state': 'paused' }, 'paused'));
    if (t.circuit !== 'closed') {
      parts.push(h('span', { class: 'badge ' + (t.circuit === 'open' ? 's-dead' : 's-pending'), 'data-state': t.circuit }, 'circuit ' + t.circuit.replace('_', '-')),
        ' since ', when(t.circuit_changed_at), ' (' + plural(t.consecutive_failures, 'failure') + ')');
    }
    if (t.rate_limit) parts.push(' ', h('span', { class: 'muted' }, 'limit ' + t.rate_limit));
    // Ordered keys held by their first pending delivery, and what waits behind it.
    for (const k of t.blocked_keys) {
      parts.push(h('div', { class: 'blocked-key' }, 'key ', h('code', {}, k.ordering_key), ': ',
        plural(k.waiting, 'delivery', 'deliveries') + ' waiting behind ',
        h('a', { href: '#/event/' + encodeURIComponent(k.head_event_id) }, k.head_event_id)));
    }
    return parts.length ? parts : 'active';
  };
  view.replaceChildren(
    h('h1', {}, 'Targets'),
    note,
    grid(['Target', 'State', 'URL', 'Success rate', 'Backlog', 'Oldest pending', 'Delivered', 'Dead', 'Cancelled', 'Last error', ''],
      config.targets.map((t) => h('tr', { 'data-target': t.name },
        h('td', {}, h('strong', {}, t.name)),
        h('td', { class: 'target-state' }, stateOf(t)),
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
        h('td', {}, pauseFor(t), ' ', cancelFor(t))))));
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

// One event: what was received (body, pretty and raw, and the request
// headers), its deliveries with their attempts, and the actions on it
// (retry a dead delivery, replay, cancel what is pending).

import { api } from './api.js';
import { $, backLink, badge, flash, h, headersTable, meta, plural, prettyJson, when } from './render.js';
import { act, config, current, isCurrent, pollAfter, viewData } from './view.js';

function attemptLine(a) {
  return h('li', { class: 'attempt' },
    h('div', { class: 'attempt-head' },
      h('span', { class: 'mono' }, when(a.started_at)),
      badge(a.outcome),
      h('span', {}, a.status_code ? 'HTTP ' + a.status_code : 'no answer'),
      h('span', { class: 'muted' }, a.duration_ms + ' ms'),
      h('span', { class: 'muted' }, 'attempt ' + a.attempt)),
    a.error ? h('div', { class: 'error' }, a.error) : null,
    a.transformed_by ? h('div', { class: 'muted' }, 'sent the output of the transform of ' + a.transformed_by) : null,
    a.response_excerpt ? h('pre', { class: 'excerpt' }, a.response_excerpt) : null);
}

function deliveryCard(d, reload) {
  const retry = d.status === 'dead'
    ? h('button', {
      type: 'button', class: 'retry', 'data-delivery': d.delivery_id,
      onclick: () => act(() => api('POST', '/deliveries/' + d.delivery_id + '/retry'),
        () => 'Delivery to ' + d.target + ' queued again.', reload),
    }, 'Retry')
    : null;
  const attempts = d.attempts || [];
  return h('div', { class: 'delivery', 'data-target': d.target, 'data-status': d.status },
    h('div', { class: 'delivery-head' },
      h('strong', {}, d.target), badge(d.status),
      h('span', { class: 'muted' }, plural(attempts.length, 'attempt')),
      d.next_attempt_at ? h('span', { class: 'muted' }, 'next ' + when(d.next_attempt_at)) : null,
      h('span', { class: 'muted mono' }, d.delivery_id),
      retry),
    d.transformed_by ? h('p', { class: 'muted transformed' }, 'Body transformed by ', h('span', { class: 'mono' }, d.transformed_by)) : null,
    d.ordering_key !== null && d.ordering_key !== undefined
      ? h('p', { class: 'muted' }, 'Ordering key ', h('span', { class: 'mono' }, d.ordering_key)) : null,
    attempts.length ? h('ol', { class: 'timeline' }, attempts.map(attemptLine)) : h('p', { class: 'muted' }, 'No attempt yet.'));
}

function bodyViews(e) {
  const pretty = e.payload_encoding === 'json'
    ? prettyJson(e)
    : 'Not JSON; base64 of the body:\n' + e.payload;
  const raw = e.body_text !== null && e.body_text !== undefined ? e.body_text : 'Not UTF-8; base64 of the body:\n' + e.payload;
  const prettyPre = h('pre', { class: 'body', 'data-view': 'pretty' }, pretty);
  const rawPre = h('pre', { class: 'body', 'data-view': 'raw' }, raw);
  rawPre.hidden = true;
  const tab = (label, showRaw) => h('button', {
    type: 'button', class: 'tab', onclick: (ev) => {
      prettyPre.hidden = showRaw;
      rawPre.hidden = !showRaw;
      for (const b of ev.target.parentNode.children) b.classList.toggle('active', b === ev.target);
    },
  }, label);
  const tabs = h('div', { class: 'tabs' }, tab('Pretty', false), tab('Raw', true));
  tabs.firstChild.classList.add('active');
  return [tabs, prettyPre, rawPre];
}

function replayPanel(e, reload) {
  const boxes = config.targets.map((t) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: t.name }), ' ' + t.name));
  const replay = (chosen) => act(
    () => api('POST', '/events/' + e.event_id + '/replay', chosen ? { targets: chosen } : undefined),
    (answer) => 'Replayed: ' + plural(answer.deliveries.length, 'new delivery', 'new deliveries') + '.',
    reload);
  const pending = e.deliveries.filter((d) => d.status === 'pending').length;
  return h('div', { class: 'panel actions' },
    h('button', { type: 'button', id: 'replay-all', onclick: () => replay(null) }, 'Replay to routed targets'),
    h('span', { class: 'chooser' }, boxes,
      h('button', {
        type: 'button', id: 'replay-chosen', class: 'quiet',
        onclick: () => {
          const chosen = boxes.map((b) => b.firstChild).filter((i) => i.checked).map((i) => i.value);
          if (!chosen.length) { flash('Choose at least one target.', 'error'); return; }
          replay(chosen);
        },
      }, 'Replay to chosen')),
    pending ? h('button', {
      type: 'button', class: 'danger', id: 'cancel-pending',
      onclick: () => act(() => api('POST', '/deliveries/cancel', { event_id: e.event_id }),
        (answer) => 'Cancelled ' + plural(answer.count, 'pending delivery', 'pending deliveries') + '.', reload),
    }, 'Cancel ' + pending + ' pending') : null);
}

export async function eventView(id) {
  const mine = current();
  const view = $('#view-event');
  const reload = () => { if (isCurrent(mine)) eventView(id); };
  const e = await viewData(view, '/events/' + encodeURIComponent(id), [backLink('#/events', 'Events')]);
  if (!e) return;
  view.replaceChildren(
    backLink('#/events', 'Events'),
    h('h1', {}, h('span', { class: 'mono', id: 'event-type' }, e.event_type), ' ', badge(e.status)),
    meta([
      ['hookgate ID', e.event_id, { class: 'mono' }],
      ['Provider event ID', e.provider_event_id, { class: 'mono', id: 'provider-event-id' }],
      ['Source', e.source],
      ['Received (UTC)', when(e.received_at)],
      ['Content-Type', e.content_type || '—'],
      ['Body SHA-256', e.body_sha256, { class: 'mono' }],
    ]),
    replayPanel(e, reload),
    (e.route_errors || []).length ? h('div', { class: 'panel', id: 'route-errors' },
      h('h2', {}, 'Route expression errors'),
      h('ul', {}, e.route_errors.map((r) => h('li', {}, h('span', { class: 'mono' }, r.route), ' ', r.key + ': ', h('span', { class: 'error' }, r.error))))) : null,
    h('h2', {}, 'Deliveries'),
    e.deliveries.length ? h('div', { id: 'deliveries' }, e.deliveries.map((d) => deliveryCard(d, reload)))
      : h('p', { class: 'muted' }, 'No target is routed for this event.'),
    h('div', { class: 'columns' },
      h('div', {}, h('h2', {}, 'Body'), bodyViews(e)),
      h('div', {}, h('h2', {}, 'Request headers'), headersTable(e.headers))));
  // While a delivery is pending, follow it until it settles.
  if (e.deliveries.some((d) => d.status === 'pending')) {
    pollAfter(1000, reload);
  }
}

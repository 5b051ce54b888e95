// hookgate console: a small client of the admin API.
//
// Every value that comes from an event (body, headers, IDs, types, errors,
// target answers) reaches the page as text: elements are built with
// createElement and filled with text nodes; nothing here assigns HTML.
// The token stays in this tab's sessionStorage and is sent as the
// Authorization header.
'use strict';

(() => {
  const ROOT = location.pathname.replace(/console\/?$/, '');
  const API = ROOT + 'admin/v1';
  const TOKEN_KEY = 'hookgate.token';
  const HOOKGATE_ID = /^evt_[0-9a-f]{28}$/;
  const $ = (sel) => document.querySelector(sel);

  let sources = [];
  let targets = [];
  // Bumped on every navigation: a late answer for an older view is dropped.
  let generation = 0;
  let pollTimer = null;

  // ---- DOM helpers: text only ------------------------------------------

  const ALLOWED = new Set(['href', 'title', 'type', 'name', 'value', 'colspan', 'id', 'for', 'role']);

  function h(tag, props, ...children) {
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
  function badge(status) {
    const known = STATUSES.has(status) ? status : 'unknown';
    return h('span', { class: 'badge s-' + known }, status);
  }

  function when(rfc3339) {
    return rfc3339 ? rfc3339.replace('T', ' ').replace(/Z$/, '') : '';
  }

  function flash(text, kind) {
    const el = $('#flash');
    el.textContent = text;
    el.className = kind === 'error' ? 'error' : 'ok';
    el.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { el.hidden = true; }, 8000);
  }

  // ---- the admin API ----------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.detail) || ('HTTP ' + status));
      this.status = status;
      this.body = body || {};
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + (sessionStorage.getItem(TOKEN_KEY) || '') };
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(API + path, init);
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch (_) { json = { error: 'bad_response', detail: text.slice(0, 200) }; }
    if (res.status === 401 && path !== '/sources') {
      signOut('The token was refused; sign in again.');
    }
    if (!res.ok) throw new ApiError(res.status, json);
    return json;
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    return s ? '?' + s : '';
  }

  function errorLine(err) {
    return h('p', { class: 'error' }, err instanceof ApiError ? (err.body.error + ': ' + err.message) : String(err));
  }

  function backLink(hash, label) {
    return h('p', {}, h('a', { href: hash }, '← ' + label));
  }

  // GETs what `view` shows. A failure is shown in the view, after `before`
  // (a back link, say). Resolves to the answer, or to undefined when it
  // failed or another view was opened meanwhile (a late answer is dropped;
  // `keep` still sees it, to refresh a cache).
  async function viewData(view, path, before = [], keep = () => {}) {
    const mine = generation;
    let answer;
    try {
      answer = await api('GET', path);
    } catch (err) {
      if (mine === generation) view.replaceChildren(...before, errorLine(err));
      return undefined;
    }
    keep(answer);
    return mine === generation ? answer : undefined;
  }

  // ---- sign-in ----------------------------------------------------------

  function showSignedIn(yes) {
    $('#signin').hidden = yes;
    $('#nav').hidden = !yes;
    $('#sign-out').hidden = !yes;
    if (!yes) for (const v of document.querySelectorAll('.view')) v.hidden = true;
  }

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    stopPolling();
    showSignedIn(false);
    const err = $('#signin-error');
    err.hidden = !reason;
    err.textContent = reason || '';
  }

  async function loadConfig() {
    [sources, targets] = await Promise.all([api('GET', '/sources'), api('GET', '/targets')]);
    const sel = document.querySelector('#filters select[name=source]');
    sel.replaceChildren(h('option', { value: '' }, 'any'), ...sources.map((s) => h('option', { value: s.name }, s.name)));
    $('#bulk-target').replaceChildren(h('option', { value: '' }, 'any'), ...targets.map((t) => h('option', { value: t.name }, t.name)));
  }

  async function signIn(event) {
    event.preventDefault();
    const token = $('#token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    try {
      await loadConfig();
    } catch (err) {
      const reason = err.status === 401 ? 'The token was refused.'
        : err.status === 404 ? 'The admin API is off: set admin.token in hookgate.toml.'
          : 'Sign-in failed: ' + err.message;
      signOut(reason);
      return;
    }
    $('#token').value = '';
    showSignedIn(true);
    route();
  }

  // ---- routing ----------------------------------------------------------

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  function show(view) {
    for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + view;
    const section = view === 'event' ? 'events' : view === 'conflict' ? 'conflicts' : view;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === section);
  }

  function route() {
    if (!sessionStorage.getItem(TOKEN_KEY)) { signOut(''); return; }
    generation += 1;
    stopPolling();
    const hash = location.hash.replace(/^#\/?/, '');
    const [path, qs] = hash.split('?');
    const [view, id] = path.split('/');
    const params = new URLSearchParams(qs || '');
    switch (view) {
      case 'event': show('event'); return eventView(decodeURIComponent(id || ''));
      case 'targets': show('targets'); return targetsView();
      case 'sources': show('sources'); return sourcesView();
      case 'conflicts': show('conflicts'); return conflictsView();
      case 'conflict': show('conflict'); return conflictView(decodeURIComponent(id || ''));
      default: show('events'); return eventsView(params);
    }
  }

  // ---- events list ------------------------------------------------------

  const FILTERS = ['q', 'source', 'type', 'status', 'since', 'until', 'limit'];
  const list = { params: new URLSearchParams(), cursors: [null], page: 0 };

  function eventsView(params) {
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
    const mine = generation;
    const tbody = $('#events-table tbody');
    let page;
    try {
      page = await api('GET', '/events' + listQuery(list.cursors[list.page]));
    } catch (err) {
      if (mine !== generation) return;
      tbody.replaceChildren(h('tr', {}, h('td', { colspan: 6 }, errorLine(err))));
      $('#events-summary').textContent = '';
      return;
    }
    if (mine !== generation) return;
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
    $('#events-summary').textContent = 'Page ' + (list.page + 1) + ': ' + page.items.length + ' event' +
      (page.items.length === 1 ? '' : 's') + (page.next_cursor ? ', more older' : '') +
      ' · loaded ' + new Date().toLocaleTimeString();
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
    const hash = '#/events' + (params.toString() ? '?' + params : '');
    if (location.hash === hash) route(); else location.hash = hash;
  }

  function autoRefresh() {
    if ($('#auto-refresh').checked && !$('#view-events').hidden && list.page === 0 &&
        document.visibilityState === 'visible' && sessionStorage.getItem(TOKEN_KEY)) {
      loadEvents();
    }
  }

  // ---- bulk retry -------------------------------------------------------

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
      result.textContent = answer.count + ' dead deliver' + (answer.count === 1 ? 'y matches' : 'ies match') + describe(bulkBody) + '.';
      result.dataset.count = String(answer.count);
      if (answer.count > 0) {
        confirm.textContent = 'Retry ' + answer.count + ' deliver' + (answer.count === 1 ? 'y' : 'ies');
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
      $('#bulk-result').textContent = 'Queued ' + answer.count + ' deliver' + (answer.count === 1 ? 'y' : 'ies') + ' for retry.';
      flash('Retrying ' + answer.count + ' dead deliveries.', 'ok');
      loadEvents();
    } catch (err) {
      $('#bulk-result').textContent = err.message;
    }
  }

  // ---- event detail -----------------------------------------------------

  function attemptLine(a) {
    return h('li', { class: 'attempt' },
      h('div', { class: 'attempt-head' },
        h('span', { class: 'mono' }, when(a.started_at)),
        badge(a.outcome),
        h('span', {}, a.status_code ? 'HTTP ' + a.status_code : 'no answer'),
        h('span', { class: 'muted' }, a.duration_ms + ' ms'),
        h('span', { class: 'muted' }, 'attempt ' + a.attempt)),
      a.error ? h('div', { class: 'error' }, a.error) : null,
      a.response_excerpt ? h('pre', { class: 'excerpt' }, a.response_excerpt) : null);
  }

  function deliveryCard(d, reload) {
    const retry = d.status === 'dead'
      ? h('button', {
        type: 'button', class: 'retry', 'data-delivery': d.delivery_id,
        onclick: async () => {
          try {
            await api('POST', '/deliveries/' + d.delivery_id + '/retry');
            flash('Delivery to ' + d.target + ' queued again.', 'ok');
          } catch (err) { flash(err.message, 'error'); }
          reload();
        },
      }, 'Retry')
      : null;
    const attempts = d.attempts || [];
    return h('div', { class: 'delivery', 'data-target': d.target, 'data-status': d.status },
      h('div', { class: 'delivery-head' },
        h('strong', {}, d.target), badge(d.status),
        h('span', { class: 'muted' }, attempts.length + ' attempt' + (attempts.length === 1 ? '' : 's')),
        d.next_attempt_at ? h('span', { class: 'muted' }, 'next ' + when(d.next_attempt_at)) : null,
        h('span', { class: 'muted mono' }, d.delivery_id),
        retry),
      attempts.length ? h('ol', { class: 'timeline' }, attempts.map(attemptLine)) : h('p', { class: 'muted' }, 'No attempt yet.'));
  }

  function headersTable(headers) {
    return h('table', { class: 'grid headers' },
      h('tbody', {}, (headers || []).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'mono' }, v)))));
  }

  // The payload with its keys in the order they were sent (the API's
  // parsed copy sorts them), when the raw text is there to parse.
  function inOrder(e) {
    try { return JSON.parse(e.body_text); } catch (_) { return e.payload; }
  }

  function bodyViews(e) {
    const pretty = e.payload_encoding === 'json'
      ? JSON.stringify(inOrder(e), null, 2)
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
    const boxes = targets.map((t) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: t.name }), ' ' + t.name));
    const replay = async (chosen) => {
      try {
        const answer = await api('POST', '/events/' + e.event_id + '/replay', chosen ? { targets: chosen } : undefined);
        flash('Replayed: ' + answer.deliveries.length + ' new deliver' + (answer.deliveries.length === 1 ? 'y' : 'ies') + '.', 'ok');
      } catch (err) { flash(err.message, 'error'); }
      reload();
    };
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
        onclick: async () => {
          try {
            const answer = await api('POST', '/deliveries/cancel', { event_id: e.event_id });
            flash('Cancelled ' + answer.count + ' pending deliver' + (answer.count === 1 ? 'y' : 'ies') + '.', 'ok');
          } catch (err) { flash(err.message, 'error'); }
          reload();
        },
      }, 'Cancel ' + pending + ' pending') : null);
  }

  async function eventView(id) {
    const mine = generation;
    const view = $('#view-event');
    const reload = () => { if (mine === generation) eventView(id); };
    const e = await viewData(view, '/events/' + encodeURIComponent(id), [backLink('#/events', 'Events')]);
    if (!e) return;
    view.replaceChildren(
      backLink('#/events', 'Events'),
      h('h1', {}, h('span', { class: 'mono', id: 'event-type' }, e.event_type), ' ', badge(e.status)),
      h('dl', { class: 'meta' },
        h('dt', {}, 'hookgate ID'), h('dd', { class: 'mono' }, e.event_id),
        h('dt', {}, 'Provider event ID'), h('dd', { class: 'mono', id: 'provider-event-id' }, e.provider_event_id),
        h('dt', {}, 'Source'), h('dd', {}, e.source),
        h('dt', {}, 'Received (UTC)'), h('dd', {}, when(e.received_at)),
        h('dt', {}, 'Content-Type'), h('dd', {}, e.content_type || '—'),
        h('dt', {}, 'Body SHA-256'), h('dd', { class: 'mono' }, e.body_sha256)),
      replayPanel(e, reload),
      h('h2', {}, 'Deliveries'),
      e.deliveries.length ? h('div', { id: 'deliveries' }, e.deliveries.map((d) => deliveryCard(d, reload)))
        : h('p', { class: 'muted' }, 'No target is routed for this event.'),
      h('div', { class: 'columns' },
        h('div', {}, h('h2', {}, 'Body'), bodyViews(e)),
        h('div', {}, h('h2', {}, 'Request headers'), headersTable(e.headers))));
    // While a delivery is pending, follow it until it settles.
    if (e.deliveries.some((d) => d.status === 'pending')) {
      pollTimer = setTimeout(reload, 1000);
    }
  }

  // ---- targets, sources, conflicts ---------------------------------------

  function percent(rate) {
    return rate === null || rate === undefined ? '—' : (rate * 100).toFixed(1) + ' %';
  }

  function age(secs) {
    if (secs === null || secs === undefined) return '—';
    if (secs < 90) return Math.round(secs) + ' s';
    if (secs < 5400) return Math.round(secs / 60) + ' min';
    return (secs / 3600).toFixed(1) + ' h';
  }

  async function targetsView() {
    const mine = generation;
    const view = $('#view-targets');
    if (!await viewData(view, '/targets', [], (answer) => { targets = answer; })) return;
    const note = h('p', { class: 'emph', id: 'cancel-result' });
    const cancelFor = (t) => h('button', {
      type: 'button', class: 'quiet', disabled: t.pending === 0,
      onclick: async () => {
        try {
          const dry = await api('POST', '/deliveries/cancel', { target: t.name, dry_run: true });
          note.replaceChildren(dry.count + ' pending deliver' + (dry.count === 1 ? 'y' : 'ies') + ' to ' + t.name + ' would be cancelled. ',
            h('button', {
              type: 'button', class: 'danger', onclick: async () => {
                try {
                  const done = await api('POST', '/deliveries/cancel', { target: t.name });
                  flash('Cancelled ' + done.count + ' pending deliveries to ' + t.name + '.', 'ok');
                } catch (err) { flash(err.message, 'error'); }
                if (mine === generation) targetsView();
              },
            }, 'Cancel them'));
        } catch (err) { flash(err.message, 'error'); }
      },
    }, 'Cancel pending…');
    view.replaceChildren(
      h('h1', {}, 'Targets'),
      note,
      h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Target', 'URL', 'Success rate', 'Backlog', 'Oldest pending', 'Delivered', 'Dead', 'Cancelled', 'Last error', ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, targets.map((t) => h('tr', { 'data-target': t.name },
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
          h('td', {}, cancelFor(t)))))));
  }

  async function sourcesView() {
    const view = $('#view-sources');
    if (!await viewData(view, '/sources', [], (answer) => { sources = answer; })) return;
    view.replaceChildren(
      h('h1', {}, 'Sources'),
      h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Source', 'Provider', 'Ingest path', 'Events', 'Conflicts', 'Routes to'].map((c) => h('th', {}, c)))),
        h('tbody', {}, sources.map((s) => h('tr', {},
          h('td', {}, h('a', { href: '#/events?source=' + encodeURIComponent(s.name) }, s.name)),
          h('td', {}, s.provider),
          h('td', { class: 'mono' }, s.ingest_path),
          h('td', { class: 'num' }, s.events),
          h('td', { class: 'num' }, s.conflicts),
          h('td', {}, s.routes.join(', ') || '—'))))));
  }

  async function conflictsView() {
    const view = $('#view-conflicts');
    const page = await viewData(view, '/conflicts?limit=100');
    if (!page) return;
    view.replaceChildren(
      h('h1', {}, 'Conflicts'),
      h('p', { class: 'muted' }, 'Requests refused with 409: a provider event ID already stored, with a different body.'),
      h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Received (UTC)', 'Source', 'Provider event ID', 'Stored event'].map((c) => h('th', {}, c)))),
        h('tbody', {}, page.items.length ? page.items.map((c) => h('tr', {},
          h('td', {}, h('a', { href: '#/conflict/' + encodeURIComponent(c.conflict_id) }, when(c.received_at))),
          h('td', {}, c.source),
          h('td', { class: 'mono' }, c.provider_event_id),
          h('td', {}, h('a', { class: 'mono', href: '#/event/' + encodeURIComponent(c.event_id) }, c.event_id))))
          : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No conflicts.')))));
  }

  function conflictSide(title, side) {
    const body = side.payload_encoding === 'json' ? JSON.stringify(inOrder(side), null, 2)
      : (side.body_text !== null ? side.body_text : 'base64: ' + side.payload);
    return h('div', { class: 'side' },
      h('h2', {}, title),
      h('dl', { class: 'meta' },
        h('dt', {}, 'Received (UTC)'), h('dd', {}, when(side.received_at)),
        h('dt', {}, 'SHA-256'), h('dd', { class: 'mono' }, side.sha256)),
      h('pre', { class: 'body' }, body),
      h('h3', {}, 'Headers'),
      headersTable(side.headers));
  }

  async function conflictView(id) {
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

  // ---- wiring ------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('#signin-form').addEventListener('submit', signIn);
    $('#sign-out').addEventListener('click', () => { signOut('Signed out.'); });
    $('#filters').addEventListener('submit', applyFilters);
    $('#clear-filters').addEventListener('click', () => {
      if (location.hash === '#/events') route(); else location.hash = '#/events';
    });
    $('#page-next').addEventListener('click', () => { list.page += 1; generation += 1; loadEvents(); });
    $('#page-first').addEventListener('click', () => { list.page = 0; generation += 1; loadEvents(); });
    $('#bulk-open').addEventListener('click', () => { $('#bulk').hidden = false; $('#bulk-result').textContent = ''; $('#bulk-confirm').hidden = true; });
    $('#bulk-close').addEventListener('click', () => { $('#bulk').hidden = true; });
    $('#bulk-count').addEventListener('click', bulkCount);
    $('#bulk-confirm').addEventListener('click', bulkConfirm);
    $('#events-table tbody').addEventListener('click', (ev) => {
      const row = ev.target.closest('tr[data-id]');
      if (row && !ev.target.closest('a')) location.hash = '#/event/' + encodeURIComponent(row.dataset.id);
    });
    window.addEventListener('hashchange', route);
    setInterval(autoRefresh, 5000);
    if (sessionStorage.getItem(TOKEN_KEY)) {
      loadConfig().then(() => { showSignedIn(true); route(); }, () => signOut('Sign in again.'));
    } else {
      signOut('');
    }
  });
})();

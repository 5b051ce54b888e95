// hookgate console: a small client of the admin API. This file signs in and
// out, routes the URL's hash to a view and starts the page; the views live
// in events.js, event.js, overview.js and routes.js, the API client in api.js, and
// every element is built by render.js, as text only.

import { api, forgetToken, hasToken, onRefused, setToken } from './api.js';
import { $, h, options } from './render.js';
import { config, navigation, onReroute, stopPolling } from './view.js';
import { eventsView, wireEvents } from './events.js';
import { eventView } from './event.js';
import { conflictsView, conflictView, sourcesView, targetsView } from './overview.js';
import { routesView } from './routes.js';

// ---- sign-in ------------------------------------------------------------

function showSignedIn(yes) {
  $('#signin').hidden = yes;
  $('#nav').hidden = !yes;
  $('#sign-out').hidden = !yes;
  if (!yes) for (const v of document.querySelectorAll('.view')) v.hidden = true;
}

function signOut(reason) {
  forgetToken();
  stopPolling();
  showSignedIn(false);
  const err = $('#signin-error');
  err.hidden = !reason;
  err.textContent = reason || '';
}

async function loadConfig() {
  [config.sources, config.targets] = await Promise.all([api('GET', '/sources'), api('GET', '/targets')]);
  document.querySelector('#filters select[name=source]').replaceChildren(...options(config.sources.map((s) => s.name)));
  $('#bulk-target').replaceChildren(...options(config.targets.map((t) => t.name)));
}

async function signIn(event) {
  event.preventDefault();
  setToken($('#token').value.trim());
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

// ---- routing ------------------------------------------------------------

function show(view) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + view;
  const section = view === 'event' ? 'events' : view === 'conflict' ? 'conflicts' : view;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === section);
}

function route() {
  if (!hasToken()) { signOut(''); return; }
  navigation();
  stopPolling();
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, qs] = hash.split('?');
  const [view, id] = path.split('/');
  const params = new URLSearchParams(qs || '');
  switch (view) {
    case 'event': show('event'); return eventView(decodeURIComponent(id || ''));
    case 'targets': show('targets'); return targetsView();
    case 'sources': show('sources'); return sourcesView();
    case 'routes': show('routes'); return routesView();
    case 'conflicts': show('conflicts'); return conflictsView();
    case 'conflict': show('conflict'); return conflictView(decodeURIComponent(id || ''));
    default: show('events'); return eventsView(params);
  }
}

// ---- start-up -----------------------------------------------------------

onRefused(signOut);
onReroute(route);

document.addEventListener('DOMContentLoaded', () => {
  $('#signin-form').addEventListener('submit', signIn);
  $('#sign-out').addEventListener('click', () => { signOut('Signed out.'); });
  wireEvents();
  window.addEventListener('hashchange', route);
  if (hasToken()) {
    loadConfig().then(() => { showSignedIn(true); route(); }, () => signOut('Sign in again.'));
  } else {
    signOut('');
  }
});

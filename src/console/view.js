// What every view shares: the configuration last fetched, which navigation
// is current, the poll that follows a pending delivery, fetching a view's
// data, and running an action the operator asked for.

import { api, ApiError } from './api.js';
import { flash, h } from './render.js';

export const config = { sources: [], targets: [] };

// Bumped on every navigation: a late answer for an older view is dropped.
let generation = 0;
let pollTimer = null;

// Starts a navigation; returns its number, for `isCurrent`.
export function navigation() {
  generation += 1;
  return generation;
}

export const current = () => generation;
export const isCurrent = (mine) => mine === generation;

export function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

export function pollAfter(ms, then) {
  pollTimer = setTimeout(then, ms);
}

// Routing lives in main.js, which imports the views; they reach it here.
let reroute = () => {};
export function onReroute(handler) {
  reroute = handler;
}

// Opens `hash`; when it is open already, shows it again with fresh data.
export function open(hash) {
  if (location.hash === hash) reroute(); else location.hash = hash;
}

export function errorLine(err) {
  return h('p', { class: 'error' }, err instanceof ApiError ? (err.body.error + ': ' + err.message) : String(err));
}

// GETs what `view` shows. A failure is shown in the view, after `before`
// (a back link, say). Resolves to the answer, or to undefined when it
// failed or another view was opened meanwhile (a late answer is dropped;
// `keep` still sees it, to refresh a cache).
export async function viewData(view, path, before = [], keep = () => {}) {
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

// Makes an admin call the operator asked for, flashes what it did (`done`
// words the answer) or why it failed, then runs `after`.
export async function act(call, done, after) {
  try {
    flash(done(await call()), 'ok');
  } catch (err) { flash(err.message, 'error'); }
  after();
}

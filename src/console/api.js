// The admin API as the console calls it: the token from this tab's
// sessionStorage as the Authorization header, JSON in and out, and an
// ApiError that carries the API's `{error, detail}` answer.

// Relative to the page, so the console also works behind a proxy that adds
// a path prefix.
const ROOT = location.pathname.replace(/console\/?$/, '');
const API = ROOT + 'admin/v1';
const TOKEN_KEY = 'hookgate.token';

export const hasToken = () => Boolean(sessionStorage.getItem(TOKEN_KEY));
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

// What to do when the API refuses the token; the sign-in code sets it, so
// this file needs nothing from the page.
let refused = () => {};
export function onRefused(handler) {
  refused = handler;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || ('HTTP ' + status));
    this.status = status;
    this.body = body || {};
  }
}

export async function api(method, path, body) {
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
  // Sign-in tries a token on `/sources` and says itself why it failed.
  if (res.status === 401 && path !== '/sources') {
    refused('The token was refused; sign in again.');
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// A query string from the parameters that have a value.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

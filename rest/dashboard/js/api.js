// The REST client: every call goes to /api/<eKuiper REST path> on the dashboard's own origin,
// which kuiperd forwards in-process to the REST routes. With basic.authentication on, the JWT the
// user pasted (kept in sessionStorage, gone when the tab closes) is sent as Authorization; a 401
// raises the "kuiper:unauthorized" event, on which app.js shows the login form.

const TOKEN_KEY = 'kuiper.jwt';

export class ApiError extends Error {
  constructor(status, message, body, path) {
    super(message);
    this.status = status;
    this.body = body;
    this.path = path;
  }
  /** True when the REST API has no such route at all (not when a named stream is missing). */
  get missingEndpoint() {
    return this.status === 404 && typeof this.message === 'string' && this.message === `${this.path.split('?')[0]} is not found`;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t.trim());
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders() {
  const t = token();
  return t ? { Authorization: t } : {};
}

/** Calls the REST API. Resolves with the parsed JSON (or text); rejects with ApiError. */
export async function api(method, path, body) {
  const init = { method, headers: authHeaders() };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch('/api' + path, init);
  } catch (e) {
    throw new ApiError(0, `kuiperd did not answer (${e.message})`, null, path);
  }
  const text = await r.text();
  let data = text;
  if (text && /json/.test(r.headers.get('Content-Type') || '')) {
    try { data = JSON.parse(text); } catch { /* keep the text */ }
  }
  if (!r.ok) {
    const msg = (data && typeof data === 'object' && data.message) || text || r.statusText;
    if (r.status === 401) window.dispatchEvent(new CustomEvent('kuiper:unauthorized', { detail: msg }));
    throw new ApiError(r.status, msg, data, path);
  }
  return data;
}

export const get = (path) => api('GET', path);

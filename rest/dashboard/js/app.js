// The dashboard's entry point: a hash router (#/streams, #/rules/<id>, ...) that renders one page
// module at a time into <main>. Each page's render(main, params) returns a cleanup function that
// stops its timers and live streams when the user navigates away. A 401 from any call shows the
// login form; the token lives in sessionStorage (see api.js).
import { h, replace } from './dom.js';
import { token, setToken } from './api.js';
import * as streams from './pages/streams.js';
import * as rules from './pages/rules.js';
import * as broker from './pages/broker.js';
import * as config from './pages/config.js';
import * as login from './pages/login.js';

const routes = [
  [/^\/streams$/, () => [streams.render, { kind: 'streams' }, 'streams']],
  [/^\/tables$/, () => [streams.render, { kind: 'tables' }, 'tables']],
  [/^\/rules$/, () => [rules.renderList, {}, 'rules']],
  [/^\/rules\/new$/, () => [rules.renderForm, {}, 'rules']],
  [/^\/rules\/([^/]+)\/edit$/, (m) => [rules.renderForm, { id: decodeURIComponent(m[1]) }, 'rules']],
  [/^\/rules\/([^/]+)$/, (m) => [rules.renderDetail, { id: decodeURIComponent(m[1]) }, 'rules']],
  [/^\/broker$/, () => [broker.render, {}, 'broker']],
  [/^\/config$/, () => [config.render, {}, 'config']],
  [/^\/login$/, () => [login.render, {}, '']],
];

let cleanup = null;
let afterLogin = '#/streams';

function route() {
  const path = (location.hash || '#/streams').slice(1);
  let found = null;
  for (const [re, make] of routes) {
    const m = re.exec(path);
    if (m) { found = make(m); break; }
  }
  if (!found) { location.hash = '#/streams'; return; }
  const [render, params, page] = found;
  if (cleanup) { try { cleanup(); } catch (e) { console.warn(e); } }
  cleanup = null;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  const main = document.getElementById('main');
  replace(main);
  main.dataset.page = page || 'login';
  cleanup = render(main, { ...params, afterLogin }) || null;
  drawSession();
}

function drawSession() {
  const el = document.getElementById('session');
  if (token()) {
    replace(el, 'signed in with a token', h('button', { onclick: () => { setToken(''); location.hash = '#/login'; } }, 'Sign out'));
  } else {
    replace(el);
  }
}

window.addEventListener('kuiper:unauthorized', () => {
  if (location.hash !== '#/login') {
    afterLogin = location.hash || '#/streams';
    location.hash = '#/login';
  }
});
window.addEventListener('hashchange', route);
route();

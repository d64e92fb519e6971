// The bundled broker: $SYS figures charted as they arrive (over the dashboard's /tap stream of
// $SYS/#), connected clients, subscriptions and retained messages (REST endpoints that come with
// the broker's management API: shown when the server has them, "not available" otherwise), and a
// live message viewer for any topic filter.
import { h, replace } from '../dom.js';
import { api, ApiError } from '../api.js';
import { Series, lineChart, legend } from '../chart.js';
import { tap } from '../tap.js';

// The broker's REST endpoints, looked up in this order; the first that answers is shown.
export const BROKER_ENDPOINTS = {
  clients: ['/broker/clients'],
  subscriptions: ['/broker/subscriptions'],
  retained: ['/broker/retained'],
};

// $SYS/brokers/<node>/<suffix>: gauges are charted as they are, counters as a rate per second.
const GAUGES = [['clients/connected', 'connected clients'], ['subscriptions/count', 'subscriptions'], ['retained/count', 'retained messages']];
const COUNTERS = [['messages/received', 'messages received /s'], ['messages/sent', 'messages sent /s'],
  ['bytes/received', 'bytes received /s'], ['bytes/sent', 'bytes sent /s']];

/** Rows of objects as a table whose columns are the union of their keys. */
function table(rows) {
  if (!Array.isArray(rows)) {
    if (rows && typeof rows === 'object') {
      const arr = Object.values(rows).find(Array.isArray);
      if (arr) return table(arr);
    }
    return h('pre.json', JSON.stringify(rows, null, 2));
  }
  if (!rows.length) return h('p.muted', 'None.');
  const cols = [...new Set(rows.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : ['value'])))];
  return h('div.hscroll', h('table.list', h('thead', h('tr', cols.map((c) => h('th', c)))),
    h('tbody', rows.map((r) => h('tr', cols.map((c) => {
      const v = r && typeof r === 'object' ? r[c] : r;
      return h('td', v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    }))))));
}

async function loadSection(box, paths) {
  for (const p of paths) {
    try {
      replace(box, table(await api('GET', p)));
      return;
    } catch (e) {
      if (!(e instanceof ApiError && e.missingEndpoint)) {
        replace(box, h('div.error-box', e.message));
        return;
      }
    }
  }
  replace(box, h('p.na', { 'data-testid': 'not-available' }, `Not available: this kuiperd has no ${paths.join(' or ')} endpoint yet.`));
}

export function render(main) {
  const gauges = GAUGES.map(([suffix, name]) => ({ suffix, series: new Series(name, 120) }));
  const counters = COUNTERS.map(([suffix, name]) => ({ suffix, series: new Series(name, 120) }));
  const sysCharts = h('div.grid', { 'data-testid': 'sys-charts' });
  const sysState = h('span.small.muted', 'connecting…');
  const sysValues = new Map();
  const sysTable = h('tbody');
  const sections = {};
  const streams = [];

  // $SYS topics arrive in bursts (one per figure every sysInterval): draw once per burst.
  let drawTimer = null;
  function scheduleDraw() {
    if (!drawTimer) drawTimer = setTimeout(() => { drawTimer = null; drawSys(); }, 200);
  }

  function drawSys() {
    replace(sysCharts, [...gauges, ...counters].map(({ series }) => h('div',
      legend([series]), lineChart([series], { height: 60 }))));
    replace(sysTable, [...sysValues.entries()].sort().map(([k, v]) => h('tr', h('td', h('code', k)), h('td', v))));
  }

  streams.push(tap('$SYS/#', (msg) => {
    const m = /^\$SYS\/brokers\/[^/]+\/(.+)$/.exec(msg.topic);
    sysValues.set(msg.topic, msg.payload);
    if (m) {
      const v = Number(msg.payload);
      for (const g of gauges) if (g.suffix === m[1]) g.series.push(v, msg.ts);
      for (const c of counters) if (c.suffix === m[1]) c.series.pushRate(v, msg.ts);
    }
    scheduleDraw();
  }, (s, text, status) => {
    if (s === 'open') sysState.textContent = 'live; $SYS figures arrive every broker.sysInterval';
    else if (status === 404) replace(sysCharts, h('p.na', { 'data-testid': 'not-available' }, `Not available: ${text}`));
    else sysState.textContent = `${s}${text ? ': ' + text : ''}`;
  }));

  // The message viewer.
  const filter = h('input', { type: 'text', name: 'filter', value: '#', 'aria-label': 'topic filter' });
  const list = h('ul.messages', { 'data-testid': 'messages' });
  const viewState = h('span.small.muted');
  let viewer = null;
  function watch(ev) {
    ev.preventDefault();
    if (viewer) viewer.close();
    replace(list);
    viewer = tap(filter.value, (msg) => {
      list.prepend(h('li', h('span.muted', new Date(msg.ts).toLocaleTimeString(), ' ', h('code', msg.topic),
        msg.retain ? ' retained' : '', ' qos ', String(msg.qos), ' '), h('code', msg.payload),
        msg.truncated ? h('span.muted', ' (cut)') : null));
      while (list.children.length > 100) list.lastChild.remove();
    }, (s, text) => { viewState.textContent = s === 'open' ? `watching ${filter.value}` : `${s}${text ? ': ' + text : ''}`; });
  }

  for (const key of Object.keys(BROKER_ENDPOINTS)) sections[key] = h('div', h('p.muted', 'Loading…'));
  main.append(
    h('h1', 'Broker'),
    h('div.card', h('div.row', h('h2', '$SYS figures'), h('span.spacer'), sysState), sysCharts,
      h('details', h('summary.small.muted', 'all $SYS topics'), h('table.list', sysTable))),
    h('div.card', h('h2', 'Connected clients'), sections.clients),
    h('div.card', h('h2', 'Subscriptions'), sections.subscriptions),
    h('div.card', h('h2', 'Retained messages'), sections.retained),
    h('form.card', { onsubmit: watch },
      h('div.row', h('h2', 'Messages'), h('span.spacer'), viewState),
      h('div.row', filter, h('button.primary', { type: 'submit' }, 'Watch')),
      list));
  drawSys();
  for (const [key, paths] of Object.entries(BROKER_ENDPOINTS)) loadSection(sections[key], paths);
  return () => { clearTimeout(drawTimer); for (const s of streams) s.close(); if (viewer) viewer.close(); };
}

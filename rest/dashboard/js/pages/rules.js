// Rules: the list with live status and start/stop/restart/delete; the create and edit form (SQL
// with inline parse errors, actions and options as JSON); and a rule's page with its status,
// per-node metrics charted as they change, and a live preview of what it emits (see renderDetail).
import { h, replace, toast, badge, fmtNumber, fmtTime, jsonBlock, planBlock } from '../dom.js';
import { api, ApiError } from '../api.js';
import { sqlEditor, errorPosition } from '../sqleditor.js';
import { Series, lineChart, legend } from '../chart.js';
import { nodes, total } from '../metrics.js';
import { tap } from '../tap.js';

const POLL_MS = 1000;
const enc = encodeURIComponent;

async function command(id, verb) {
  try {
    const msg = await api('POST', `/rules/${enc(id)}/${verb}`);
    toast(typeof msg === 'string' && msg ? msg : `Rule ${id}: ${verb} sent.`);
  } catch (e) {
    toast(e.message, true);
  }
}

async function remove(id) {
  if (!confirm(`Delete rule ${id}?`)) return false;
  try {
    const msg = await api('DELETE', `/rules/${enc(id)}`);
    toast(typeof msg === 'string' && msg ? msg : `Rule ${id} is deleted.`);
    return true;
  } catch (e) {
    toast(e.message, true);
    return false;
  }
}

function ruleButtons(id, after = () => {}) {
  const act = (verb) => async () => { await command(id, verb); after(); };
  return [
    h('button', { onclick: act('start'), 'data-action': 'start' }, 'Start'),
    h('button', { onclick: act('stop'), 'data-action': 'stop' }, 'Stop'),
    h('button', { onclick: act('restart'), 'data-action': 'restart' }, 'Restart'),
    h('button', { onclick: () => { location.hash = `#/rules/${enc(id)}/edit`; } }, 'Edit'),
    h('button.danger', { 'data-action': 'delete', onclick: async () => { if (await remove(id)) { after(true); } } }, 'Delete'),
  ];
}

/** #/rules: every rule with its status, refreshed every second. */
export function renderList(main) {
  const box = h('div', h('p.muted', 'Loading…'));
  let last = '', timer = null, alive = true;
  async function load() {
    try {
      const list = await api('GET', '/rules');
      if (!alive) return;
      const key = JSON.stringify(list);
      if (key === last) return; // keep the buttons under the pointer stable
      last = key;
      replace(box, (list || []).length
        ? h('table.list', { 'data-testid': 'rules-list' },
          h('thead', h('tr', h('th', 'id'), h('th', 'name'), h('th', 'status'), h('th', ''))),
          h('tbody', list.map((r) => h('tr', { 'data-rule': r.id },
            h('td', h('a', { href: `#/rules/${enc(r.id)}` }, r.id)),
            h('td', r.name || ''),
            h('td', badge(r.status)),
            h('td.row', ruleButtons(r.id, () => { last = ''; load(); }))))))
        : h('p.muted', { 'data-testid': 'rules-list' }, 'No rules yet.'));
    } catch (e) {
      last = '';
      replace(box, e instanceof ApiError && e.missingEndpoint
        ? h('p.na', 'Not available: this kuiperd has no /rules endpoint yet.')
        : h('div.error-box', e.message));
    } finally {
      if (alive) timer = setTimeout(load, POLL_MS * 2);
    }
  }
  main.append(
    h('h1', 'Rules', h('span.spacer'), h('a.button', { href: '#/rules/new' }, 'New rule')),
    h('div.card', box));
  load();
  return () => { alive = false; clearTimeout(timer); };
}

const ACTION_TEMPLATES = {
  log: [{ log: {} }],
  memory: [{ memory: { topic: 'result/demo' } }],
  mqtt: [{ mqtt: { server: 'tcp://127.0.0.1:1883', topic: 'result/demo' } }],
};

function parseJson(text, what) {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what}: ${e.message}`);
  }
}

/** #/rules/new and #/rules/<id>/edit: POST /rules or PUT /rules/{id}. */
export function renderForm(main, { id }) {
  const editing = id !== undefined;
  const idInput = h('input', { type: 'text', name: 'id', value: id || '', disabled: editing, placeholder: 'rule1', required: true });
  const nameInput = h('input', { type: 'text', name: 'name', placeholder: 'optional display name' });
  const sql = sqlEditor('SELECT * FROM demo WHERE temperature > 20', { rows: 5 });
  const actions = h('textarea.code', { name: 'actions', rows: 12, spellcheck: 'false' });
  actions.value = JSON.stringify(ACTION_TEMPLATES.log, null, 2);
  const options = h('textarea.code', { name: 'options', rows: 3, spellcheck: 'false', placeholder: '{"isEventTime": false}' });
  const triggered = h('input', { type: 'checkbox', name: 'triggered', checked: true });
  const result = h('div');

  if (editing) {
    api('GET', `/rules/${enc(id)}`).then((r) => {
      nameInput.value = r.name || '';
      sql.value = r.sql || '';
      actions.value = JSON.stringify(r.actions || [], null, 2);
      if (r.options && Object.keys(r.options).length) options.value = JSON.stringify(r.options, null, 2);
      if (r.triggered === false) triggered.checked = false;
    }).catch((e) => replace(result, h('div.error-box', e.message)));
  }

  // The rule JSON from the form; throws on malformed actions or options JSON.
  function body() {
    const b = { id: idInput.value.trim(), sql: sql.value, actions: parseJson(actions.value, 'actions') || [] };
    if (nameInput.value.trim()) b.name = nameInput.value.trim();
    const opts = parseJson(options.value, 'options');
    if (opts) b.options = opts;
    if (!triggered.checked) b.triggered = false;
    return b;
  }

  // A 400 that names the SQL (a parse error's line and column) goes to the editor.
  function showFailure(e) {
    if ((e.status === 400 || e.status === 422) && (errorPosition(e.message) || /sql|parse|syntax/i.test(e.message))) {
      sql.showError(e.message);
    } else {
      replace(result, h('div.error-box', { 'data-testid': 'rule-error' }, e.message));
    }
  }

  async function send(fn) {
    sql.clearError();
    replace(result);
    let b;
    try {
      b = body();
    } catch (e) {
      replace(result, h('div.error-box', { 'data-testid': 'rule-error' }, e.message));
      return;
    }
    try {
      await fn(b);
    } catch (e) {
      showFailure(e);
    }
  }

  const save = (ev) => {
    ev.preventDefault();
    return send(async (b) => {
      const msg = editing ? await api('PUT', `/rules/${enc(id)}`, b) : await api('POST', '/rules', b);
      toast(typeof msg === 'string' && msg ? msg : `Rule ${b.id} is saved.`);
      location.hash = `#/rules/${enc(b.id)}`;
    });
  };

  // POST /rules/validate: the rule is planned but neither saved nor started.
  const check = () => send(async (b) => {
    const msg = await api('POST', '/rules/validate', { ...b, id: b.id || 'validate' });
    replace(result, h('div.ok-box', { 'data-testid': 'rule-valid' }, typeof msg === 'string' && msg ? msg : 'The rule is valid.'));
  });

  main.append(
    h('h1', editing ? `Edit rule ${id}` : 'New rule'),
    h('form.card', { onsubmit: save, 'data-testid': 'rule-form' },
      h('div.row', h('label.field', { style: 'flex:1' }, 'id', idInput), h('label.field', { style: 'flex:2' }, 'name', nameInput)),
      h('label.field', 'SQL'), sql.el,
      h('label.field', { style: 'margin-top:10px' }, h('span.row', 'actions (JSON array)', h('span.spacer'),
        Object.keys(ACTION_TEMPLATES).map((k) => h('button', { type: 'button', onclick: () => {
          actions.value = JSON.stringify(ACTION_TEMPLATES[k], null, 2);
        } }, k))), actions),
      h('label.field', 'options (JSON object, optional)', options),
      h('label.row', triggered, 'start the rule when it is saved'),
      result,
      h('div.row', { style: 'margin-top:8px' }, h('button.primary', { type: 'submit' }, editing ? 'Save rule' : 'Create rule'),
        h('button', { type: 'button', onclick: check, 'data-action': 'check' }, 'Check'),
        h('a', { href: editing ? `#/rules/${enc(id)}` : '#/rules' }, 'Cancel'))));
  return () => {};
}

const FIGURES = [
  ['records_in_total', 'in'], ['records_out_total', 'out'], ['exceptions_total', 'exceptions'],
  ['process_latency_us', 'latency µs'], ['buffer_length', 'buffer'], ['connection_status', 'connection'],
];

/** One card per node: key figures and a chart of records in/out per second. */
function nodeCard(name, m, series) {
  const figures = h('dl.figures', FIGURES.filter(([k]) => m[k] !== undefined)
    .flatMap(([k, label]) => [h('dt', label), h('dd', { 'data-metric': k }, fmtNumber(m[k]))]));
  const card = h('div.card.node', { 'data-node': name }, h('h3', name), figures,
    lineChart([series.in, series.out], { height: 56, unit: '/s' }));
  if (m.last_exception) card.append(h('div.error-box.small', `${fmtTime(m.last_exception_time)}: ${m.last_exception}`));
  return card;
}

function mqttTopics(rule) {
  const out = [];
  for (const a of (rule && rule.actions) || []) {
    if (a && a.mqtt && a.mqtt.topic) out.push(a.mqtt.topic);
  }
  return out;
}

/**
 * #/rules/<id>: status, per-node metrics (polled every second from GET /rules/{id}/status) and
 * the output preview: records per second in and out, and, for an mqtt action, the messages
 * themselves as the bundled broker routes them (the dashboard's /tap stream).
 */
export function renderDetail(main, { id }) {
  const head = h('div.card');
  const flow = h('div.card');
  const nodeBox = h('div.grid', { 'data-testid': 'nodes' });
  const preview = h('div.card', { 'data-testid': 'preview' });
  const def = h('div.card');
  const seriesIn = new Series('records in /s'), seriesOut = new Series('records out /s');
  const perNode = new Map();
  let timer = null, alive = true;
  const streams = [];
  const messages = h('ul.messages', { 'data-testid': 'preview-messages' });

  async function poll() {
    try {
      const st = await api('GET', `/rules/${enc(id)}/status`);
      if (!alive) return;
      const now = Date.now();
      const sinks = nodes(st).filter(([n]) => n.startsWith('sink_')).length;
      seriesIn.pushRate(total(st, 'source_', 'records_in_total'), now);
      seriesOut.pushRate(total(st, 'sink_', 'records_out_total') ?? total(st, 'sink_', 'records_in_total'), now);
      replace(head,
        h('div.row', badge(st.status), h('span.spacer'), ruleButtons(id, (gone) => { if (gone === true) location.hash = '#/rules'; })),
        st.message ? h('div.error-box', st.message) : null,
        h('dl.figures', { style: 'max-width:420px;margin-top:8px' },
          h('dt', 'last start'), h('dd', fmtTime(st.lastStartTimestamp)),
          h('dt', 'last stop'), h('dd', fmtTime(st.lastStopTimestamp)),
          h('dt', 'records in (sources)'), h('dd', { 'data-testid': 'records-in' }, fmtNumber(total(st, 'source_', 'records_in_total') ?? 0)),
          h('dt', `records out (${sinks} sink${sinks === 1 ? '' : 's'} together)`),
          h('dd', { 'data-testid': 'records-out' }, fmtNumber(total(st, 'sink_', 'records_out_total') ?? 0))));
      replace(flow, h('h2', 'Throughput'), legend([seriesIn, seriesOut]),
        lineChart([seriesIn, seriesOut], { width: 700, height: 120, unit: '/s' }));
      const cards = nodes(st).map(([name, m]) => {
        if (!perNode.has(name)) perNode.set(name, { in: new Series('in /s'), out: new Series('out /s') });
        const s = perNode.get(name);
        s.in.pushRate(m.records_in_total, now);
        s.out.pushRate(m.records_out_total, now);
        return nodeCard(name, m, s);
      });
      replace(nodeBox, cards.length ? cards : h('p.muted', 'No node metrics yet (the rule has not run).'));
    } catch (e) {
      if (!alive) return;
      replace(head, e instanceof ApiError && e.missingEndpoint
        ? h('p.na', 'Not available: this kuiperd has no rule status endpoint yet.')
        : h('div.error-box', e.message));
    } finally {
      if (alive) timer = setTimeout(poll, POLL_MS);
    }
  }

  function startPreview(rule) {
    const topics = mqttTopics(rule);
    const state = h('span.small.muted');
    if (!topics.length) {
      replace(preview, h('h2', 'Output preview'),
        h('p', 'This rule\'s actions (', (rule.actions || []).map((a) => Object.keys(a)[0]).join(', ') || 'none',
          ') cannot be read back over the REST API, so the preview shows what it emits as figures: the ',
          'records per second leaving its sinks above, and each sink\'s counters below. Add an ',
          h('code', 'mqtt'), ' action publishing to the bundled broker to see the messages themselves here.'));
      return;
    }
    replace(preview, h('div.row', h('h2', 'Output preview'), h('span.spacer'), state),
      h('p.small.muted', 'Messages on ', h('code', topics.join(', ')), ' as the bundled broker routes them (newest first).'),
      messages);
    // One stream per action topic (a few at most: each holds a connection).
    for (const topic of topics.slice(0, 4)) {
      streams.push(tap(topic, (msg) => {
        messages.prepend(h('li', h('span.muted', new Date(msg.ts).toLocaleTimeString(), ' ', msg.topic, ' '), h('code', msg.payload),
          msg.dropped ? h('span.muted', ` (${msg.dropped} skipped)`) : null));
        while (messages.children.length > 50) messages.lastChild.remove();
      }, (s, text) => { state.textContent = s === 'open' ? 'live' : `${s}${text ? ': ' + text : ''}`; }));
    }
  }

  api('GET', `/rules/${enc(id)}`).then((rule) => {
    if (!alive) return;
    if (rule.name) title.textContent = rule.name;
    const plan = h('div');
    replace(def, h('details', h('summary', 'Definition'), h('pre.json', rule.sql || ''), jsonBlock({ actions: rule.actions, options: rule.options }),
      h('h2', { style: 'margin-top:10px' }, 'Plan ', h('code.small.muted', `GET /rules/${id}/explain`)), plan));
    api('GET', `/rules/${enc(id)}/explain`).then((p) => replace(plan, planBlock(p)))
      .catch((e) => replace(plan, e instanceof ApiError && e.missingEndpoint ? h('p.na', 'Not available.') : h('div.error-box', e.message)));
    startPreview(rule);
  }).catch((e) => replace(def, h('div.error-box', e.message)));

  const title = h('span.muted');
  main.append(h('h1', 'Rule ', h('code', id), title), head, flow, preview, h('h2', 'Metrics per node'), nodeBox, def);
  poll();
  return () => { alive = false; clearTimeout(timer); for (const s of streams) s.close(); };
}

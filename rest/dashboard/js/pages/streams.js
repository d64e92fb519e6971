// Streams and tables (the same page for /streams and /tables): list, create with the SQL editor
// (the server's parse error is shown inline, at its line and column), describe, drop.
import { h, replace, toast, jsonBlock } from '../dom.js';
import { api, ApiError } from '../api.js';
import { sqlEditor } from '../sqleditor.js';

// eKuiper's DataType enum in describe output (StreamFields[].FieldType.Type).
const TYPES = ['unknown', 'bigint', 'float', 'string', 'bytea', 'datetime', 'boolean', 'array', 'struct'];

function fieldType(ft) {
  if (ft === undefined || ft === null) return '';
  if (typeof ft === 'string') return ft;
  if (typeof ft.Type === 'number') {
    const base = TYPES[ft.Type] || String(ft.Type);
    if (ft.ElemType !== undefined) return `${base}(${fieldType(ft.ElemType)})`;
    if (ft.FieldType) return `${base}(${fieldType(ft.FieldType)})`;
    return base;
  }
  if (ft.type) return String(ft.type);
  return JSON.stringify(ft);
}

function describeView(noun, d) {
  const fields = d.StreamFields || d.streamFields || d.fields || [];
  const opts = d.Options || d.options || {};
  return h('div', { 'data-testid': 'describe' },
    h('h2', `${noun} ${d.Name || d.name || ''}`),
    fields.length
      ? h('table.list', h('thead', h('tr', h('th', 'field'), h('th', 'type'))),
        h('tbody', fields.map((f) => h('tr', h('td', f.Name || f.name), h('td', fieldType(f.FieldType || f.type))))))
      : h('p.muted', 'Schemaless: every field of the payload is available.'),
    h('h2', { style: 'margin-top:12px' }, 'options'),
    h('table.list', h('tbody', Object.entries(opts).filter(([, v]) => v !== '' && v !== null && v !== undefined && v !== false)
      .map(([k, v]) => h('tr', h('td', k), h('td', typeof v === 'object' ? JSON.stringify(v) : String(v)))))),
    h('details', h('summary.small.muted', 'raw JSON'), jsonBlock(d)));
}

export function render(main, { kind }) {
  const noun = kind === 'streams' ? 'stream' : 'table';
  const Noun = noun[0].toUpperCase() + noun.slice(1);
  const example = kind === 'streams'
    ? 'CREATE STREAM demo (\n  temperature FLOAT,\n  humidity BIGINT\n) WITH (DATASOURCE="demo", FORMAT="JSON", TYPE="mqtt")'
    : 'CREATE TABLE lookup (\n  id BIGINT,\n  name STRING\n) WITH (DATASOURCE="lookup", FORMAT="JSON", TYPE="memory", KIND="lookup", KEY="id")';
  const listBody = h('tbody');
  const listBox = h('div', h('p.muted', 'Loading…'));
  const detail = h('div.card', { hidden: true });
  const editor = sqlEditor(example, { rows: 6 });
  const result = h('div');
  let alive = true;

  async function load() {
    try {
      const names = await api('GET', `/${kind}`);
      if (!alive) return;
      replace(listBody, (names || []).map((n) => {
        const name = typeof n === 'string' ? n : n.name;
        return h('tr', { 'data-name': name },
          h('td', h('code', name)),
          h('td.row', h('button', { onclick: () => describe(name) }, 'Describe'),
            h('button.danger', { onclick: () => drop(name) }, 'Drop')));
      }));
      replace(listBox, (names || []).length
        ? h('table.list', { 'data-testid': `${kind}-list` }, h('thead', h('tr', h('th', 'name'), h('th', ''))), listBody)
        : h('p.muted', { 'data-testid': `${kind}-list` }, `No ${kind} yet.`));
    } catch (e) {
      replace(listBox, e instanceof ApiError && e.missingEndpoint
        ? h('p.na', `Not available: this kuiperd has no /${kind} endpoint yet.`)
        : h('div.error-box', e.message));
    }
  }

  async function describe(name) {
    detail.hidden = false;
    replace(detail, h('p.muted', 'Loading…'));
    try {
      replace(detail, describeView(noun, await api('GET', `/${kind}/${encodeURIComponent(name)}`)));
    } catch (e) {
      replace(detail, h('div.error-box', e.message));
    }
  }

  async function drop(name) {
    if (!confirm(`Drop ${noun} ${name}?`)) return;
    try {
      const msg = await api('DELETE', `/${kind}/${encodeURIComponent(name)}`);
      toast(typeof msg === 'string' && msg ? msg : `${Noun} ${name} is dropped.`);
      detail.hidden = true;
      load();
    } catch (e) {
      toast(e.message, true);
    }
  }

  async function create(ev) {
    ev.preventDefault();
    editor.clearError();
    replace(result);
    try {
      const msg = await api('POST', `/${kind}`, { sql: editor.value });
      replace(result, h('div.ok-box', { 'data-testid': 'create-ok' }, typeof msg === 'string' && msg ? msg : `${Noun} created.`));
      load();
    } catch (e) {
      if (e.status === 400) editor.showError(e.message);
      else replace(result, h('div.error-box', e.message));
    }
  }

  main.append(
    h('h1', kind === 'streams' ? 'Streams' : 'Tables'),
    h('div.card', h('div.row', h('h2', `${Noun}s`), h('span.spacer'), h('button', { onclick: load }, 'Refresh')), listBox),
    detail,
    h('form.card', { onsubmit: create, 'data-testid': 'create-form' },
      h('h2', `Create a ${noun}`),
      editor.el,
      result,
      h('div.row', { style: 'margin-top:8px' }, h('button.primary', { type: 'submit' }, `Create ${noun}`),
        h('span.small.muted', 'Sent as ', h('code', `POST /${kind} {"sql": …}`)))));
  load();
  return () => { alive = false; };
}

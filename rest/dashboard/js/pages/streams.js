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

function describeView(noun, d, onEdit) {
  const fields = d.StreamFields || d.streamFields || d.fields || [];
  const opts = d.Options || d.options || {};
  return h('div', { 'data-testid': 'describe' },
    h('div.row', h('h2', `${noun} ${d.Name || d.name || ''}`), h('span.spacer'),
      d.Statement ? h('button', { onclick: () => onEdit(d.Statement), 'data-action': 'edit' }, 'Edit SQL') : null),
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

  // GET /<kind>details gives type and format too; a server without it still has GET /<kind>.
  async function list() {
    try {
      return await api('GET', `/${noun}details`);
    } catch (e) {
      if (!(e instanceof ApiError && e.missingEndpoint)) throw e;
      return (await api('GET', `/${kind}`) || []).map((n) => (typeof n === 'string' ? { name: n } : n));
    }
  }

  async function load() {
    try {
      const rows = (await list()) || [];
      if (!alive) return;
      replace(listBody, rows.map((r) => h('tr', { 'data-name': r.name },
        h('td', h('code', r.name)), h('td', r.type || ''), h('td', r.format || ''),
        h('td.row', h('button', { onclick: () => describe(r.name) }, 'Describe'),
          h('button.danger', { onclick: () => drop(r.name) }, 'Drop')))));
      replace(listBox, rows.length
        ? h('table.list', { 'data-testid': `${kind}-list` },
          h('thead', h('tr', h('th', 'name'), h('th', 'type'), h('th', 'format'), h('th', ''))), listBody)
        : h('p.muted', { 'data-testid': `${kind}-list` }, `No ${kind} yet.`));
    } catch (e) {
      replace(listBox, e instanceof ApiError && e.missingEndpoint
        ? h('p.na', `Not available: this kuiperd has no /${kind} endpoint yet.`)
        : h('div.error-box', e.message));
    }
  }

  // Editing replaces a definition with PUT /<kind>/<name>; otherwise the form creates one.
  let editing = null;
  const formTitle = h('h2', `Create a ${noun}`);
  const submitButton = h('button.primary', { type: 'submit' }, `Create ${noun}`);
  const cancelEdit = h('button', { type: 'button', hidden: true, onclick: () => setEditing(null) }, 'Cancel');
  function setEditing(name, statement) {
    editing = name;
    formTitle.textContent = name ? `Replace ${noun} ${name}` : `Create a ${noun}`;
    submitButton.textContent = name ? `Replace ${noun}` : `Create ${noun}`;
    cancelEdit.hidden = !name;
    editor.clearError();
    replace(result);
    editor.value = name ? statement : example;
    if (name) editor.textarea.focus();
  }

  async function describe(name) {
    detail.hidden = false;
    replace(detail, h('p.muted', 'Loading…'));
    try {
      replace(detail, describeView(noun, await api('GET', `/${kind}/${encodeURIComponent(name)}`),
        (statement) => setEditing(name, statement)));
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
      const body = { sql: editor.value };
      const msg = editing
        ? await api('PUT', `/${kind}/${encodeURIComponent(editing)}`, body)
        : await api('POST', `/${kind}`, body);
      replace(result, h('div.ok-box', { 'data-testid': 'create-ok' }, typeof msg === 'string' && msg ? msg : `${Noun} saved.`));
      if (editing) describe(editing);
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
      formTitle,
      editor.el,
      result,
      h('div.row', { style: 'margin-top:8px' }, submitButton, cancelEdit,
        h('span.small.muted', 'Sent as ', h('code', `POST /${kind}`), ' (or ', h('code', `PUT /${kind}/<name>`),
          ' when replacing) with ', h('code', '{"sql": …}')))));
  load();
  return () => { alive = false; };
}

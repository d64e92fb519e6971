// The SQL editor: a textarea with a line gutter. showError(message) finds "line L, column C" in
// the server's 400 message (kuiperd's parser names both; eKuiper's sometimes only the column),
// marks the line in the gutter, quotes it under the editor with a caret under the column, and
// puts the cursor there.
import { h, replace, clear } from './dom.js';

export function errorPosition(message) {
  const m = /line\s+(\d+)\s*,?\s*col(?:umn)?\s+(\d+)/i.exec(message || '');
  if (m) return { line: +m[1], column: +m[2] };
  const c = /\bcolumn\s+(\d+)/i.exec(message || '');
  if (c) return { line: 1, column: +c[1] };
  return null;
}

export function sqlEditor(initial = '', { rows = 5, name = 'sql' } = {}) {
  const gutter = h('div.gutter', { 'aria-hidden': 'true' });
  const ta = h('textarea', { rows, name, spellcheck: 'false', autocomplete: 'off', 'aria-label': 'SQL' });
  ta.value = initial;
  const box = h('div.sqled', gutter, ta);
  const err = h('div.sqlerr');
  const el = h('div', box, err);
  let errLine = 0;

  function drawGutter() {
    const n = ta.value.split('\n').length;
    clear(gutter);
    for (let i = 1; i <= n; i++) gutter.append(h(i === errLine ? 'div.err' : 'div', String(i)));
    gutter.scrollTop = ta.scrollTop;
  }
  ta.addEventListener('input', () => { if (errLine) api.clearError(); else drawGutter(); });
  ta.addEventListener('scroll', () => { gutter.scrollTop = ta.scrollTop; });

  const api = {
    el,
    textarea: ta,
    get value() { return ta.value; },
    set value(v) { ta.value = v; drawGutter(); },
    clearError() {
      errLine = 0;
      box.classList.remove('has-error');
      clear(err);
      drawGutter();
    },
    showError(message) {
      const pos = errorPosition(message);
      box.classList.add('has-error');
      const parts = [h('div.error-box', { 'data-testid': 'sql-error' }, message)];
      if (pos) {
        const lines = ta.value.split('\n');
        const text = lines[pos.line - 1];
        if (text !== undefined) {
          errLine = pos.line;
          parts.push(h('pre', `${pos.line} | ${text}\n${' '.repeat(String(pos.line).length + 3 + Math.max(0, pos.column - 1))}`,
            h('span.caret', '^')));
          let off = 0;
          for (let i = 0; i < pos.line - 1; i++) off += lines[i].length + 1;
          off += Math.min(Math.max(0, pos.column - 1), text.length);
          ta.focus();
          ta.setSelectionRange(off, off);
        }
      }
      replace(err, parts);
      drawGutter();
    },
  };
  drawGutter();
  return api;
}

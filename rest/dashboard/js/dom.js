// Small DOM helpers: every page builds elements with h() and sets text with textContent, never
// innerHTML with data, so a stream name or an MQTT payload can never inject markup.

/** h('tag.class#id', {attr: value, onclick: fn}, child, [children], 'text') */
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]+)((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement(m ? m[1] : spec);
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

export function fmtNumber(n) {
  if (typeof n !== 'number' || !isFinite(n)) return n === undefined || n === null ? '–' : String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function fmtTime(ms) {
  if (!ms || typeof ms !== 'number') return '–';
  return new Date(ms).toLocaleString();
}

export function fmtBytes(n) {
  n = Number(n);
  if (!isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function fmtDuration(s) {
  s = Math.floor(Number(s) || 0);
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60);
  return (d ? `${d}d ` : '') + (d || hh ? `${hh}h ` : '') + `${mm}m ${s % 60}s`;
}

/** A short message in the corner of the page. */
export function toast(text, bad = false) {
  const box = document.getElementById('toast');
  const el = h(bad ? 'div.bad' : 'div', text);
  box.append(el);
  setTimeout(() => el.remove(), bad ? 6000 : 3000);
}

/** "running", "stopped by error" -> a badge element with a CSS-friendly class. */
export function badge(status) {
  const s = String(status || 'unknown');
  const cls = s.toLowerCase().replace(/[^a-z]+/g, '-').replace(/-+$/, '');
  return h('span.badge', { class: `badge ${cls}`, 'data-status': s }, s);
}

/**
 * A rule's plan from GET /rules/{id}/explain, eKuiper's text form: one {"op","info"} JSON object a
 * line, each indented by tabs below the first. Shown as an indented tree of "op  info" lines.
 */
export function planBlock(text) {
  const lines = String(text || '').split('\n').filter((l) => l.trim());
  const rows = lines.map((l) => {
    const depth = l.length - l.replace(/^\t+/, '').length;
    let node;
    try { node = JSON.parse(l.trim()); } catch { node = { op: l.trim(), info: '' }; }
    return h('div.plan-node', { style: `padding-left:${depth * 1.2}em`, 'data-op': node.op || '' },
      h('b', node.op || ''), node.info ? h('span.muted', '  ' + node.info) : null);
  });
  return h('div.plan', { 'data-testid': 'rule-plan' }, rows.length ? rows : h('p.na', 'No plan.'));
}

/** A JSON value pretty-printed in a <pre>. */
export function jsonBlock(v) {
  return h('pre.json', typeof v === 'string' ? v : JSON.stringify(v, null, 2));
}

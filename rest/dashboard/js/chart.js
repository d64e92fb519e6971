// Inline SVG charts for metrics that change over time: a Series keeps the last N points, and
// lineChart() draws one or more series in a small SVG with the latest value and the range.
// Charts are redrawn from scratch on each update: a few dozen points, no need for anything finer.

const NS = 'http://www.w3.org/2000/svg';
export const COLORS = ['#1f6feb', '#1a7f37', '#bf3989', '#9a6700', '#8250df', '#cf222e'];

export class Series {
  constructor(name, capacity = 60) {
    this.name = name;
    this.capacity = capacity;
    this.points = []; // [ms, value]
    this.lastRaw = null;
  }
  push(v, t = Date.now()) {
    if (typeof v !== 'number' || !isFinite(v)) return;
    this.points.push([t, v]);
    if (this.points.length > this.capacity) this.points.shift();
  }
  /** For counters: pushes the rate per second since the previous raw value. */
  pushRate(raw, t = Date.now()) {
    if (typeof raw !== 'number') return;
    if (this.lastRaw) {
      const dt = (t - this.lastRaw[0]) / 1000;
      if (dt > 0) this.push(Math.max(0, (raw - this.lastRaw[1]) / dt), t);
    }
    this.lastRaw = [t, raw];
  }
  last() {
    return this.points.length ? this.points[this.points.length - 1][1] : undefined;
  }
}

function el(name, attrs) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function fmt(v) {
  if (v === undefined) return '–';
  if (Math.abs(v) >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** An SVG line chart of series (array of Series); opts {width, height, unit}. */
export function lineChart(series, opts = {}) {
  const W = opts.width || 260, H = opts.height || 70, pad = 4, right = 48;
  const svg = el('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img' });
  const all = series.flatMap((s) => s.points);
  const title = el('title');
  title.textContent = series.map((s) => `${s.name}: ${fmt(s.last())}${opts.unit || ''}`).join(', ');
  svg.append(title);
  svg.append(el('line', { class: 'axis', x1: pad, y1: H - pad, x2: W - right, y2: H - pad }));
  if (!all.length) {
    const t = el('text', { x: pad + 4, y: H / 2 });
    t.textContent = 'waiting for data…';
    svg.append(t);
    return svg;
  }
  const t0 = Math.min(...all.map((p) => p[0])), t1 = Math.max(...all.map((p) => p[0]));
  let lo = Math.min(0, ...all.map((p) => p[1])), hi = Math.max(...all.map((p) => p[1]));
  if (hi === lo) hi = lo + 1;
  const x = (t) => pad + (t1 === t0 ? (W - right - pad) : ((t - t0) / (t1 - t0)) * (W - right - pad));
  const y = (v) => H - pad - 2 - ((v - lo) / (hi - lo)) * (H - 2 * pad - 10); // 2 px above the axis
  series.forEach((s, i) => {
    if (!s.points.length) return;
    // A single point makes no line: mark it with a dot so that it shows at all.
    if (s.points.length === 1) {
      svg.append(el('circle', { cx: x(s.points[0][0]), cy: y(s.points[0][1]), r: 2, fill: COLORS[i % COLORS.length] }));
    }
    const pts = s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    svg.append(el('polyline', { points: pts, fill: 'none', stroke: COLORS[i % COLORS.length], 'stroke-width': 1.6,
      'stroke-linejoin': 'round', 'data-series': s.name }));
  });
  const top = el('text', { x: W - right + 4, y: 10 });
  top.textContent = fmt(hi);
  const cur = el('text', { x: W - right + 4, y: H / 2 + 4, 'data-last': series[0].last() ?? '' });
  cur.textContent = fmt(series[0].last()) + (opts.unit || '');
  cur.setAttribute('fill', COLORS[0]);
  svg.append(top, cur);
  return svg;
}

/** The colour legend for series. */
export function legend(series) {
  const div = document.createElement('div');
  div.className = 'legend';
  series.forEach((s, i) => {
    const span = document.createElement('span');
    const sw = document.createElement('i');
    sw.style.background = COLORS[i % COLORS.length];
    span.append(sw, s.name);
    div.append(span);
  });
  return div;
}

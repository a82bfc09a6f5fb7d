// @ts-check
/**
 * Small SVG line charts for an edge's or a service's rates over time (/api/graph/series):
 * request rate, error rate, and p50/p99 latency, each with a time axis and a labelled value
 * axis. Drawn by hand rather than with a chart library: four polylines do not need one, and the
 * page stays a few kilobytes. The box polls every few seconds while it is on screen.
 */
import { api, el } from './util.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 110;
const PAD = { left: 44, right: 8, top: 8, bottom: 20 };

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {...(Node | string)} children
 */
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

/** 1, 2 or 5 times a power of ten, at least the largest value, so the axis reads cleanly. @param {number} max */
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max) ?? 10 * p;
}

/** @param {number} v */
const tick = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v === 0 ? '0' : v.toPrecision(1));

/**
 * One chart: lines share the time axis of `at`; a null value is a gap (no traffic, no latency).
 * @param {{ title: string, unit: string, at: number[], lines: { name: string, color: string, values: (number | null)[] }[], id: string }} spec
 */
export function lineChart(spec) {
  const { at, lines } = spec;
  const max = niceMax(Math.max(0, ...lines.flatMap((l) => l.values.filter((v) => v !== null).map(Number))));
  const t0 = at[0] ?? 0;
  const t1 = at[at.length - 1] ?? t0 + 1;
  const x = (/** @type {number} */ t) => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (/** @type {number} */ v) => PAD.top + (1 - v / max) * (H - PAD.top - PAD.bottom);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart', 'data-max': Math.max(0, ...lines.flatMap((l) => l.values.map(Number))), role: 'img', 'aria-label': `${spec.title} (${spec.unit})` });
  for (const v of [0, max / 2, max]) {
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: PAD.left - 4, y: y(v) + 3, 'text-anchor': 'end', class: 'axis' }, tick(v)));
  }
  const clock = (/** @type {number} */ t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  root.append(svg('text', { x: PAD.left, y: H - 4, class: 'axis' }, clock(t0)), svg('text', { x: W - PAD.right, y: H - 4, 'text-anchor': 'end', class: 'axis' }, clock(t1)),
    svg('text', { x: (PAD.left + W) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis' }, 'time'));
  for (const line of lines) {
    // Runs of non-null values, each its own polyline, so a gap is drawn as one.
    /** @type {string[][]} */
    const runs = [[]];
    line.values.forEach((v, i) => {
      if (v === null) runs.push([]);
      else runs[runs.length - 1]?.push(`${x(at[i] ?? t0).toFixed(1)},${y(v).toFixed(1)}`);
    });
    for (const run of runs.filter((r) => r.length > 0)) {
      root.append(run.length === 1
        ? svg('circle', { cx: run[0]?.split(',')[0] ?? 0, cy: run[0]?.split(',')[1] ?? 0, r: 2, fill: line.color, class: 'point' })
        : svg('polyline', { points: run.join(' '), fill: 'none', stroke: line.color, 'stroke-width': 1.5, class: 'series', 'data-series': line.name, 'data-points': run.length }));
    }
  }
  const legend = lines.length > 1 ? lines.map((l) => el('span', { style: `color: ${l.color}` }, ` \u25a0 ${l.name}`)) : [];
  return el('figure', { class: 'chart-box', id: spec.id }, el('figcaption', {}, `${spec.title} (${spec.unit})`, ...legend), root);
}

/**
 * The charts for one edge or node, refreshed every `everyMs` until stopped.
 * @param {{ edge?: string, node?: string, tcp?: boolean, range?: string, step?: string, everyMs?: number }} what
 */
export function seriesCharts(what) {
  const box = el('div', { class: 'charts', id: 'charts' }, el('p', { class: 'muted' }, 'loading the charts'));
  const q = new URLSearchParams({ range: what.range ?? '5m', step: what.step ?? '10s' });
  if (what.edge) q.set('edge', what.edge);
  if (what.node) q.set('node', what.node);
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const load = async () => {
    try {
      const series = await api(`/api/graph/series?${q}`);
      if (stopped) return;
      draw(series);
    } catch (err) {
      if (!stopped) box.replaceChildren(el('p', { class: 'error-text' }, `charts: ${/** @type {Error} */ (err).message}`));
    }
    if (!stopped) timer = setTimeout(load, what.everyMs ?? 5_000);
  };
  /** @param {any} series */
  const draw = (series) => {
    /** @type {any[]} */
    const points = series.points;
    const at = points.map((p) => Date.parse(p.at));
    const head = el('p', { class: 'muted' }, `last ${what.range ?? '5m'}, ${series.stepSeconds}s steps` + (series.latency ? `; ${series.edges.length} incoming edge${series.edges.length === 1 ? '' : 's'} summed, latency of the ${series.latency}` : ''));
    const charts = what.tcp
      ? [lineChart({ id: 'chart-bytes', title: 'bytes', unit: 'B/s', at, lines: [{ name: 'bytes', color: '#4b8bbe', values: points.map((p) => p.tcp?.bytesPerSecond ?? 0) }] })]
      : [
        lineChart({ id: 'chart-requests', title: 'request rate', unit: 'req/s', at, lines: [{ name: 'requests', color: '#0b5cad', values: points.map((p) => p.requestRate) }] }),
        lineChart({ id: 'chart-errors', title: 'error rate', unit: '%', at, lines: [{ name: 'errors', color: '#cf222e', values: points.map((p) => (p.requestRate > 0 ? p.errorRate * 100 : null)) }] }),
        lineChart({ id: 'chart-latency', title: 'latency', unit: 'ms', at, lines: [{ name: 'p50', color: '#1a7f37', values: points.map((p) => p.p50Ms) }, { name: 'p99', color: '#9a6700', values: points.map((p) => p.p99Ms) }] }),
      ];
    box.replaceChildren(el('h4', {}, 'Over time'), head, ...charts);
  };
  void load();
  return {
    box,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

// @ts-check
/**
 * Traces from the embedded store, through Zipkin's v2 query API on the dashboard's own origin:
 * search by service, span name, minimum duration, time range and limit; a trace opens as a
 * waterfall, each span under its parent, indented by depth, its bar placed on the trace's time
 * line; clicking a span shows its tags (response flags, upstream cluster, peer, ...).
 */
import { api, details, el, millis, routeParams } from './util.js';

const ZIPKIN = '/api/zipkin/api/v2';
const LOOKBACKS = [['15m', 900_000], ['1h', 3_600_000], ['6h', 21_600_000], ['24h', 86_400_000]];

/** @param {any} span */
const isError = (span) => span.tags?.error !== undefined || /^5/.test(span.tags?.['http.status_code'] ?? '');

/**
 * Spans in waterfall order: each after its parent, siblings by start time; a span whose parent
 * is not in the trace is a root. Returns each with its depth.
 * @param {any[]} spans
 * @returns {{ span: any, depth: number }[]}
 */
export function waterfallOrder(spans) {
  const ids = new Set(spans.map((s) => s.id));
  /** @type {Map<string, any[]>} */
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parentId && ids.has(s.parentId) && s.parentId !== s.id) children.set(s.parentId, [...(children.get(s.parentId) ?? []), s]);
    else roots.push(s);
  }
  const byStart = (/** @type {any} */ a, /** @type {any} */ b) => (a.timestamp ?? 0) - (b.timestamp ?? 0);
  /** @type {{ span: any, depth: number }[]} */
  const out = [];
  const seen = new Set();
  const walk = (/** @type {any} */ s, /** @type {number} */ depth) => {
    if (seen.has(s)) return;
    seen.add(s);
    out.push({ span: s, depth });
    for (const c of (children.get(s.id) ?? []).sort(byStart)) walk(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) walk(r, 0);
  return out;
}

/** `reviews.default 127.0.0.1:9080`, leaving out what the span does not say. @param {any} ep */
function remote(ep) {
  if (!ep) return undefined;
  const ip = ep.ipv4 ?? ep.ipv6;
  const address = ip ? `${ip}${ep.port ? `:${ep.port}` : ''}` : '';
  return [ep.serviceName, address].filter(Boolean).join(' ') || undefined;
}

/** @param {import('./main.js').ViewContext} ctx */
export function tracesView(ctx) {
  const params = routeParams();
  const service = /** @type {HTMLSelectElement} */ (el('select', { name: 'service' }, el('option', { value: '' }, 'any')));
  // The other end of a call (a CLIENT span's remote service): a graph edge's link sets it.
  const remoteService = /** @type {HTMLInputElement} */ (el('input', { name: 'remoteServiceName', placeholder: 'any', size: 20, value: params.get('remote') ?? undefined }));
  const spanName = /** @type {HTMLInputElement} */ (el('input', { name: 'spanName', placeholder: 'any', size: 30 }));
  const minDuration = /** @type {HTMLInputElement} */ (el('input', { name: 'minDuration', type: 'number', min: 0, placeholder: 'ms', size: 6 }));
  const limit = /** @type {HTMLInputElement} */ (el('input', { name: 'limit', type: 'number', min: 1, max: 1000, value: 20, size: 5 }));
  const lookback = /** @type {HTMLSelectElement} */ (el('select', { name: 'lookback' }, ...LOOKBACKS.map(([label, ms]) => el('option', { value: ms, selected: label === '1h' }, label))));
  const form = /** @type {HTMLFormElement} */ (el('form', { class: 'search', id: 'trace-search' },
    el('label', {}, 'service', service), el('label', {}, 'remote service', remoteService), el('label', {}, 'operation', spanName), el('label', {}, 'min duration (ms)', minDuration),
    el('label', {}, 'range', lookback), el('label', {}, 'limit', limit), el('button', { type: 'submit' }, 'Search')));
  const results = el('div', { id: 'trace-results' });
  const panel = el('aside', { class: 'panel', id: 'span-details' }, el('p', { class: 'muted' }, 'click a span for its tags'));
  const trace = el('div', { id: 'trace' });
  ctx.root.append(el('h2', {}, 'Traces'), form, el('div', { class: 'split' }, el('div', {}, results, trace), panel));

  const search = async () => {
    const q = new URLSearchParams({ limit: limit.value || '20', lookback: lookback.value, endTs: String(Date.now()) });
    if (service.value) q.set('serviceName', service.value);
    if (remoteService.value) q.set('remoteServiceName', remoteService.value.trim());
    if (spanName.value) q.set('spanName', spanName.value);
    if (minDuration.value) q.set('minDuration', String(Math.round(Number(minDuration.value) * 1000)));
    try {
      showResults(await api(`${ZIPKIN}/traces?${q}`));
    } catch (err) {
      results.replaceChildren(el('p', { class: 'error-text' }, /** @type {Error} */ (err).message));
    }
  };

  /** @param {any[][]} traces */
  const showResults = (traces) => {
    if (traces.length === 0) return void results.replaceChildren(el('p', { class: 'muted' }, 'no traces match'));
    const rows = traces.map((spans) => {
      const [root] = waterfallOrder(spans);
      const start = Math.min(...spans.map((s) => s.timestamp ?? Infinity));
      const end = Math.max(...spans.map((s) => (s.timestamp ?? 0) + (s.duration ?? 0)));
      const id = spans[0]?.traceId;
      return el('tr', { class: 'clickable', 'data-trace': id, onclick: () => open(id) },
        el('td', {}, Number.isFinite(start) ? new Date(start / 1000).toLocaleTimeString() : '-'),
        el('td', {}, root?.span.localEndpoint?.serviceName ?? '?'),
        el('td', {}, root?.span.name ?? '?'),
        el('td', {}, spans.length),
        el('td', { class: spans.some(isError) ? 'Error' : '' }, spans.filter(isError).length),
        el('td', {}, millis(Number.isFinite(start) ? (end - start) / 1000 : null)));
    });
    results.replaceChildren(el('table', { id: 'trace-list' },
      el('thead', {}, el('tr', {}, ...['start', 'root service', 'root span', 'spans', 'errors', 'duration'].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...rows)));
  };

  /** @param {string} id */
  const open = async (id) => {
    try {
      showTrace(await api(`${ZIPKIN}/trace/${encodeURIComponent(id)}`));
    } catch (err) {
      trace.replaceChildren(el('p', { class: 'error-text' }, /** @type {Error} */ (err).message));
    }
  };

  /** @param {any[]} spans */
  const showTrace = (spans) => {
    const order = waterfallOrder(spans);
    const start = Math.min(...spans.map((s) => s.timestamp ?? Infinity));
    const end = Math.max(...spans.map((s) => (s.timestamp ?? 0) + (s.duration ?? 0)));
    const total = Math.max(1, end - start);
    const rows = order.map(({ span, depth }) => {
      const left = (((span.timestamp ?? start) - start) / total) * 100;
      const width = ((span.duration ?? 0) / total) * 100;
      const row = el('div', { class: 'span', 'data-span-id': span.id, 'data-parent-id': span.parentId ?? '', 'data-depth': depth },
        el('div', { class: 'name', style: `padding-left: ${depth * 16}px`, title: span.name ?? '' },
          el('strong', {}, span.localEndpoint?.serviceName ?? '?'), ` ${span.kind ?? ''} `, el('span', { class: 'muted' }, span.name ?? '')),
        el('div', { class: 'track' }, el('div', { class: `bar${isError(span) ? ' error' : ''}`, style: `left: ${left}%; width: ${width}%` })),
        el('div', { class: 'dur' }, millis((span.duration ?? 0) / 1000)));
      row.addEventListener('click', () => {
        for (const r of trace.querySelectorAll('.span.selected')) r.classList.remove('selected');
        row.classList.add('selected');
        panel.replaceChildren(el('h3', {}, span.name ?? span.id),
          details([['service', span.localEndpoint?.serviceName], ['kind', span.kind], ['span id', span.id], ['parent id', span.parentId],
            ['duration', millis((span.duration ?? 0) / 1000)], ['remote', remote(span.remoteEndpoint)]]),
          el('h4', {}, 'Tags'),
          details(Object.entries(span.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))));
      });
      return row;
    });
    trace.replaceChildren(el('h3', {}, `Trace ${spans[0]?.traceId ?? ''}`, el('span', { class: 'muted' }, ` ${spans.length} spans, ${millis(total / 1000)}`)),
      el('div', { class: 'waterfall', 'data-trace-id': spans[0]?.traceId ?? '' }, ...rows));
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void search();
  });
  api(`${ZIPKIN}/services`).then((names) => {
    for (const n of names) service.append(el('option', { value: n, selected: n === params.get('service') }, n));
    void search();
  }, (err) => results.replaceChildren(el('p', { class: 'error-text' }, `traces are not available: ${err.message}`)));
  const wanted = params.get('trace');
  if (wanted) void open(wanted);
  return {};
}

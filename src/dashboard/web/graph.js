// @ts-check
/**
 * The service graph (from /api/graph, then live from the event stream), laid out by cytoscape:
 * workloads, gateways, services and external hosts as nodes, versions of one app drawn inside a
 * box for the app (reviews v1/v2/v3), edges labelled with protocol, rate, error rate and an mTLS
 * mark. Clicking a node or an edge opens its details; the panel lists every edge too.
 * Updates change the elements in place and lay out again only when nodes or edges came or went.
 */
import { api, bytes, details, el, millis, percent, rate } from './util.js';
import { seriesCharts } from './charts.js';

const WINDOWS = ['30s', '60s', '5m', '10m'];
/** Served by the dashboard from node_modules (a variable, so type-checking leaves the URL alone). */
const CYTOSCAPE = '/vendor/cytoscape.mjs';

/** @param {any} node */
function label(node, grouped) {
  if (grouped && node.version) return node.version;
  return node.kind === 'external' ? node.service ?? node.name : node.name;
}

/** @param {any} e */
function edgeLabel(e) {
  const mtls = e.mtls ? ' mTLS' : '';
  if (e.protocol === 'tcp') return `tcp ${bytes(e.tcp?.bytesPerSecond ?? 0)}/s${mtls}`;
  const err = e.errorRate > 0 ? ` ${percent(e.errorRate)} err` : '';
  return `${e.protocol} ${rate(e.requestRate)} rps${err}${mtls}`;
}

/** Zipkin's service name for a node: `<app or name>.<namespace>`, as proxies report it. @param {any} n */
function traceService(n) {
  if (!n || n.kind === 'unknown' || n.kind === 'external' || !n.namespace || n.namespace === 'unknown') return undefined;
  return `${n.app ?? n.name}.${n.namespace}`;
}

/**
 * The traces of exactly one edge, as Zipkin can ask for them: a sidecar's CLIENT spans name the
 * destination service as their remote endpoint, so workload -> service is `serviceName` plus
 * `remoteServiceName`; service -> workload is the workload's own spans (a service sends none);
 * otherwise (gateways, whose spans are SERVER spans) the source's spans.
 * @param {any} from @param {any} to
 * @returns {{ service: string, remote?: string } | undefined}
 */
export function edgeTraceQuery(from, to) {
  const source = traceService(from);
  // A call cut short by the caller's sidecar (a fault, no route) reports no destination
  // namespace; the host still names the service as proxies name it: reviews.default.svc... -> reviews.default.
  const host = to?.kind === 'service' ? /^([^.]+)\.([^.]+)\.svc\./.exec(to.service ?? to.name ?? '') : null;
  const target = host ? `${host[1]}.${host[2]}` : traceService(to);
  if (from?.kind === 'workload' && to?.kind === 'service' && source && target) return { service: source, remote: target };
  if (from?.kind === 'service' && target) return { service: target };
  if (source) return { service: source };
  return target ? { service: target } : undefined;
}

/** @param {{ service: string, remote?: string }} q */
const tracesHref = (q) => `#/traces?${new URLSearchParams(q.remote ? { service: q.service, remote: q.remote } : { service: q.service })}`;

/** @param {any} graph */
function elements(graph) {
  // Apps with more than one versioned workload get a box around their versions.
  /** @type {Map<string, number>} */
  const versions = new Map();
  for (const n of graph.nodes) if (n.kind === 'workload' && n.app && n.version) versions.set(`${n.namespace}/${n.app}`, (versions.get(`${n.namespace}/${n.app}`) ?? 0) + 1);
  /** @type {any[]} */
  const out = [];
  for (const [key, count] of versions) if (count > 1) out.push({ group: 'nodes', data: { id: `app/${key}`, label: key.split('/')[1], kind: 'app' } });
  for (const n of graph.nodes) {
    const grouped = n.kind === 'workload' && n.app && n.version && (versions.get(`${n.namespace}/${n.app}`) ?? 0) > 1;
    out.push({ group: 'nodes', data: { ...n, label: label(n, grouped), ...(grouped ? { parent: `app/${n.namespace}/${n.app}` } : {}) } });
  }
  for (const e of graph.edges) out.push({ group: 'edges', data: { ...e, label: edgeLabel(e), failing: e.errorRate > 0 ? 1 : 0 } });
  return out;
}

const STYLE = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 4, 'background-color': '#6ea8dc', width: 28, height: 28 } },
  { selector: 'node[kind = "service"]', style: { shape: 'triangle', 'background-color': '#8fbf7f' } },
  { selector: 'node[kind = "gateway"]', style: { shape: 'round-rectangle', 'background-color': '#b084cc' } },
  { selector: 'node[kind = "external"]', style: { shape: 'hexagon', 'background-color': '#d9a441' } },
  { selector: 'node[kind = "unknown"]', style: { shape: 'diamond', 'background-color': '#aaa' } },
  { selector: 'node[kind = "app"]', style: { shape: 'round-rectangle', 'background-color': '#eef4fb', 'border-color': '#9bbbd8', 'border-width': 1, 'text-valign': 'top', 'font-weight': 'bold' } },
  { selector: 'edge', style: { label: 'data(label)', 'font-size': 9, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', width: 2, 'line-color': '#7a8a9a', 'target-arrow-color': '#7a8a9a', 'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-rotation': 'autorotate' } },
  { selector: 'edge[protocol = "tcp"]', style: { 'line-style': 'dashed', 'line-color': '#4b8bbe', 'target-arrow-color': '#4b8bbe' } },
  { selector: 'edge[failing = 1]', style: { 'line-color': '#cf222e', 'target-arrow-color': '#cf222e' } },
  { selector: ':selected', style: { 'border-width': 3, 'border-color': '#0b5cad', 'line-color': '#0b5cad', 'target-arrow-color': '#0b5cad' } },
];

/** @param {import('./main.js').ViewContext} ctx */
export function graphView(ctx) {
  const container = el('div', { id: 'graph' });
  const panel = el('aside', { class: 'panel', id: 'details' }, el('p', { class: 'muted' }, 'loading the graph'));
  const windowSelect = /** @type {HTMLSelectElement} */ (el('select', { id: 'window' }, ...WINDOWS.map((w) => el('option', { value: w, selected: w === ctx.window }, w))));
  windowSelect.addEventListener('change', () => {
    ctx.setWindow(windowSelect.value);
  });
  const status = el('span', { class: 'muted', id: 'graph-status' });
  ctx.root.append(el('div', { class: 'toolbar' }, el('label', {}, 'window ', windowSelect), ' ', status), el('div', { class: 'split' }, container, panel));

  /** @type {any} */
  let cy;
  /** @type {any} */
  let latest;
  /** @type {{ kind: 'node' | 'edge', id: string } | undefined} */
  let selected;
  let stopped = false;
  /** The selection's charts, kept across live updates so they are not fetched again per event. @type {{ id: string, box: HTMLElement, stop: () => void } | undefined} */
  let charts;
  /** @param {string} id @param {Parameters<typeof seriesCharts>[0]} what */
  const chartsFor = (id, what) => {
    if (charts?.id !== id) {
      charts?.stop();
      charts = { id, ...seriesCharts(what) };
    }
    return charts.box;
  };
  /** The config that applies to the selected node, fetched once per selection. @type {Map<string, any[] | string>} */
  const applies = new Map();

  /** @param {any} n */
  const appliesSection = (n) => {
    const got = applies.get(n.id);
    if (got === undefined) {
      applies.set(n.id, 'loading');
      const q = n.kind === 'service' || n.kind === 'external' ? new URLSearchParams({ host: n.service ?? n.name }) : new URLSearchParams({ namespace: n.namespace, workload: n.workload ?? n.name });
      api(`/api/applies?${q}`).then((r) => applies.set(n.id, r.items), (err) => applies.set(n.id, err.message)).then(() => showDetails());
    }
    const list = applies.get(n.id);
    return el('div', { id: 'node-config' }, el('h4', {}, 'Config that applies'),
      typeof list === 'string' ? el('p', { class: 'muted' }, list)
        : list && list.length ? el('ul', {}, ...list.map((x) => el('li', {}, el('a', { href: '#/config' }, `${x.kind} ${x.namespace}/${x.name}`), el('span', { class: 'muted' }, ` (${x.why})`))))
          : el('p', { class: 'muted' }, 'none'));
  };

  const showDetails = () => {
    if (!latest) return;
    const nodes = new Map(latest.nodes.map((/** @type {any} */ n) => [n.id, n]));
    const name = (/** @type {string} */ id) => { const n = /** @type {any} */ (nodes.get(id)); return n ? n.name : id; };
    if (selected?.kind === 'edge') {
      const e = latest.edges.find((/** @type {any} */ x) => x.id === selected?.id);
      if (e) {
        const tq = edgeTraceQuery(nodes.get(e.source), nodes.get(e.target));
        panel.replaceChildren(
          el('h3', {}, `${name(e.source)} \u2192 ${name(e.target)}`),
          details([
            ['protocol', e.protocol],
            ['mTLS', e.mtls ? 'yes' : `${e.mtlsPercent.toFixed(0)}% of traffic`],
            ...(e.protocol === 'tcp'
              ? /** @type {[string, string][]} */ ([['bytes/s', bytes(e.tcp?.bytesPerSecond ?? 0)], ['sent/s', bytes(e.tcp?.sentBytesPerSecond ?? 0)], ['received/s', bytes(e.tcp?.receivedBytesPerSecond ?? 0)], ['connections/s', rate(e.tcp?.connectionsPerSecond)], ['active connections', String(e.tcp?.activeConnections ?? 0)]])
              : /** @type {[string, string][]} */ ([['requests/s', rate(e.requestRate)], ['error rate', percent(e.errorRate)], ['p50', millis(e.p50Ms)], ['p99', millis(e.p99Ms)],
                ...Object.entries(e.responses ?? {}).map(([code, r]) => /** @type {[string, string]} */ ([`code ${code}`, `${rate(r)}/s`]))])),
            ['window', latest.window],
          ]),
          ...(tq ? [el('p', {}, el('a', { href: tracesHref(tq), id: 'edge-traces' }, `recent traces of ${tq.service}${tq.remote ? ` \u2192 ${tq.remote}` : ''}`))] : []),
          chartsFor(e.id, { edge: e.id, tcp: e.protocol === 'tcp' }),
        );
        panel.setAttribute('data-selected', e.id);
        return;
      }
    }
    if (selected?.kind === 'node') {
      const n = /** @type {any} */ (nodes.get(selected.id));
      if (n) {
        const svc = traceService(n);
        const edges = latest.edges.filter((/** @type {any} */ e) => e.source === n.id || e.target === n.id);
        panel.replaceChildren(el('h3', {}, name(n.id)),
          details([['kind', n.kind], ['namespace', n.namespace], ['app', n.app], ['version', n.version], ['workload', n.workload], ['service', n.service]]),
          edgeTable(edges, name),
          ...(n.kind === 'unknown' ? [] : [appliesSection(n)]),
          ...(n.kind === 'service' ? [chartsFor(n.id, { node: n.id })] : []),
          ...(svc ? [el('p', {}, el('a', { href: `#/traces?service=${encodeURIComponent(svc)}` }, `recent traces of ${svc}`))] : []));
        panel.setAttribute('data-selected', n.id);
        return;
      }
    }
    charts?.stop();
    charts = undefined;
    panel.removeAttribute('data-selected');
    panel.replaceChildren(el('h3', {}, 'Edges'), latest.edges.length ? edgeTable(latest.edges, name) : el('p', { class: 'muted' }, `no traffic in the last ${latest.window}`));
  };

  /** @param {any[]} edges @param {(id: string) => string} name */
  const edgeTable = (edges, name) => el('table', { class: 'edges' },
    el('thead', {}, el('tr', {}, ...['from', 'to', 'proto', 'rate', 'err'].map((h) => el('th', {}, h)))),
    el('tbody', {}, ...edges.map((e) => el('tr', { class: 'clickable', 'data-edge': e.id, onclick: () => select({ kind: 'edge', id: e.id }) },
      el('td', {}, name(e.source)), el('td', {}, name(e.target)), el('td', {}, e.protocol),
      el('td', {}, e.protocol === 'tcp' ? `${bytes(e.tcp?.bytesPerSecond ?? 0)}/s` : rate(e.requestRate)), el('td', {}, e.protocol === 'tcp' ? '' : percent(e.errorRate))))));

  /** @param {{ kind: 'node' | 'edge', id: string } | undefined} what */
  const select = (what) => {
    selected = what;
    if (cy) {
      cy.elements().unselect();
      if (what) cy.getElementById(what.id).select();
    }
    showDetails();
  };

  /** @param {any} graph */
  const update = (graph) => {
    const started = performance.now();
    latest = graph;
    status.textContent = `${graph.nodes.length} nodes, ${graph.edges.length} edges, ${graph.proxies.scraped} proxies scraped` + (graph.proxies.failing.length ? `, ${graph.proxies.failing.length} failing` : '');
    if (cy) {
      const next = elements(graph);
      const ids = new Set(next.map((x) => x.data.id));
      let changed = false;
      cy.batch(() => {
        for (const x of next) {
          const existing = cy.getElementById(x.data.id);
          if (existing.nonempty()) existing.data(x.data);
          else {
            cy.add(x);
            changed = true;
          }
        }
        cy.elements().forEach((/** @type {any} */ x) => {
          if (!ids.has(x.id())) {
            x.remove();
            changed = true;
          }
        });
      });
      if (changed) cy.layout(LAYOUT).run();
    }
    showDetails();
    // For the bench: how long the first drawing (since navigation) and the last update took.
    const timings = /** @type {any} */ (window).weftGraphTimings ??= { firstRenderMs: started, updates: 0, lastUpdateMs: 0 };
    if (timings.updates++ > 0) timings.lastUpdateMs = performance.now() - started;
    else timings.firstRenderMs = performance.now();
  };

  const LAYOUT = { name: 'breadthfirst', directed: true, spacingFactor: 1.1, animate: false, padding: 20 };

  const q = new URLSearchParams({ window: ctx.window });
  if (ctx.namespace) q.set('namespace', ctx.namespace);
  Promise.all([import(CYTOSCAPE), api(`/api/graph?${q}`)]).then(([mod, graph]) => {
    if (stopped) return;
    cy = mod.default({ container, elements: elements(graph), style: STYLE, layout: LAYOUT, boxSelectionEnabled: false });
    cy.on('tap', 'node', (/** @type {any} */ e) => select({ kind: 'node', id: e.target.id() }));
    cy.on('tap', 'edge', (/** @type {any} */ e) => select({ kind: 'edge', id: e.target.id() }));
    cy.on('tap', (/** @type {any} */ e) => { if (e.target === cy) select(undefined); });
    // For tests and the curious: the live cytoscape instance.
    /** @type {any} */ (window).weftGraph = cy;
    update(graph);
  }, (err) => panel.replaceChildren(el('p', { class: 'error-text' }, `the graph is not available: ${err.message}`)));

  return {
    /** @param {string} type @param {any} data */
    onEvent: (type, data) => {
      if (type === 'graph' && cy) update(data);
    },
    stop: () => {
      stopped = true;
      charts?.stop();
      cy?.destroy();
    },
  };
}

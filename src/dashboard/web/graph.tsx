/**
 * The service graph (from /api/graph, then live from the event stream), laid out by cytoscape:
 * workloads, gateways, services and external hosts as nodes, versions of one app drawn inside a
 * box for the app (reviews v1/v2/v3), edges labelled with protocol, rate, error rate and an mTLS
 * mark. Clicking a node or an edge opens its details (a Preact panel); the panel lists every
 * edge too. Cytoscape owns the canvas: updates change its elements in place and lay out again
 * only when nodes or edges came or went, so a live update does not move what the user looks at.
 */
import cytoscape from 'cytoscape';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ViewProps } from './main.js';
import type { Applies, GraphEdge, GraphNode, ServiceGraph } from './types.js';
import { api, bytes, Details, message, millis, percent, rate, useLive } from './util.js';
import { SeriesCharts } from './charts.js';

const WINDOWS = ['30s', '60s', '5m', '10m'];

type Selection = { kind: 'node' | 'edge'; id: string } | undefined;

interface Timings { firstRenderMs: number; updates: number; lastUpdateMs: number }
/** For the bench and the browser tests: the live cytoscape instance and how long drawing took. */
const debug = window as unknown as { weftGraph?: cytoscape.Core; weftGraphTimings?: Timings };

function label(node: GraphNode, grouped: boolean): string {
  if (grouped && node.version) return node.version;
  return node.kind === 'external' ? node.service ?? node.name : node.name;
}

function edgeLabel(e: GraphEdge): string {
  const mtls = e.mtls ? ' mTLS' : '';
  if (e.protocol === 'tcp') return `tcp ${bytes(e.tcp?.bytesPerSecond ?? 0)}/s${mtls}`;
  const err = (e.errorRate ?? 0) > 0 ? ` ${percent(e.errorRate)} err` : '';
  return `${e.protocol} ${rate(e.requestRate)} rps${err}${mtls}`;
}

/** Zipkin's service name for a node: `<app or name>.<namespace>`, as proxies report it. */
function traceService(n: GraphNode | undefined): string | undefined {
  if (!n || n.kind === 'unknown' || n.kind === 'external' || !n.namespace || n.namespace === 'unknown') return undefined;
  return `${n.app ?? n.name}.${n.namespace}`;
}

/**
 * The traces of exactly one edge, as Zipkin can ask for them: a sidecar's CLIENT spans name the
 * destination service as their remote endpoint, so workload -> service is `serviceName` plus
 * `remoteServiceName`; service -> workload is the workload's own spans (a service sends none);
 * otherwise (gateways, whose spans are SERVER spans) the source's spans.
 */
export function edgeTraceQuery(from: GraphNode | undefined, to: GraphNode | undefined): { service: string; remote?: string } | undefined {
  const source = traceService(from);
  // A call cut short by the caller's sidecar (a fault, no route) reports no destination
  // namespace; the host still names the service as proxies name it: reviews.default.svc... -> reviews.default.
  const host = to?.kind === 'service' ? /^([^.]+)\.([^.]+)\.svc\./.exec(to.service ?? to.name) : null;
  const target = host ? `${host[1]}.${host[2]}` : traceService(to);
  if (from?.kind === 'workload' && to?.kind === 'service' && source && target) return { service: source, remote: target };
  if (from?.kind === 'service' && target) return { service: target };
  if (source) return { service: source };
  return target ? { service: target } : undefined;
}

const tracesHref = (q: { service: string; remote?: string }) => `#/traces?${new URLSearchParams(q.remote ? { service: q.service, remote: q.remote } : { service: q.service })}`;

function elements(graph: ServiceGraph): cytoscape.ElementDefinition[] {
  // Apps with more than one versioned workload get a box around their versions.
  const versions = new Map<string, number>();
  for (const n of graph.nodes) if (n.kind === 'workload' && n.app && n.version) versions.set(`${n.namespace}/${n.app}`, (versions.get(`${n.namespace}/${n.app}`) ?? 0) + 1);
  const out: cytoscape.ElementDefinition[] = [];
  for (const [key, count] of versions) if (count > 1) out.push({ group: 'nodes', data: { id: `app/${key}`, label: key.split('/')[1], kind: 'app' } });
  for (const n of graph.nodes) {
    const grouped = n.kind === 'workload' && !!n.app && !!n.version && (versions.get(`${n.namespace}/${n.app}`) ?? 0) > 1;
    out.push({ group: 'nodes', data: { ...n, label: label(n, grouped), ...(grouped ? { parent: `app/${n.namespace}/${n.app}` } : {}) } });
  }
  for (const e of graph.edges) out.push({ group: 'edges', data: { ...e, label: edgeLabel(e), failing: (e.errorRate ?? 0) > 0 ? 1 : 0 } });
  return out;
}

const STYLE = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 4, 'text-background-color': '#fff', 'text-background-opacity': 0.8, 'background-color': '#6ea8dc', width: 28, height: 28 } },
  { selector: 'node[kind = "service"]', style: { shape: 'triangle', 'background-color': '#8fbf7f' } },
  { selector: 'node[kind = "gateway"]', style: { shape: 'round-rectangle', 'background-color': '#b084cc' } },
  { selector: 'node[kind = "external"]', style: { shape: 'hexagon', 'background-color': '#d9a441' } },
  { selector: 'node[kind = "unknown"]', style: { shape: 'diamond', 'background-color': '#aaa' } },
  { selector: 'node[kind = "app"]', style: { shape: 'round-rectangle', 'background-color': '#eef4fb', 'border-color': '#9bbbd8', 'border-width': 1, 'text-valign': 'top', 'font-weight': 'bold' } },
  { selector: 'edge', style: { label: 'data(label)', 'font-size': 9, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', width: 2, 'line-color': '#7a8a9a', 'target-arrow-color': '#7a8a9a', 'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-rotation': 'autorotate' } },
  { selector: 'edge[protocol = "tcp"]', style: { 'line-style': 'dashed', 'line-color': '#4b8bbe', 'target-arrow-color': '#4b8bbe' } },
  { selector: 'edge[failing = 1]', style: { 'line-color': '#cf222e', 'target-arrow-color': '#cf222e' } },
  { selector: ':selected', style: { 'border-width': 3, 'border-color': '#0b5cad', 'line-color': '#0b5cad', 'target-arrow-color': '#0b5cad' } },
] as unknown as cytoscape.CytoscapeOptions['style'];

// Left to right (callers left of callees): edges run mostly horizontally, so their labels stay readable.
const LAYOUT = {
  name: 'breadthfirst', directed: true, spacingFactor: 1.1, animate: false, padding: 20,
  transform: (_node: cytoscape.NodeSingular, p: cytoscape.Position) => ({ x: p.y * 1.6, y: p.x * 0.7 }),
} as cytoscape.LayoutOptions;

/** Changes cytoscape's elements to the graph's; true when any came or went (a new layout is due). */
function applyGraph(cy: cytoscape.Core, graph: ServiceGraph): boolean {
  const next = elements(graph);
  const ids = new Set(next.map((x) => x.data.id));
  let changed = false;
  cy.batch(() => {
    for (const x of next) {
      const existing = cy.getElementById(x.data.id ?? '');
      if (existing.nonempty()) existing.data(x.data);
      else {
        cy.add(x);
        changed = true;
      }
    }
    cy.elements().forEach((x) => {
      if (!ids.has(x.id())) {
        x.remove();
        changed = true;
      }
    });
  });
  return changed;
}

export function GraphView({ namespace, window: window_, setWindow }: ViewProps) {
  const container = useRef<HTMLDivElement>(null);
  const cyRef = useRef<cytoscape.Core | undefined>(undefined);
  const [graph, setGraph] = useState<ServiceGraph | undefined>(undefined);
  const [error, setError] = useState('');
  const [selected, setSelected] = useState<Selection>(undefined);
  /** When the graph being rendered arrived, for the timings. */
  const arrived = useRef(0);

  const select = (what: Selection) => {
    const cy = cyRef.current;
    if (cy) {
      cy.elements().unselect();
      if (what) cy.getElementById(what.id).select();
    }
    setSelected(what);
  };

  useEffect(() => {
    let stopped = false;
    const q = new URLSearchParams({ window: window_ });
    if (namespace) q.set('namespace', namespace);
    api<ServiceGraph>(`/api/graph?${q}`).then((g) => {
      if (stopped || !container.current) return;
      arrived.current = performance.now();
      const cy = cytoscape({ container: container.current, elements: elements(g), style: STYLE, layout: LAYOUT, boxSelectionEnabled: false });
      cy.on('tap', 'node', (e) => select({ kind: 'node', id: (e.target as cytoscape.NodeSingular).id() }));
      cy.on('tap', 'edge', (e) => select({ kind: 'edge', id: (e.target as cytoscape.EdgeSingular).id() }));
      cy.on('tap', (e) => { if (e.target === cy) select(undefined); });
      cyRef.current = cy;
      debug.weftGraph = cy;
      setGraph(g);
    }, (err) => setError(`the graph is not available: ${message(err)}`));
    return () => {
      stopped = true;
      if (debug.weftGraph === cyRef.current) delete debug.weftGraph;
      cyRef.current?.destroy();
    };
  }, []);

  useLive('graph', (g) => {
    const cy = cyRef.current;
    if (!cy) return;
    arrived.current = performance.now();
    if (applyGraph(cy, g)) cy.layout(LAYOUT).run();
    setGraph(g);
  });

  // Once the canvas and the panel hold a graph (a layout effect: before the browser paints, as
  // the old hand-written page measured): the first drawing (since navigation) or the update's cost.
  useLayoutEffect(() => {
    if (!graph) return;
    const t = (debug.weftGraphTimings ??= { firstRenderMs: 0, updates: 0, lastUpdateMs: 0 });
    if (t.updates++ > 0) t.lastUpdateMs = performance.now() - arrived.current;
    else t.firstRenderMs = performance.now();
  }, [graph]);

  return (
    <>
      <div class="toolbar">
        <label>window <select id="window" value={window_} onChange={(e) => setWindow(e.currentTarget.value)}>
          {WINDOWS.map((w) => <option key={w} value={w}>{w}</option>)}
        </select></label>{' '}
        <span class="muted" id="graph-status">{graph ? `${graph.nodes.length} nodes, ${graph.edges.length} edges, ${graph.proxies.scraped} proxies scraped${graph.proxies.failing.length ? `, ${graph.proxies.failing.length} failing` : ''}` : ''}</span>
      </div>
      <div class="split">
        <div id="graph" ref={container} />
        <GraphPanel graph={graph} error={error} selected={selected} select={select} />
      </div>
    </>
  );
}

function GraphPanel({ graph, error, selected, select }: { graph: ServiceGraph | undefined; error: string; selected: Selection; select: (s: Selection) => void }) {
  if (error) return <aside class="panel" id="details"><p class="error-text">{error}</p></aside>;
  if (!graph) return <aside class="panel" id="details"><p class="muted">loading the graph</p></aside>;
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const name = (id: string) => nodes.get(id)?.name ?? id;
  const edge = selected?.kind === 'edge' ? graph.edges.find((x) => x.id === selected.id) : undefined;
  const node = selected?.kind === 'node' ? nodes.get(selected.id) : undefined;
  if (edge) {
    return <aside class="panel" id="details" data-selected={edge.id}><EdgeDetails e={edge} nodes={nodes} name={name} window={graph.window} /></aside>;
  }
  if (node) {
    return <aside class="panel" id="details" data-selected={node.id}>
      <NodeDetails n={node} edges={graph.edges.filter((e) => e.source === node.id || e.target === node.id)} name={name} select={select} window={graph.window} />
    </aside>;
  }
  return (
    <aside class="panel" id="details">
      <h3>Edges</h3>
      {graph.edges.length ? <EdgeTable edges={graph.edges} name={name} select={select} /> : <p class="muted">no traffic in the last {graph.window}</p>}
    </aside>
  );
}

function EdgeDetails({ e, nodes, name, window: window_ }: { e: GraphEdge; nodes: Map<string, GraphNode>; name: (id: string) => string; window: string }) {
  const tq = edgeTraceQuery(nodes.get(e.source), nodes.get(e.target));
  const numbers: [string, string][] = e.protocol === 'tcp'
    ? [['bytes/s', bytes(e.tcp?.bytesPerSecond ?? 0)], ['sent/s', bytes(e.tcp?.sentBytesPerSecond ?? 0)], ['received/s', bytes(e.tcp?.receivedBytesPerSecond ?? 0)],
      ['connections/s', rate(e.tcp?.connectionsPerSecond)], ['active connections', String(e.tcp?.activeConnections ?? 0)]]
    : [['requests/s', rate(e.requestRate)], ['error rate', percent(e.errorRate)], ['p50', millis(e.p50Ms)], ['p99', millis(e.p99Ms)],
      ...Object.entries(e.responses ?? {}).map(([code, r]): [string, string] => [`code ${code}`, `${rate(r)}/s`])];
  return (
    <>
      <h3>{name(e.source)} {'\u2192'} {name(e.target)}</h3>
      <Details pairs={[['protocol', e.protocol], ['mTLS', e.mtls ? 'yes' : `${e.mtlsPercent.toFixed(0)}% of traffic`], ...numbers, ['window', window_]]} />
      {tq ? <p><a href={tracesHref(tq)} id="edge-traces">recent traces of {tq.service}{tq.remote ? ` \u2192 ${tq.remote}` : ''}</a></p> : null}
      <SeriesCharts key={e.id} edge={e.id} tcp={e.protocol === 'tcp'} />
    </>
  );
}

function NodeDetails({ n, edges, name, select, window: window_ }: { n: GraphNode; edges: GraphEdge[]; name: (id: string) => string; select: (s: Selection) => void; window: string }) {
  const svc = traceService(n);
  const requests: [string, string][] = n.requestRate !== undefined
    ? [['requests/s in', rate(n.requestRate)], ['error rate', percent(n.errorRate)], ['p50', millis(n.p50Ms)], ['p99', millis(n.p99Ms)], ['window', window_]]
    : [];
  return (
    <>
      <h3>{name(n.id)}</h3>
      <Details pairs={[['kind', n.kind], ['namespace', n.namespace], ['app', n.app], ['version', n.version], ['workload', n.workload], ['service', n.service], ...requests]} />
      <EdgeTable edges={edges} name={name} select={select} />
      {n.kind === 'unknown' ? null : <AppliesList key={n.id} n={n} />}
      {n.kind === 'service' || n.kind === 'external' ? <SeriesCharts key={n.id} node={n.id} /> : null}
      {svc ? <p><a href={`#/traces?service=${encodeURIComponent(svc)}`}>recent traces of {svc}</a></p> : null}
    </>
  );
}

function EdgeTable({ edges, name, select }: { edges: GraphEdge[]; name: (id: string) => string; select: (s: Selection) => void }) {
  return (
    <table class="edges">
      <thead><tr>{['from', 'to', 'proto', 'rate', 'err'].map((h) => <th key={h}>{h}</th>)}</tr></thead>
      <tbody>
        {edges.map((e) => (
          <tr key={e.id} class="clickable" data-edge={e.id} onClick={() => select({ kind: 'edge', id: e.id })}>
            <td>{name(e.source)}</td><td>{name(e.target)}</td><td>{e.protocol}</td>
            <td>{e.protocol === 'tcp' ? `${bytes(e.tcp?.bytesPerSecond ?? 0)}/s` : rate(e.requestRate)}</td>
            <td>{e.protocol === 'tcp' ? '' : percent(e.errorRate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The config that applies to a node (/api/applies), fetched once per selection. */
function AppliesList({ n }: { n: GraphNode }) {
  const [list, setList] = useState<Applies[] | string | undefined>(undefined);
  useEffect(() => {
    const q = n.kind === 'service' || n.kind === 'external' ? new URLSearchParams({ host: n.service ?? n.name }) : new URLSearchParams({ namespace: n.namespace, workload: n.workload ?? n.name });
    api<{ items: Applies[] }>(`/api/applies?${q}`).then((r) => setList(r.items), (err) => setList(message(err)));
  }, []);
  return (
    <div id="node-config">
      <h4>Config that applies</h4>
      {typeof list === 'string' ? <p class="muted">{list}</p>
        : list === undefined ? <p class="muted">loading</p>
          : list.length ? <ul>{list.map((x) => <li key={`${x.kind}/${x.namespace}/${x.name}`}><a href="#/config">{x.kind} {x.namespace}/{x.name}</a><span class="muted"> ({x.why})</span></li>)}</ul>
            : <p class="muted">none</p>}
    </div>
  );
}

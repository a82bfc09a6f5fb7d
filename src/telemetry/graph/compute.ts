/**
 * The service graph from Istio's standard metrics, computed the way Kiali builds its versioned-app
 * graph from Prometheus: every series of istio_requests_total and istio_tcp_* places traffic on
 * a path source workload -> service -> destination workload, and each hop of the path becomes an
 * edge carrying that traffic. The source proxy's report (reporter="source") is preferred; the
 * destination's (reporter="destination") is used for sources that have no proxy to report, such
 * as the "unknown" source of requests from outside the mesh, so nothing is counted twice.
 *
 * JSON shape (`GET /debug/graph?namespace=NS&window=60s` on the control plane's monitoring port):
 *
 *   { generatedAt: ISO time, window: "60s", windowSeconds: 60, namespace?: "default",
 *     nodes: [{ id, kind, namespace, name, app?, version?, workload?, service?,
 *               requestRate?, errorRate?, p50Ms?, p99Ms? }],              (service, external)
 *     edges: [{ id, source, target, protocol,
 *               requestRate?, errorRate?, p50Ms?, p99Ms?, responses?,      (http and grpc)
 *               tcp?: { bytesPerSecond, sentBytesPerSecond, receivedBytesPerSecond,
 *                       connectionsPerSecond, activeConnections },          (tcp)
 *               mtls, mtlsPercent }],
 *     proxies: { scraped, failing: [{ id, address, error }] } }
 *
 * Node ids: `workload/<ns>/<workload>`, `service/<ns>/<name>`, `external/<host>`, `unknown`.
 * kind: workload | gateway (a workload whose proxy is a gateway) | service | external (a
 * MESH_EXTERNAL ServiceEntry host, or PassthroughCluster / BlackHoleCluster) | unknown.
 * `app` and `version` come from the app/version labels (canonical service and revision when
 * those are missing), so a UI can group reviews v1/v2/v3 under app `reviews`.
 * Rates are per second over the window; errorRate is the share (0..1) of requests answered 5xx
 * (for gRPC, also a non-OK grpc-status); p50Ms/p99Ms are histogram_quantile over the duration
 * buckets (null without requests); responses is requests per second per response code. mtls is
 * true when all of the edge's traffic in the window was mutual TLS; mtlsPercent says how much was.
 * A service or external node with HTTP/gRPC traffic carries the same four numbers for every
 * request into it: its incoming edges' counts summed and their duration buckets merged before
 * the quantile, as `histogram_quantile(0.99, sum by (le) (rate(..._bucket{destination_service=X}[w])))`
 * reads them (percentiles of separate edges cannot be combined afterwards).
 */
import { splitKey, type SeriesLabels } from './series.js';

export type NodeKind = 'workload' | 'gateway' | 'service' | 'external' | 'unknown';
export type EdgeProtocol = 'http' | 'grpc' | 'tcp';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  namespace: string;
  name: string;
  app?: string;
  version?: string;
  workload?: string;
  /** The service's host (`reviews.default.svc.cluster.local`), for service and external nodes. */
  service?: string;
  /** Service and external nodes: every HTTP/gRPC request into the node (its incoming edges merged). */
  requestRate?: number;
  errorRate?: number;
  p50Ms?: number | null;
  p99Ms?: number | null;
}

export interface TcpStats {
  bytesPerSecond: number;
  sentBytesPerSecond: number;
  receivedBytesPerSecond: number;
  connectionsPerSecond: number;
  activeConnections: number;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  protocol: EdgeProtocol;
  requestRate?: number;
  errorRate?: number;
  p50Ms?: number | null;
  p99Ms?: number | null;
  responses?: Record<string, number>;
  tcp?: TcpStats;
  mtls: boolean;
  mtlsPercent: number;
}

export interface GraphInput {
  /** Per-second rates by series key (MetricsHistory.rates). */
  rates: ReadonlyMap<string, number>;
  /** Latest TCP open/close counter values by series key. */
  latest: ReadonlyMap<string, number>;
  /** Role of each workload (`<ns>/<workload>`) that runs a proxy the control plane knows. */
  proxies: ReadonlyMap<string, string>;
  /** True for a MESH_EXTERNAL host; without it, a service with no namespace and no workload is external. */
  isExternal?: (host: string) => boolean;
  /** Only paths that touch this namespace. */
  namespace?: string;
  /** The duration histogram's finite bucket bounds (each bucket's lower edge is the bound before it). */
  bounds?: readonly number[];
}

/** Request counts (per second) and per-bucket durations, for an edge or everything into a service. */
interface RequestStats {
  requests: number;
  errors: number;
  buckets: Map<number, number>;
}

interface EdgeStats extends RequestStats {
  source: string;
  target: string;
  protocol: EdgeProtocol;
  responses: Map<string, number>;
  sent: number;
  received: number;
  opened: number;
  active: number;
  /** Traffic (requests, or bytes for TCP) in total and over mutual TLS. */
  weight: number;
  mtlsWeight: number;
}

interface Series {
  labels: SeriesLabels;
  req: number;
  buckets: Map<number, number>;
  tcpo: number;
  tcpc: number;
  tcps: number;
  tcpr: number;
  active: number;
}

const SPECIAL = new Set(['PassthroughCluster', 'BlackHoleCluster']);

const known = (v: string | undefined): v is string => v !== undefined && v !== '' && v !== 'unknown';

function collect(input: GraphInput): Map<string, Series> {
  const all = new Map<string, Series>();
  const get = (key: string): { family: string; series: Series } => {
    const sep = key.indexOf('\u0002');
    const base = key.slice(sep);
    let series = all.get(base);
    if (!series) {
      series = { labels: splitKey(key).labels, req: 0, buckets: new Map(), tcpo: 0, tcpc: 0, tcps: 0, tcpr: 0, active: 0 };
      all.set(base, series);
    }
    return { family: key.slice(0, sep), series };
  };
  for (const [key, rate] of input.rates) {
    const { family, series } = get(key);
    if (family === 'req' || family === 'tcpo' || family === 'tcpc' || family === 'tcps' || family === 'tcpr') series[family] += rate;
    else if (family.startsWith('d')) {
      const le = family === 'd+Inf' ? Infinity : Number(family.slice(1));
      series.buckets.set(le, (series.buckets.get(le) ?? 0) + rate);
    }
  }
  for (const [key, value] of input.latest) {
    const { family, series } = get(key);
    series.active += family === 'tcpo' ? value : -value;
  }
  return all;
}

/** Prometheus' histogram_quantile over per-bucket (not cumulative) counts. */
export function quantile(q: number, buckets: ReadonlyMap<number, number>, knownBounds: readonly number[] = []): number | null {
  const sorted = [...buckets.entries()].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  const bounds = [...new Set([...knownBounds, ...buckets.keys()])].sort((a, b) => a - b);
  const rank = q * total;
  let cumulative = 0;
  for (const [le, n] of sorted) {
    if (cumulative + n >= rank) {
      const lower = bounds.filter((b) => b < le).pop() ?? 0;
      // Past the last finite bound nothing is known but that bound.
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - cumulative)) / n;
    }
    cumulative += n;
  }
  return sorted[sorted.length - 1]?.[0] ?? null;
}

function round(n: number, places = 3): number {
  const f = 10 ** places;
  return Math.round(n * f) / f;
}

export function computeGraph(input: GraphInput): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const all = collect(input);
  // Workloads whose own proxy reports their outbound traffic: their destination-side reports would count it twice.
  const reporting = new Set(input.proxies.keys());
  for (const s of all.values()) if (s.labels.reporter === 'source') reporting.add(`${s.labels.source_workload_namespace}/${s.labels.source_workload}`);

  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, EdgeStats>();
  /** Requests into each service or external node, whichever edge they came by. */
  const services = new Map<string, RequestStats>();
  const workloadNode = (ns: string, workload: string, app: string, canonical: string, version: string, revision: string): GraphNode => {
    const role = input.proxies.get(`${ns}/${workload}`);
    return {
      id: `workload/${ns}/${workload}`, kind: role === 'ingress-gateway' || role === 'egress-gateway' ? 'gateway' : 'workload',
      namespace: ns, name: workload, workload,
      ...(known(app) ? { app } : known(canonical) ? { app: canonical } : {}),
      ...(known(version) ? { version } : known(revision) && revision !== 'latest' ? { version: revision } : {}),
    };
  };

  for (const s of all.values()) {
    const l = s.labels;
    const sourceKnown = known(l.source_workload);
    if (l.reporter === 'destination' && sourceKnown && reporting.has(`${l.source_workload_namespace}/${l.source_workload}`)) continue;
    if (l.reporter !== 'source' && l.reporter !== 'destination') continue;
    const path: GraphNode[] = [];
    path.push(sourceKnown
      ? workloadNode(l.source_workload_namespace, l.source_workload, l.source_app, l.source_canonical_service, l.source_version, l.source_canonical_revision)
      : { id: 'unknown', kind: 'unknown', namespace: 'unknown', name: 'unknown' });
    const host = l.destination_service;
    const name = l.destination_service_name;
    const destinationKnown = known(l.destination_workload);
    const external = SPECIAL.has(name) || (known(host) && (input.isExternal ? input.isExternal(host) : !known(l.destination_service_namespace) && !destinationKnown));
    if (external) {
      const shown = known(host) ? host : name;
      path.push({ id: `external/${shown}`, kind: 'external', namespace: '', name: shown, service: shown });
    } else if (known(name)) {
      const ns = known(l.destination_service_namespace) ? l.destination_service_namespace : l.destination_workload_namespace;
      path.push({ id: `service/${ns}/${name}`, kind: 'service', namespace: ns, name, ...(known(host) ? { service: host } : {}) });
    }
    if (destinationKnown) {
      path.push(workloadNode(l.destination_workload_namespace, l.destination_workload, l.destination_app, l.destination_canonical_service, l.destination_version, l.destination_canonical_revision));
    }
    if (path.length < 2) continue;
    if (input.namespace !== undefined && !path.some((n) => n.namespace === input.namespace)) continue;
    const protocol: EdgeProtocol = l.request_protocol === 'grpc' ? 'grpc' : l.request_protocol === 'tcp' ? 'tcp' : 'http';
    const mtls = l.reporter === 'destination' ? l.connection_security_policy === 'mutual_tls' : known(l.destination_principal);
    const active = Math.max(0, s.active);
    if (protocol === 'tcp' ? s.tcpo + s.tcps + s.tcpr + active === 0 : s.req === 0) continue;
    for (const n of path) {
      const seen = nodes.get(n.id);
      // The first report may lack app or version (a client that only knew the endpoint): fill in.
      nodes.set(n.id, seen ? { ...n, ...seen } : n);
    }
    const into = path[1];
    if (protocol !== 'tcp' && into && (into.kind === 'service' || into.kind === 'external')) {
      let stats = services.get(into.id);
      if (!stats) services.set(into.id, (stats = { requests: 0, errors: 0, buckets: new Map() }));
      addRequests(stats, s, protocol);
    }
    for (let i = 0; i + 1 < path.length; i++) {
      const from = (path[i] as GraphNode).id;
      const to = (path[i + 1] as GraphNode).id;
      const key = `${from}\u0001${to}\u0001${protocol}`;
      let e = edges.get(key);
      if (!e) {
        e = { source: from, target: to, protocol, requests: 0, errors: 0, responses: new Map(), buckets: new Map(), sent: 0, received: 0, opened: 0, active: 0, weight: 0, mtlsWeight: 0 };
        edges.set(key, e);
      }
      if (protocol === 'tcp') {
        e.sent += s.tcps;
        e.received += s.tcpr;
        e.opened += s.tcpo;
        e.active += active;
        const weight = s.tcps + s.tcpr + s.tcpo + active;
        e.weight += weight;
        if (mtls) e.mtlsWeight += weight;
      } else {
        addRequests(e, s, protocol);
        e.responses.set(l.response_code, (e.responses.get(l.response_code) ?? 0) + s.req);
        e.weight += s.req;
        if (mtls) e.mtlsWeight += s.req;
      }
    }
  }
  const bounds = input.bounds ?? [];
  for (const [id, stats] of services) {
    const node = nodes.get(id);
    if (node) nodes.set(id, { ...node, ...requestNumbers(stats, bounds) });
  }
  return {
    nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    edges: [...edges.values()].map((e) => toEdge(e, bounds)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}

/** A series' requests added in: 5xx (and for gRPC a non-OK status) are errors; buckets merge by bound. */
function addRequests(into: RequestStats, s: Series, protocol: EdgeProtocol): void {
  const l = s.labels;
  into.requests += s.req;
  const grpcError = protocol === 'grpc' && l.grpc_response_status !== '' && l.grpc_response_status !== '0';
  if (Number(l.response_code) >= 500 || grpcError) into.errors += s.req;
  for (const [le, n] of s.buckets) into.buckets.set(le, (into.buckets.get(le) ?? 0) + n);
}

/** Rate, error share and percentiles, rounded as the graph's JSON shows them. */
function requestNumbers(stats: RequestStats, bounds: readonly number[]): { requestRate: number; errorRate: number; p50Ms: number | null; p99Ms: number | null } {
  const p50 = quantile(0.5, stats.buckets, bounds);
  const p99 = quantile(0.99, stats.buckets, bounds);
  return {
    requestRate: round(stats.requests),
    errorRate: stats.requests > 0 ? round(stats.errors / stats.requests, 4) : 0,
    p50Ms: p50 === null ? null : round(p50, 2),
    p99Ms: p99 === null ? null : round(p99, 2),
  };
}

function toEdge(e: EdgeStats, bounds: readonly number[]): GraphEdge {
  const mtlsShare = e.weight > 0 ? e.mtlsWeight / e.weight : 0;
  const base = { id: `${e.source}->${e.target}:${e.protocol}`, source: e.source, target: e.target, protocol: e.protocol };
  const mtls = { mtls: e.weight > 0 && e.mtlsWeight >= e.weight * 0.9999, mtlsPercent: round(mtlsShare * 100, 1) };
  if (e.protocol === 'tcp') {
    return {
      ...base,
      tcp: {
        bytesPerSecond: round(e.sent + e.received), sentBytesPerSecond: round(e.sent), receivedBytesPerSecond: round(e.received),
        connectionsPerSecond: round(e.opened), activeConnections: Math.round(e.active),
      },
      ...mtls,
    };
  }
  return {
    ...base,
    ...requestNumbers(e, bounds),
    responses: Object.fromEntries([...e.responses.entries()].sort().map(([code, n]) => [code, round(n)])),
    ...mtls,
  };
}

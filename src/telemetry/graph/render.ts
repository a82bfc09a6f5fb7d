/**
 * `weft graph`'s text: one line per edge, columns aligned, in the words a mesh operator reads
 * (`istio-ingressgateway -> svc/productpage  http  12.3 rps  0.0% err  p50 4ms  p99 9ms  mTLS`).
 * Workloads print by name, services as `svc/NAME`, external hosts as `ext/HOST`; the namespace
 * is appended (`.NS`) only when the graph spans more than one. Then, for every service (and
 * external host) with HTTP/gRPC traffic, one line with what its callers see of it together: the
 * node's own rate, error share and p50/p99 (its incoming edges' histograms merged, so not the
 * slowest edge's percentiles).
 */
import type { GraphEdge, GraphNode } from './compute.js';

export interface RenderableGraph {
  nodes: readonly GraphNode[];
  edges: readonly GraphEdge[];
}

function label(node: GraphNode | undefined, id: string, qualify: boolean): string {
  if (!node) return id;
  const ns = qualify && node.namespace !== '' && node.kind !== 'unknown' ? `.${node.namespace}` : '';
  switch (node.kind) {
    case 'service':
      return `svc/${node.name}${ns}`;
    case 'external':
      return `ext/${node.name}`;
    case 'unknown':
      return 'unknown';
    default:
      return `${node.name}${ns}`;
  }
}

/** Three significant digits at most, trailing zeros dropped: `12.3`, `4.96`, `1`, `0.05`. */
function number(n: number): string {
  if (n === 0) return '0';
  const text = n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 0.01 ? n.toFixed(2) : n.toPrecision(1);
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

function ms(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : `${number(n)}ms`;
}

function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${number(n / (1024 * 1024))} MiB/s`;
  if (n >= 1024) return `${number(n / 1024)} KiB/s`;
  return `${number(n)} B/s`;
}

function mtls(e: GraphEdge): string {
  if (e.mtls) return 'mTLS';
  return e.mtlsPercent > 0 ? `mTLS ${e.mtlsPercent}%` : 'plaintext';
}

/** Rows of cells, each column padded to its widest cell; trailing spaces trimmed. */
function table(rows: readonly string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').replace(/ +$/, '')).join('\n') + '\n';
}

function requestCells(n: { requestRate?: number; errorRate?: number; p50Ms?: number | null; p99Ms?: number | null }): string[] {
  return [`${number(n.requestRate ?? 0)} rps`, `${((n.errorRate ?? 0) * 100).toFixed(1)}% err`, `p50 ${ms(n.p50Ms)}`, `p99 ${ms(n.p99Ms)}`];
}

export function renderGraph(graph: RenderableGraph): string {
  if (graph.edges.length === 0) return 'no traffic in the window\n';
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const namespaces = new Set(graph.nodes.filter((n) => n.kind !== 'unknown' && n.kind !== 'external').map((n) => n.namespace));
  const qualify = namespaces.size > 1;
  const rows = graph.edges.map((e) => {
    const cells = [label(byId.get(e.source), e.source, qualify), '->', label(byId.get(e.target), e.target, qualify), e.protocol];
    if (e.tcp) {
      cells.push(bytes(e.tcp.bytesPerSecond), `${number(e.tcp.connectionsPerSecond)} conn/s`, `${e.tcp.activeConnections} open`, '', mtls(e));
    } else {
      cells.push(...requestCells(e), mtls(e));
    }
    return cells;
  });
  const services = graph.nodes
    .filter((n) => (n.kind === 'service' || n.kind === 'external') && n.requestRate !== undefined)
    .map((n) => [label(n, n.id, qualify), ...requestCells(n)])
    .sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
  if (services.length === 0) return table(rows);
  return `${table(rows)}\nservices (every caller's requests together):\n${table(services)}`;
}

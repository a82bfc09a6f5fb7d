/**
 * The shapes of the dashboard API's answers, as the page reads them. They mirror the control
 * plane's types (src/telemetry/graph/compute.ts, src/dashboard/views.ts) but are declared here:
 * the browser bundle must not pull in Node.js code, even for types.
 */

export interface GraphNode {
  id: string;
  kind: 'workload' | 'gateway' | 'service' | 'external' | 'unknown';
  namespace: string;
  name: string;
  app?: string;
  version?: string;
  workload?: string;
  service?: string;
  /** Service and external nodes: every request into them, incoming edges merged. */
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
  protocol: 'http' | 'grpc' | 'tcp';
  requestRate?: number;
  errorRate?: number;
  p50Ms?: number | null;
  p99Ms?: number | null;
  responses?: Record<string, number>;
  tcp?: TcpStats;
  mtls: boolean;
  mtlsPercent: number;
}

export interface ServiceGraph {
  generatedAt: string;
  window: string;
  windowSeconds: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  proxies: { scraped: number; failing: { id: string; address: string; error: string }[] };
}

export interface SeriesPoint {
  at: string;
  requestRate: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  tcp?: TcpStats;
}

/** An edge's series, or a service's (with `edges` and `latency`). */
export interface Series {
  stepSeconds: number;
  points: SeriesPoint[];
  edges?: string[];
  latency?: string;
}

export interface WorkloadRow {
  namespace: string;
  name: string;
  ready: string;
  status: string;
  restarts: number;
  createdAt: string | null;
  ip: string | null;
  proxy: { nodeId: string; state: string; version: string | null; replica: string; revision: string; nack: string | null } | null;
}

export interface AnalyzerMessage {
  code: string;
  level: string;
  message: string;
  path: string | null;
}

export interface ConfigRow {
  kind: string;
  namespace: string;
  name: string;
  source: string | null;
  messages: AnalyzerMessage[];
}

export interface Applies {
  kind: string;
  namespace: string;
  name: string;
  why: string;
}

export interface ProxyRow {
  nodeId: string;
  role: string;
  namespace: string;
  state: string;
}

export interface Endpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

export interface Span {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: string;
  name?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: Endpoint;
  remoteEndpoint?: Endpoint;
  tags?: Record<string, string>;
}

/** Server-sent events the page listens to (/api/events). */
export interface LiveEvents {
  graph: ServiceGraph;
  workloads: { items: WorkloadRow[] };
}

/**
 * The monitoring and debug port (15014, like istiod's): Prometheus metrics, readiness, and the
 * debug endpoints `weft proxy-status` and `weft proxy-config` read. It binds loopback by default:
 * config dumps describe the whole mesh's routing, which is not for every neighbour on the network.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControlPlane } from './control-plane.js';
import { parseDurationMs } from '../lib/duration.js';

export function startMonitoring(cp: ControlPlane, address: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => serve(cp, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function monitoringPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

function serve(cp: ControlPlane, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'use GET\n');
  switch (url.pathname) {
    case '/metrics':
      return send(res, 200, 'text/plain; version=0.0.4', cp.metrics.render());
    case '/ready':
      return cp.ready() ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', 'no valid configuration loaded yet\n');
    case '/debug/syncz':
      return json(res, 200, { replica: cp.replicaId(), sources: cp.sourceNames(), proxies: cp.proxies() });
    case '/debug/config_dump': {
      const id = url.searchParams.get('proxyID');
      if (!id) return json(res, 400, { error: 'proxyID is required, e.g. /debug/config_dump?proxyID=reviews-v1-0.default' });
      const config = cp.configDump(id);
      if (!config) return json(res, 404, { error: `proxy ${id} is not connected to replica ${cp.replicaId()}` });
      return json(res, 200, { replica: cp.replicaId(), config });
    }
    case '/debug/config_errors': {
      const rejected = cp.lastRejected();
      return json(res, 200, {
        replica: cp.replicaId(),
        active: rejected?.active ?? false,
        ...(rejected ? { source: rejected.source, at: rejected.at } : {}),
        errors: (rejected?.errors ?? []).map((d) => ({
          code: d.code, level: d.level, message: d.message,
          ...(d.origin ? { origin: d.origin } : {}),
          ...(d.location ? { file: d.location.file, line: d.location.line, column: d.location.column, path: d.location.path } : {}),
        })),
      });
    }
    case '/debug/graph':
      return serveGraph(cp, url, res);
    case '/debug/graph/series':
      return serveEdgeSeries(cp, url, res);
    case '/':
      return send(res, 200, 'text/plain', ['/metrics', '/ready', '/debug/syncz', '/debug/config_dump?proxyID=ID', '/debug/config_errors', '/debug/graph?namespace=NS&window=60s', '/debug/graph/series?edge=ID&range=10m&step=30s'].join('\n') + '\n');
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
}

/** A duration query parameter within 1 s and the history kept; a string is the error to answer. */
function durationParam(cp: ControlPlane, url: URL, name: string, fallback: string): number | string {
  const text = url.searchParams.get(name) ?? fallback;
  let ms: number;
  try {
    ms = parseDurationMs(text);
  } catch (err) {
    return `${name}: ${(err as Error).message}`;
  }
  const maxMs = cp.graph.history.historyMs;
  return ms >= 1000 && ms <= maxMs ? ms : `${name}: ${text} is outside 1s..${maxMs / 1000}s (the history kept)`;
}

/** The service graph (src/telemetry/graph/compute.ts documents the JSON). */
function serveGraph(cp: ControlPlane, url: URL, res: ServerResponse): void {
  const windowMs = durationParam(cp, url, 'window', '60s');
  if (typeof windowMs === 'string') return json(res, 400, { error: windowMs });
  const namespace = url.searchParams.get('namespace') || undefined;
  return json(res, 200, cp.graph.graph({ windowMs, window: url.searchParams.get('window') ?? '60s', ...(namespace !== undefined ? { namespace } : {}) }));
}

/** One edge's rates over time, for charts: `{edge, stepSeconds, points: [{at, requestRate, errorRate, p50Ms, p99Ms, tcp?}]}`. */
function serveEdgeSeries(cp: ControlPlane, url: URL, res: ServerResponse): void {
  const edge = url.searchParams.get('edge');
  if (!edge) return json(res, 400, { error: 'edge is required: an edge id from /debug/graph, e.g. workload/default/productpage-v1->service/default/reviews:http' });
  const rangeMs = durationParam(cp, url, 'range', '10m');
  const stepMs = durationParam(cp, url, 'step', '30s');
  if (typeof rangeMs === 'string' || typeof stepMs === 'string') return json(res, 400, { error: typeof rangeMs === 'string' ? rangeMs : stepMs });
  return json(res, 200, cp.graph.series({ edge, rangeMs, stepMs }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

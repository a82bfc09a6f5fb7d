/**
 * The proxy's Prometheus ports, as in an Istio pod: 15090 serves the proxy's own metrics at
 * `/stats/prometheus` (Envoy's), and 15020 serves them merged with the app's, which it scrapes
 * where the pod's `prometheus.io/port` / `prometheus.io/path` annotations said (Istio's
 * metrics merging: the pod is then annotated to be scraped on 15020 instead). An app that
 * cannot be scraped leaves its part out; the proxy's metrics are still served.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { CONTENT_TYPE } from './prometheus.js';

/** Where the app serves its metrics (from the pod's prometheus.io annotations). */
export interface AppMetrics {
  address: string;
  port: number;
  /** Default `/metrics`. */
  path: string;
}

export interface MetricsSource {
  prometheus(): string;
}

function listen(server: http.Server, address: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function path(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

/** 15090: `/stats/prometheus`. */
export function startPrometheusServer(source: MetricsSource, address: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (path(req) !== '/stats/prometheus') return send(res, 404, 'text/plain', 'not found: try /stats/prometheus\n');
    send(res, 200, CONTENT_TYPE, source.prometheus());
  });
  return listen(server, address, port);
}

/** 15020: `/stats/prometheus`, the app's metrics (when configured) followed by the proxy's. */
export function startMergedMetricsServer(source: MetricsSource, app: AppMetrics | undefined, address: string, port: number, onAppError: (message: string) => void = () => {}, other?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    // The status port's other duties (the rewritten app probes) come first.
    if (other?.(req, res)) return;
    if (path(req) !== '/stats/prometheus') return send(res, 404, 'text/plain', 'not found: try /stats/prometheus\n');
    const own = source.prometheus();
    if (!app) return send(res, 200, CONTENT_TYPE, own);
    scrape(app).then(
      (text) => send(res, 200, CONTENT_TYPE, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${own}`),
      (err: Error) => {
        onAppError(err.message);
        send(res, 200, CONTENT_TYPE, own);
      },
    );
  });
  return listen(server, address, port);
}

/** GET the app's metrics; rejects on a non-200, a connect failure or after 5 s. */
export function scrape(app: AppMetrics, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: app.address, port: app.port, path: app.path, timeout: timeoutMs, agent: false, headers: { accept: 'text/plain' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`app metrics ${app.address}:${app.port}${app.path}: HTTP ${res.statusCode ?? 0}`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`app metrics ${app.address}:${app.port}${app.path}: timed out`)));
    req.on('error', reject);
  });
}

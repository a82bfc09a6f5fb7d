/**
 * The dashboard's HTTP server (port 20001 in the control plane process): the page, its one
 * script and stylesheet (bundled at build time from web/ with Preact, uPlot and cytoscape, see
 * bundle.ts, so the page loads nothing from outside this machine), a read-only JSON API over what the control plane holds, and one
 * server-sent event stream that carries graph and workload updates so the page never reloads.
 *
 * Read-only by construction: GET and HEAD only. The Content-Security-Policy keeps the page to
 * its own origin, and requests naming a host other than an IP literal or localhost are refused,
 * so a web page elsewhere cannot reach the loopback port by DNS rebinding.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyResource } from '../resources/index.js';
import type { ProxyStatus } from '../distribution/index.js';
import type { TraceStore } from '../telemetry/index.js';
import { queryRoute } from '../telemetry/query.js';
import type { EdgeSeries, ServiceGraph, ServiceSeries } from '../telemetry/graph/index.js';
import { parseDurationMs } from '../lib/duration.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { configObject, configRows, namespacesOf, workloadRows } from './views.js';
import { INDEX_HTML } from './page.js';
import { resourcesApplyingTo, workloadLabels } from './applies.js';

/** Where bundle.ts writes app.js and app.css (beside the compiled server; not importing bundle.ts keeps esbuild out of the control plane). */
const BUNDLE_DIR = fileURLToPath(new URL('./web/', import.meta.url));

/** What the dashboard reads; the control plane provides each from what it already holds. */
export interface DashboardData {
  replica: string;
  resources(): readonly AnyResource[];
  proxies(): ProxyStatus[];
  /** A connected proxy's config, secrets redacted (`/debug/config_dump`); undefined when no replica holds it. */
  configDump(proxyId: string): unknown;
  /** The service graph; absent when the control plane computes none. */
  graph?: (query: { windowMs: number; window: string; namespace?: string }) => ServiceGraph;
  /** One edge's rates over time (GraphCollector.series); absent when the control plane computes no graph. */
  series?: (query: { edge: string; rangeMs: number; stepMs: number }) => EdgeSeries;
  /** One service's requests over time, its incoming edges' histograms merged (GraphCollector.serviceSeries). */
  serviceSeries?: (query: { node: string; rangeMs: number; stepMs: number }) => ServiceSeries;
  /** The embedded trace store; absent when the control plane runs none. */
  traces?: TraceStore;
  /** The longest graph window kept (ms); default 10 minutes. */
  graphHistoryMs?: number;
}

export interface DashboardOptions {
  data: DashboardData;
  address?: string;
  /** Default 20001; 0 picks one. */
  port?: number;
  /** How often the event stream looks for changes; default 2 s. */
  liveIntervalMs?: number;
  log?: Logger;
}

interface Asset {
  type: string;
  body: Buffer;
}

/** Served when the bundle was not built: the page says what to run instead of staying blank. */
const MISSING_BUNDLE = "document.body.textContent = 'The dashboard was not built: run npm run build (or npm test) in the Weft checkout.';\n";

/** The page and the bundle `npm run build` wrote beside this file (bundle.ts), read once. */
function loadAssets(log: Logger): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  assets.set('/', { type: 'text/html; charset=utf-8', body: Buffer.from(INDEX_HTML) });
  try {
    assets.set('/app/app.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(join(BUNDLE_DIR, 'app.js')) });
    assets.set('/app/app.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(BUNDLE_DIR, 'app.css')) });
  } catch (err) {
    log.warn('dashboard: the front-end bundle is missing; the page will say so', { dir: BUNDLE_DIR, error: (err as Error).message, hint: 'npm run build' });
    assets.set('/app/app.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(MISSING_BUNDLE) });
    assets.set('/app/app.css', { type: 'text/css; charset=utf-8', body: Buffer.alloc(0) });
  }
  return assets;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export class DashboardServer {
  readonly #options: DashboardOptions;
  readonly #log: Logger;
  /** Read on the first request: a control plane nobody browses never holds them. */
  #assets: Map<string, Asset> | undefined;
  readonly #server: http.Server;
  readonly #streams = new Set<ServerResponse>();

  constructor(options: DashboardOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#server = http.createServer((req, res) => {
      try {
        this.#serve(req, res);
      } catch (err) {
        // A bug behind one request must not take the control plane down with it.
        this.#log.error('dashboard request failed', { url: req.url ?? '', error: (err as Error).message });
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.destroy();
      }
    });
  }

  listen(): Promise<number> {
    const { address = '127.0.0.1', port = 20001 } = this.#options;
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, address, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.#streams) s.end();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'the dashboard is read-only: use GET' });
    if (!allowedHost(req.headers.host)) return json(res, 403, { error: 'open the dashboard by IP address or localhost' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.#assets ??= loadAssets(this.#log);
    const asset = this.#assets.get(url.pathname === '/index.html' ? '/' : url.pathname);
    if (asset) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length });
      return void res.end(req.method === 'HEAD' ? undefined : asset.body);
    }
    if (url.pathname === '/favicon.ico') return void res.writeHead(204, SECURITY_HEADERS).end();
    if (url.pathname.startsWith('/api/zipkin/')) return this.#zipkin(url, res);
    const data = this.#options.data;
    const namespace = url.searchParams.get('namespace') || undefined;
    switch (url.pathname) {
      case '/api/overview':
        return json(res, 200, { replica: data.replica, namespaces: namespacesOf(data.resources()), graph: data.graph !== undefined, traces: data.traces !== undefined });
      case '/api/workloads':
        return json(res, 200, { items: workloadRows(data.resources(), data.proxies(), namespace) });
      case '/api/applies': {
        // ?host=reviews.default.svc.cluster.local, or ?namespace=default&workload=reviews-v1
        const host = url.searchParams.get('host') || undefined;
        const workload = url.searchParams.get('workload') || undefined;
        const resources = data.resources();
        const labels = workload && namespace ? workloadLabels(resources, namespace, workload) : undefined;
        return json(res, 200, { items: resourcesApplyingTo(resources, { ...(host ? { host } : {}), ...(labels && namespace ? { workload: { namespace, labels } } : {}) }) });
      }
      case '/api/proxies':
        return json(res, 200, { replica: data.replica, proxies: data.proxies() });
      case '/api/config':
        return json(res, 200, configRows(data.resources(), namespace));
      case '/api/config/object': {
        const [kind, ns, name] = ['kind', 'namespace', 'name'].map((k) => url.searchParams.get(k) ?? '');
        const object = configObject(data.resources(), kind ?? '', ns ?? '', name ?? '');
        return object ? json(res, 200, object) : json(res, 404, { error: `no ${kind} ${ns}/${name} is applied` });
      }
      case '/api/proxy-config': {
        const id = url.searchParams.get('proxyID');
        if (!id) return json(res, 400, { error: 'proxyID is required' });
        void Promise.resolve(data.configDump(id)).then(
          (config) => (config ? json(res, 200, { config }) : json(res, 404, { error: `proxy ${id} is not connected to any control plane replica this one knows` })),
          (err: Error) => json(res, 502, { error: `cannot read proxy ${id}'s config: ${err.message}` }),
        );
        return;
      }
      case '/api/graph': {
        const graph = this.#graph(url);
        return 'error' in graph ? json(res, graph.status, { error: graph.error }) : json(res, 200, graph);
      }
      case '/api/graph/series': {
        const series = this.#series(url);
        return 'error' in series ? json(res, series.status, { error: series.error }) : json(res, 200, series);
      }
      case '/api/events':
        return this.#events(req, res, url);
      default:
        return json(res, 404, { error: `not found: ${url.pathname}` });
    }
  }

  #graph(url: URL): ServiceGraph | { status: number; error: string } {
    const data = this.#options.data;
    if (!data.graph) return { status: 404, error: 'this control plane computes no service graph' };
    const window = url.searchParams.get('window') || '60s';
    let windowMs: number;
    try {
      windowMs = parseDurationMs(window);
    } catch (err) {
      return { status: 400, error: `window: ${(err as Error).message}` };
    }
    const maxMs = data.graphHistoryMs ?? 600_000;
    if (!(windowMs >= 1000 && windowMs <= maxMs)) return { status: 400, error: `window: ${window} is outside 1s..${maxMs / 1000}s (the history kept)` };
    const namespace = url.searchParams.get('namespace') || undefined;
    return data.graph({ windowMs, window, ...(namespace !== undefined ? { namespace } : {}) });
  }

  /** Rates over time for a chart: `?edge=ID` or `?node=ID` (a service: every request into it), `&range=5m&step=15s`. */
  #series(url: URL): EdgeSeries | ServiceSeries | { status: number; error: string } {
    const data = this.#options.data;
    if (!data.series || !data.serviceSeries) return { status: 404, error: 'this control plane computes no service graph' };
    const maxMs = data.graphHistoryMs ?? 600_000;
    const duration = (name: string, fallback: string): number | string => {
      const text = url.searchParams.get(name) || fallback;
      let ms: number;
      try {
        ms = parseDurationMs(text);
      } catch (err) {
        return `${name}: ${(err as Error).message}`;
      }
      return ms >= 1000 && ms <= maxMs ? ms : `${name}: ${text} is outside 1s..${maxMs / 1000}s (the history kept)`;
    };
    const rangeMs = duration('range', '5m');
    const stepMs = duration('step', '15s');
    if (typeof rangeMs === 'string') return { status: 400, error: rangeMs };
    if (typeof stepMs === 'string') return { status: 400, error: stepMs };
    const edge = url.searchParams.get('edge');
    const node = url.searchParams.get('node');
    if (edge) return data.series({ edge, rangeMs, stepMs });
    if (!node) return { status: 400, error: 'edge or node is required: an id from /api/graph' };
    return data.serviceSeries({ node, rangeMs, stepMs });
  }

  /** Zipkin's v2 query API over the embedded store, same origin as the page. */
  #zipkin(url: URL, res: ServerResponse): void {
    const store = this.#options.data.traces;
    if (!store) return json(res, 404, { error: 'this control plane runs no trace store (--zipkin-port none)' });
    const answer = queryRoute(store, new URL(url.pathname.slice('/api/zipkin'.length) + url.search, 'http://localhost'));
    if (!answer) return json(res, 404, { error: `not part of Zipkin's v2 API: ${url.pathname}` });
    return json(res, answer.status, answer.body);
  }

  /**
   * Server-sent events: `graph` (for the page's namespace and window) and `workloads`, each sent
   * first at once and then only when it changed, so an idle page costs a comparison per tick.
   */
  #events(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const namespace = url.searchParams.get('namespace') || undefined;
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.#streams.add(res);
    const last = new Map<string, string>();
    const send = (event: string, body: unknown, compareKey: string) => {
      if (last.get(event) === compareKey) return;
      last.set(event, compareKey);
      res.write(`event: ${event}\ndata: ${JSON.stringify(body)}\n\n`);
    };
    let ticks = 0;
    const tick = () => {
      const data = this.#options.data;
      const workloads = workloadRows(data.resources(), data.proxies(), namespace);
      send('workloads', { items: workloads }, JSON.stringify(workloads));
      if (data.graph) {
        const graph = this.#graph(url);
        if (!('error' in graph)) send('graph', graph, JSON.stringify({ ...graph, generatedAt: '' }));
      }
      // A comment now and then keeps idle proxies and browsers from closing the stream.
      if (++ticks % 10 === 0) res.write(': keep-alive\n\n');
    };
    tick();
    const timer = setInterval(() => {
      try {
        tick();
      } catch (err) {
        this.#log.error('dashboard event stream failed', { error: (err as Error).message });
        res.end();
      }
    }, this.#options.liveIntervalMs ?? 2_000);
    const stop = () => {
      clearInterval(timer);
      this.#streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  }
}

/** IP literals and localhost only: a DNS name pointing at loopback is how rebinding attacks reach it. */
function allowedHost(host: string | undefined): boolean {
  if (!host) return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || isIP(name) !== 0;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

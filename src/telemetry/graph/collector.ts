/**
 * The control plane's side of the service graph: every few seconds it scrapes each connected
 * proxy's `/stats/prometheus` (as Prometheus would scrape 15090, without needing a Prometheus),
 * keeps a short history, and answers graph queries from it. Scrapes run a few at a time with a
 * timeout and a size limit, never overlap, and share nothing with the push path, so a slow or
 * hostile proxy costs one slot for at most the timeout and cannot delay a config push.
 */
import http from 'node:http';
import { silentLogger, type Logger } from '../../lib/log.js';
import { computeGraph, type GraphEdge, type GraphNode, type TcpStats } from './compute.js';
import { MetricsHistory, type HistoryLimits, type TargetInfo, type TargetStatus } from './history.js';
import { readExposition } from './series.js';

export interface ScrapeTarget extends TargetInfo {
  host: string;
  port: number;
}

export interface GraphCollectorOptions {
  /** The proxies to scrape now (the connected ones). */
  targets: () => ScrapeTarget[];
  /** Default 5 s; 0 scrapes only when scrapeOnce is called. */
  intervalMs?: number;
  /** Per scrape; default 2 s. */
  timeoutMs?: number;
  /** Scrapes in flight at once; default 8. */
  concurrency?: number;
  /** A larger answer is cut off and counted as a failed scrape; default 8 MiB. */
  maxBytes?: number;
  /** True for MESH_EXTERNAL hosts (from the registry). */
  isExternal?: (host: string) => boolean;
  history?: HistoryLimits;
  log?: Logger;
  now?: () => number;
}

export interface ServiceGraph {
  generatedAt: string;
  window: string;
  windowSeconds: number;
  namespace?: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  proxies: { scraped: number; failing: { id: string; address: string; error: string }[] };
}

export class GraphCollector {
  readonly #options: GraphCollectorOptions;
  readonly history: MetricsHistory;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #inFlight = new Set<http.ClientRequest>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;
  #started = false;

  constructor(options: GraphCollectorOptions) {
    this.#options = options;
    this.history = new MetricsHistory(options.history);
    this.#log = options.log ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    const interval = this.#options.intervalMs ?? 5_000;
    if (interval <= 0 || this.#stopped || this.#started) return;
    this.#started = true;
    const tick = (): void => {
      void this.scrapeOnce().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, interval).unref();
      });
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const req of this.#inFlight) req.destroy();
  }

  /** One round over every target; a round already running is joined, not doubled. */
  scrapeOnce(): Promise<void> {
    this.#round ??= this.#scrapeAll().finally(() => (this.#round = undefined));
    return this.#round;
  }

  async #scrapeAll(): Promise<void> {
    let targets: ScrapeTarget[];
    try {
      targets = this.#options.targets();
    } catch (err) {
      this.#log.warn('service graph: cannot list proxies', { error: (err as Error).message });
      return;
    }
    const queue = [...targets];
    const worker = async (): Promise<void> => {
      for (let t = queue.shift(); t && !this.#stopped; t = queue.shift()) await this.#scrape(t);
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.concurrency ?? 8, queue.length) }, worker));
    this.history.prune(this.#now());
  }

  async #scrape(target: ScrapeTarget): Promise<void> {
    const info: TargetInfo = { id: target.id, address: target.address, namespace: target.namespace, workload: target.workload, role: target.role };
    try {
      const text = await this.#get(target);
      const read = readExposition(text);
      if (read.badLines > 0 || read.dropped > 0) this.#log.debug('service graph: scrape partly read', { proxy: target.id, badLines: read.badLines, dropped: read.dropped });
      this.history.record(info, this.#now(), read.values, read.bounds);
    } catch (err) {
      this.history.failed(info, this.#now(), (err as Error).message);
    }
  }

  #get(target: ScrapeTarget): Promise<string> {
    const timeout = this.#options.timeoutMs ?? 2_000;
    const maxBytes = this.#options.maxBytes ?? 8 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = http.get({ host: target.host, port: target.port, path: '/stats/prometheus', agent: false, timeout, headers: { accept: 'text/plain' } }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new Error(`answer larger than ${maxBytes} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode ?? 0}`));
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', reject);
      });
      this.#inFlight.add(req);
      req.on('close', () => this.#inFlight.delete(req));
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      req.on('error', reject);
    });
  }

  #compute(windowMs: number, end: number, status: readonly TargetStatus[], namespace?: string): { nodes: GraphNode[]; edges: GraphEdge[] } {
    const { rates, latest, bounds } = this.history.rates(windowMs, end);
    const proxies = new Map<string, string>();
    for (const t of status) proxies.set(`${t.namespace}/${t.workload}`, t.role);
    return computeGraph({
      rates, latest, proxies, bounds,
      ...(this.#options.isExternal ? { isExternal: this.#options.isExternal } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
    });
  }

  /** The graph over the `windowMs` before now (at most the history's length). */
  graph(opts: { windowMs: number; window?: string; namespace?: string }): ServiceGraph {
    const now = this.#now();
    const windowMs = Math.min(Math.max(opts.windowMs, 1), this.history.historyMs);
    const status = this.history.status();
    const { nodes, edges } = this.#compute(windowMs, now, status, opts.namespace);
    return {
      generatedAt: new Date(now).toISOString(),
      window: opts.window ?? `${windowMs / 1000}s`,
      windowSeconds: windowMs / 1000,
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      nodes,
      edges,
      proxies: {
        scraped: status.filter((t) => t.lastScrapeAt !== undefined && t.error === undefined).length,
        failing: status.filter((t) => t.error !== undefined).map((t) => ({ id: t.id, address: t.address, error: t.error ?? '' }))
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      },
    };
  }

  /**
   * One edge over time, for a chart: its rates over each `stepMs` of the last `rangeMs` (both
   * within the history), oldest first. A step with no traffic on the edge is a zero, not a gap.
   */
  series(opts: { edge: string; rangeMs: number; stepMs: number }): EdgeSeries {
    const now = this.#now();
    const rangeMs = Math.min(Math.max(opts.rangeMs, 1), this.history.historyMs);
    const stepMs = Math.max(opts.stepMs, rangeMs / MAX_POINTS, 1);
    const status = this.history.status();
    const points: EdgePoint[] = [];
    for (let end = now - rangeMs + stepMs; end <= now; end += stepMs) {
      const e = this.#compute(stepMs, end, status).edges.find((x) => x.id === opts.edge);
      const point: EdgePoint = { at: new Date(end).toISOString(), requestRate: e?.requestRate ?? 0, errorRate: e?.errorRate ?? 0, p50Ms: e?.p50Ms ?? null, p99Ms: e?.p99Ms ?? null };
      if (e?.tcp) point.tcp = e.tcp;
      points.push(point);
    }
    return { edge: opts.edge, stepSeconds: stepMs / 1000, points };
  }

  /**
   * One service (or external host) over time: in each step, every HTTP/gRPC request into it,
   * whichever edge it came by, with p50/p99 from the incoming edges' duration buckets merged
   * (Istio's istio_request_duration_milliseconds summed by `le`, then histogram_quantile), so a
   * service's latency is its own, not its slowest caller's. `edges` names the incoming edges
   * that carried requests in the range.
   */
  serviceSeries(opts: { node: string; rangeMs: number; stepMs: number }): ServiceSeries {
    const now = this.#now();
    const rangeMs = Math.min(Math.max(opts.rangeMs, 1), this.history.historyMs);
    const stepMs = Math.max(opts.stepMs, rangeMs / MAX_POINTS, 1);
    const status = this.history.status();
    const points: EdgePoint[] = [];
    const edges = new Set<string>();
    for (let end = now - rangeMs + stepMs; end <= now; end += stepMs) {
      const { nodes, edges: all } = this.#compute(stepMs, end, status);
      const n = nodes.find((x) => x.id === opts.node);
      for (const e of all) if (e.target === opts.node && e.protocol !== 'tcp' && (e.requestRate ?? 0) > 0) edges.add(e.id);
      points.push({ at: new Date(end).toISOString(), requestRate: n?.requestRate ?? 0, errorRate: n?.errorRate ?? 0, p50Ms: n?.p50Ms ?? null, p99Ms: n?.p99Ms ?? null });
    }
    return { node: opts.node, edges: [...edges].sort(), stepSeconds: stepMs / 1000, latency: 'merged histogram', points };
  }
}

const MAX_POINTS = 600;

/** A service's requests over time (GraphCollector.serviceSeries). */
export interface ServiceSeries {
  node: string;
  /** The incoming edges that carried requests in the range. */
  edges: string[];
  stepSeconds: number;
  /** How p50Ms/p99Ms were made: from the incoming edges' duration buckets merged per step. */
  latency: 'merged histogram';
  points: EdgePoint[];
}

/** One step of an edge's chart; `tcp` for TCP edges with traffic in the step. */
export interface EdgePoint {
  at: string;
  requestRate: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  tcp?: TcpStats;
}

export interface EdgeSeries {
  edge: string;
  stepSeconds: number;
  points: EdgePoint[];
}

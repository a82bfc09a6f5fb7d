/**
 * Sends spans to a Zipkin collector (`POST /api/v2/spans`, JSON) off the request path: spans are
 * queued and sent in batches on a timer or when a batch fills, one POST at a time. The queue is
 * bounded; past it spans are dropped and counted (Envoy's `tracing.zipkin.*` stats), since a slow
 * collector must never cost the traffic memory or latency.
 */
import http from 'node:http';
import type { Stats } from '../stats.js';
import type { ZipkinSpan } from './span.js';

export interface ReporterOptions {
  /** `host:port` (Istio's tracing.zipkin.address) or an `http://` URL of the collector. */
  address: string;
  stats: Stats;
  /** Default 1000 ms. */
  flushIntervalMs?: number;
  /** A batch is sent when this many spans are queued; default 100. */
  batchSize?: number;
  /** Spans queued beyond this are dropped; default 10 000. */
  maxQueued?: number;
  onError?: (message: string) => void;
}

export class ZipkinReporter {
  readonly address: string;
  readonly #url: URL;
  readonly #stats: Stats;
  readonly #batchSize: number;
  readonly #maxQueued: number;
  readonly #onError: (message: string) => void;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly #timer: NodeJS.Timeout;
  #queue: ZipkinSpan[] = [];
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(opts: ReporterOptions) {
    this.address = opts.address;
    this.#url = collectorUrl(opts.address);
    this.#stats = opts.stats;
    this.#batchSize = opts.batchSize ?? 100;
    this.#maxQueued = opts.maxQueued ?? 10_000;
    this.#onError = opts.onError ?? (() => {});
    this.#timer = setInterval(() => {
      if (this.#queue.length > 0) {
        this.#stats.inc('tracing.zipkin.timer_flushed');
        void this.flush();
      }
    }, opts.flushIntervalMs ?? 1000);
    this.#timer.unref();
  }

  report(span: ZipkinSpan): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#maxQueued) {
      this.#stats.inc('tracing.zipkin.spans_dropped');
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#batchSize && this.#sending === undefined) void this.flush();
  }

  /** Sends everything queued now; resolves when it has been sent (or failed). */
  async flush(): Promise<void> {
    while (this.#sending !== undefined) await this.#sending;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#sending = this.#post(batch).finally(() => (this.#sending = undefined));
    await this.#sending;
    if (this.#queue.length >= this.#batchSize) await this.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearInterval(this.#timer);
    this.#agent.destroy();
  }

  #post(batch: ZipkinSpan[]): Promise<void> {
    const body = JSON.stringify(batch);
    return new Promise((resolve) => {
      const failed = (message: string): void => {
        this.#stats.inc('tracing.zipkin.reports_failed');
        this.#stats.inc('tracing.zipkin.spans_dropped', batch.length);
        this.#onError(message);
        resolve();
      };
      const req = http.request(
        this.#url,
        { method: 'POST', agent: this.#agent, timeout: 5000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              this.#stats.inc('tracing.zipkin.reports_sent');
              this.#stats.inc('tracing.zipkin.spans_sent', batch.length);
              resolve();
            } else failed(`collector ${this.address} answered ${status}`);
          });
          res.on('error', (err) => failed(err.message));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => failed(`collector ${this.address}: ${err.message}`));
      req.end(body);
    });
  }
}

/** `zipkin.istio-system:9411` -> `http://zipkin.istio-system:9411/api/v2/spans`; a URL keeps its path. */
export function collectorUrl(address: string): URL {
  if (/^https?:\/\//.test(address)) {
    const url = new URL(address);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/api/v2/spans';
    return url;
  }
  return new URL(`http://${address}/api/v2/spans`);
}

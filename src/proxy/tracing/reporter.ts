/**
 * Sends spans to a Zipkin collector (`POST /api/v2/spans`, JSON) or, for an opentelemetry
 * provider, to an OTLP/HTTP collector (`POST /v1/traces`, OTLP JSON, otlp.ts) off the request
 * path: spans are queued and sent in batches on a timer or when a batch fills, one POST at a time.
 * The queue is bounded; past it spans are dropped and counted (Envoy's `tracing.zipkin.*` stats;
 * `tracing.opentelemetry.*` for OTLP), since a slow collector must never cost the traffic memory
 * or latency.
 */
import http from 'node:http';
import type { OtlpExporter } from '../../proxy-config/index.js';
import type { Stats } from '../stats.js';
import type { ZipkinSpan } from './span.js';
import { otlpTraceRequest } from './otlp.js';

export interface ReporterOptions {
  /** `host:port` (Istio's tracing.zipkin.address) or an `http://` URL of the collector; for OTLP, a key naming the exporter. */
  address: string;
  /** Export as OTLP/HTTP JSON to this exporter instead of Zipkin JSON to `address`. */
  otlp?: OtlpExporter;
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
  readonly #otlp: OtlpExporter | undefined;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #stat: string;
  readonly #timer: NodeJS.Timeout;
  #queue: ZipkinSpan[] = [];
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(opts: ReporterOptions) {
    this.address = opts.address;
    this.#otlp = opts.otlp;
    this.#url = opts.otlp ? new URL(opts.otlp.url) : collectorUrl(opts.address);
    this.#headers = {};
    for (const h of opts.otlp?.headers ?? []) {
      const value = h.value ?? (h.envName !== undefined ? process.env[h.envName] : undefined);
      if (value !== undefined) this.#headers[h.name.toLowerCase()] = value;
    }
    this.#timeoutMs = opts.otlp?.timeoutMs ?? 5000;
    this.#stat = opts.otlp ? 'tracing.opentelemetry' : 'tracing.zipkin';
    this.#stats = opts.stats;
    this.#batchSize = opts.batchSize ?? 100;
    this.#maxQueued = opts.maxQueued ?? 10_000;
    this.#onError = opts.onError ?? (() => {});
    this.#timer = setInterval(() => {
      if (this.#queue.length > 0) {
        this.#stats.inc(`${this.#stat}.timer_flushed`);
        void this.flush();
      }
    }, opts.flushIntervalMs ?? 1000);
    this.#timer.unref();
  }

  report(span: ZipkinSpan): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#maxQueued) {
      this.#stats.inc(`${this.#stat}.spans_dropped`);
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
    const body = JSON.stringify(this.#otlp ? otlpTraceRequest(batch) : batch);
    return new Promise((resolve) => {
      const failed = (message: string): void => {
        this.#stats.inc(`${this.#stat}.reports_failed`);
        this.#stats.inc(`${this.#stat}.spans_dropped`, batch.length);
        this.#onError(message);
        resolve();
      };
      const req = http.request(
        this.#url,
        { method: 'POST', agent: this.#agent, timeout: this.#timeoutMs, headers: { ...this.#headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              this.#stats.inc(`${this.#stat}.reports_sent`);
              this.#stats.inc(`${this.#stat}.spans_sent`, batch.length);
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

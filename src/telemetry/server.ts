/**
 * The control plane's trace store server, speaking what trace tools speak: Zipkin's v2 HTTP API
 * on one port (9411: span ingestion at `POST /api/v2/spans` and the query API that Zipkin's UI
 * and Grafana's Zipkin data source read) and OTLP/HTTP on another (4318: `POST /v1/traces`).
 * Both ports take both ingestion formats. JSON only: protobuf, thrift bodies get 415 saying so.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import { silentLogger, type Logger } from '../lib/log.js';
import { TraceStore, type StoreLimits } from './store.js';
import { SpanFormatError, parseZipkinSpans, type Span } from './span.js';
import { parseOtlpTraces } from './otlp.js';
import { queryRoute } from './query.js';

export interface TraceServerOptions {
  /** Default 127.0.0.1. */
  address?: string;
  /** Zipkin API port; default 9411, 0 picks one. */
  zipkinPort?: number;
  /** OTLP/HTTP port; default 4318, 0 picks one. */
  otlpPort?: number;
  limits?: StoreLimits;
  log?: Logger;
}

/** Larger bodies get 413: a batch of a few thousand spans is well under it. */
const MAX_BODY = 16 * 1024 * 1024;
const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class TraceServer {
  readonly store: TraceStore;
  readonly #log: Logger;
  readonly #address: string;
  readonly #wanted: { zipkin: number; otlp: number };
  readonly #servers: http.Server[] = [];
  #ports = { zipkin: 0, otlp: 0 };
  /** Spans accepted and batches rejected, since start (for `/health`). */
  readonly counts = { spansAccepted: 0, batchesRejected: 0 };

  constructor(opts: TraceServerOptions = {}) {
    this.store = new TraceStore(opts.limits);
    this.#log = opts.log ?? silentLogger;
    this.#address = opts.address ?? '127.0.0.1';
    this.#wanted = { zipkin: opts.zipkinPort ?? 9411, otlp: opts.otlpPort ?? 4318 };
  }

  async start(): Promise<{ zipkin: number; otlp: number }> {
    const zipkin = await this.#listen(this.#wanted.zipkin);
    const otlp = await this.#listen(this.#wanted.otlp);
    this.#ports = { zipkin, otlp };
    return this.#ports;
  }

  get ports(): { zipkin: number; otlp: number } {
    return this.#ports;
  }

  /** The Zipkin-compatible base URL (`weft status`'s `tracing`). */
  get zipkinUrl(): string {
    const host = this.#address.includes(':') ? `[${this.#address}]` : this.#address;
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${this.#ports.zipkin}`;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#servers.map((s) => {
        const closed = new Promise<void>((r) => s.close(() => r()));
        s.closeAllConnections();
        return closed;
      }),
    );
    this.#servers.length = 0;
  }

  #listen(port: number): Promise<number> {
    const server = http.createServer((req, res) => {
      this.#serve(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : err instanceof SpanFormatError ? 400 : 500;
        if (status === 500) this.#log.error('trace store request failed', { error: err instanceof Error ? err.message : String(err), path: req.url });
        if (status === 400 || status === 413 || status === 415) this.counts.batchesRejected++;
        if (!res.headersSent) sendText(res, status, `${(err as Error).message}\n`);
        else res.destroy();
      });
    });
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#address, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type, content-encoding', 'access-control-max-age': '86400' });
      res.end();
      return;
    }
    if (url.pathname === '/api/v2/spans' && req.method === 'POST') {
      const spans = parseZipkinSpans(await readJson(req, 'Zipkin v2 JSON (application/json)'));
      this.#ingest(spans);
      res.writeHead(202, { 'content-length': 0 });
      res.end();
      return;
    }
    if (url.pathname === '/v1/traces' && req.method === 'POST') {
      const spans = parseOtlpTraces(await readJson(req, 'OTLP/HTTP JSON (application/json); OTLP protobuf is not supported'));
      this.#ingest(spans);
      sendJson(res, 200, {});
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method ?? ''} is not allowed on ${url.pathname}`);
    if (url.pathname === '/health') return sendJson(res, 200, { status: 'UP', zipkin: { status: 'UP', details: { spans: this.store.spanCount, traces: this.store.traceCount, evictedTraces: this.store.evictedTraces, ...this.counts } } });
    const answer = queryRoute(this.store, url);
    if (answer === undefined) throw new HttpError(404, `not found: ${url.pathname}; the Zipkin v2 API is under /api/v2/ (services, spans, remoteServices, traces, trace/{id}, traceMany, dependencies)`);
    sendJson(res, answer.status, answer.body);
  }

  #ingest(spans: Span[]): void {
    this.store.add(spans);
    this.counts.spansAccepted += spans.length;
  }
}

async function readJson(req: IncomingMessage, expected: string): Promise<unknown> {
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json' && type !== 'text/plain' && type !== '') throw new HttpError(415, `unsupported content type ${type}: send ${expected}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body = Buffer.concat(chunks);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'gzip') body = await gunzipAsync(body).catch(() => Promise.reject(new HttpError(400, 'body is not valid gzip')));
  else if (encoding === 'deflate') body = await inflateAsync(body).catch(() => Promise.reject(new HttpError(400, 'body is not valid deflate')));
  else if (encoding !== 'identity') throw new HttpError(415, `unsupported content encoding ${encoding}: send gzip or none`);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

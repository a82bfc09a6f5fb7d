/**
 * One keep-alive HTTP/1.1 connection to an upstream host, running one request at a time: the
 * request head and body are written to the socket this pool opened, the response is read with
 * Node's native parser (parser.ts) straight from the socket's reads (into the shared buffer of
 * socket.ts, no stream in between) and handed over as soon as its head is parsed: a small body
 * that came with it whole, any other streamed with backpressure (a full body buffer pauses the
 * socket; exchange.ts). How an exchange ends maps to Envoy's reset reasons: a parse error is a protocol error
 * (UPE), the upstream closing before the response ended is a connection termination (UC), an
 * abort from our side a local reset. The connection closes when the upstream asks (Connection:
 * close, HTTP/1.0), when an exchange fails, and after the idle timeout, shortened to the
 * upstream's own Keep-Alive hint so that we close before it does.
 */
import type net from 'node:net';
import type { Cancellation } from '../cancel.js';
import { ResetError } from '../errors.js';
import { flattenTrailers, http1RequestHeaders, responseHeaders } from '../headers.js';
import type { AttemptRequest, AttemptResponse, PoolConnection } from '../pool.js';
import type { SocketReader } from '../socket.js';
import { BodyWriter } from './body-writer.js';
import { Exchange, NO_TRAILERS, type ExchangeConnection } from './exchange.js';
import { responseParser, type ResponseParser } from './parser.js';
import { requestHead } from './request-head.js';

const noop = (): void => {};
/** Without a configured idle timeout: an hour, as before. */
const DEFAULT_IDLE_MS = 3_600_000;
/** Close this long before the upstream's advertised keep-alive timeout (undici's margin). */
const KEEP_ALIVE_MARGIN_MS = 2_000;
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/i;

export interface Http1ConnectionOptions {
  /** `host` header for requests that carry none (the endpoint's address). */
  defaultHost: string;
  idleTimeoutMs: number;
  onStreamEnd(conn: Http1Connection): void;
  onClosed(conn: Http1Connection): void;
}

/** Raw header pairs ([name, value, ...]) as a map: lower-case names, repeated fields as arrays. */
export function headerMap(pairs: string[], skip?: ReadonlySet<string>): Record<string, string | string[]> {
  // A plain object (fast properties), not Object.create(null), which V8 keeps as a slow
  // dictionary; the one name that would reach the prototype is dropped instead.
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = (pairs[i] as string).toLowerCase();
    if (name === '__proto__' || skip?.has(name)) continue;
    const value = pairs[i + 1] as string;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

/** The hop-by-hop fields of headers.ts, dropped while the map is built (one object, not two). */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);
/** Connection tokens that name no other header. */
const PLAIN_CONNECTION = /^\s*(?:keep-alive|close)\s*$/i;

/**
 * Response headers as the proxy core gets them (responseHeaders' rules), with the Keep-Alive
 * value the connection needs. Only a Connection header naming other fields takes the slow path.
 */
function responseHeaderMap(pairs: string[]): { headers: Record<string, string | string[]>; keepAlive: string | undefined } {
  let keepAlive: string | undefined;
  let namesOthers = false;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = pairs[i] as string;
    if (name.length === 10 && name.toLowerCase() === 'keep-alive') keepAlive = pairs[i + 1];
    else if (name.length === 10 && name.toLowerCase() === 'connection' && !PLAIN_CONNECTION.test(pairs[i + 1] as string)) namesOthers = true;
  }
  const headers = namesOthers ? responseHeaders(headerMap(pairs)) : headerMap(pairs, HOP_BY_HOP);
  return { headers, keepAlive };
}

export class Http1Connection implements PoolConnection, ExchangeConnection {
  started = 0;
  active = 0;
  closed = false;
  closing = false;
  readonly #socket: net.Socket;
  readonly #parser: ResponseParser;
  readonly #options: Http1ConnectionOptions;
  #exchange: Exchange | undefined;
  #idleMs: number;
  /** performance.now() when the last stream ended (or the connection opened). */
  #idleSince = performance.now();
  #idleTimer: NodeJS.Timeout | undefined = undefined;
  #lastError: Error | undefined;

  /** `reader`: the socket was opened with one (socket.ts) and delivers its bytes there, not as 'data'. */
  constructor(socket: net.Socket, reader: SocketReader | undefined, options: Http1ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#idleMs = Number.isFinite(options.idleTimeoutMs) && options.idleTimeoutMs > 0 ? options.idleTimeoutMs : DEFAULT_IDLE_MS;
    this.#parser = responseParser({
      onHeaders: (pairs) => this.#onHeaders(pairs),
      onHeadersComplete: (_major, _minor, headers, _method, _url, status, _message, upgrade, keepAlive) => this.#onHeadersComplete(headers, status, upgrade, keepAlive),
      onBody: (chunk) => this.#onBody(chunk),
      onMessageComplete: () => this.#onMessageComplete(),
    });
    // Not socket.setTimeout: net re-arms that timer on every read and write (~1% of a request's
    // CPU). One timer per connection is enough: it checks, when it fires, how long it has been idle.
    this.#armIdleTimer(this.#idleMs);
    if (reader) reader.onData = (chunk) => this.#onData(chunk);
    else socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => (this.#lastError = err));
    socket.once('close', () => this.#onClose());
    if (socket.destroyed) queueMicrotask(() => this.#onClose());
  }

  capacity(): number {
    return this.closed || this.closing || this.active > 0 ? 0 : 1;
  }

  close(): void {
    this.closing = true;
    if (this.active === 0) this.#socket.destroy();
  }

  destroy(): void {
    this.closing = true;
    this.#socket.destroy();
  }

  request(req: AttemptRequest, cancel: Cancellation | undefined): Promise<AttemptResponse> {
    this.active++;
    this.started++;
    return new Promise<AttemptResponse>((resolve, reject) => {
      const ex = new Exchange(this, req.method, resolve, reject);
      this.#exchange = ex;
      if (this.closed || this.#socket.destroyed) return ex.fail(new ResetError('connection termination', { cause: this.#lastError }));
      if (cancel) ex.unsubscribe = cancel.onAbort(() => ex.fail(new ResetError('local reset', { cause: cancel.reason })));
      this.#write(ex, req);
    });
  }

  #write(ex: Exchange, req: AttemptRequest): void {
    const body = req.body;
    let head: ReturnType<typeof requestHead>;
    try {
      head = requestHead(req.method, req.path, http1RequestHeaders(req.headers), body === null || Buffer.isBuffer(body) ? body : 'stream', this.#options.defaultHost);
    } catch (err) {
      ex.fail(new ResetError('local reset', { cause: err }));
      return;
    }
    const socket = this.#socket;
    if (body === null || Buffer.isBuffer(body)) {
      if (body === null || head.framing.kind === 'none') {
        socket.write(head.head, 'latin1');
      } else {
        socket.cork();
        socket.write(head.head, 'latin1');
        socket.write(body);
        socket.uncork();
      }
      return;
    }
    socket.write(head.head, 'latin1');
    ex.writer = new BodyWriter(socket, body, head.framing, noop, (err) => ex.fail(new ResetError('local reset', { cause: err })));
  }

  /** The exchange ended; the pool decides what the connection does next. */
  streamEnded(ex: Exchange): void {
    if (this.#exchange !== ex) return;
    this.#exchange = undefined;
    this.active--;
    // A body that filled up paused the socket; what comes next belongs to no body.
    if (this.#socket.isPaused()) this.#socket.resume();
    if (this.closing) this.#socket.destroy();
    this.#idleSince = performance.now();
    if (this.#idleTimer === undefined) this.#armIdleTimer(this.#idleMs);
    this.#options.onStreamEnd(this);
  }

  #armIdleTimer(ms: number): void {
    if (this.closed) return;
    this.#idleTimer = setTimeout(this.#onIdleTimer, ms);
    this.#idleTimer.unref();
  }

  #onIdleTimer = (): void => {
    this.#idleTimer = undefined;
    // Busy: streamEnded arms it again.
    if (this.closed || this.active > 0) return;
    const left = this.#idleMs - (performance.now() - this.#idleSince);
    if (left <= 0) this.#socket.destroy();
    else this.#armIdleTimer(left);
  };

  resumeFor(ex: Exchange): void {
    if (this.#exchange === ex && this.#socket.isPaused()) this.#socket.resume();
  }

  #onData(chunk: Buffer): void {
    if (!this.#exchange) {
      // Bytes nobody asked for: the connection's state is unknown, never reuse it.
      this.closing = true;
      this.#socket.destroy();
      return;
    }
    const result = this.#parser.execute(chunk);
    if (typeof result !== 'number') {
      this.#exchange?.fail(new ResetError('protocol error', { cause: result }));
      this.#socket.destroy();
    }
  }

  #onEnd(): void {
    this.closing = true;
    // The end of input completes a body delimited by the connection's close (no length).
    const err = this.#exchange ? this.#parser.finish() : undefined;
    this.#exchange?.fail(new ResetError('connection termination', { cause: err ?? this.#lastError }));
  }

  #onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    clearTimeout(this.#idleTimer);
    this.#exchange?.fail(new ResetError('connection termination', { cause: this.#lastError }));
    this.#options.onClosed(this);
    const parser = this.#parser;
    // Freed outside any parser callback, as node:http does.
    setImmediate(() => parser.close());
  }

  #onHeaders(pairs: string[]): void {
    const ex = this.#exchange;
    if (ex) for (const p of pairs) ex.pairs.push(p);
  }

  #onHeadersComplete(raw: string[] | null, status: number, upgrade: boolean, keepAlive: boolean): number {
    const ex = this.#exchange;
    if (!ex || ex.finished) return -1;
    const pairs = raw ?? ex.pairs;
    ex.pairs = [];
    if (status === 101 || upgrade) {
      // Never asked for: upgrades go through tunnels, not this pool.
      ex.fail(new ResetError('protocol error', { cause: new Error(`unexpected upgrade response ${status}`) }));
      return -1;
    }
    if (status < 200) {
      ex.informational = true;
      return 0;
    }
    const { headers, keepAlive: hint } = responseHeaderMap(pairs);
    if (!keepAlive) this.closing = true;
    else if (hint !== undefined) this.#keepAliveHint(hint);
    // Consumers run a microtask later, after execute() has returned: by then a body that came
    // in the same read as the head is complete, and they get it whole.
    ex.respond(status, headers);
    return ex.method === 'HEAD' ? 1 : 0;
  }

  #keepAliveHint(value: string): void {
    const m = KEEP_ALIVE_TIMEOUT.exec(value);
    if (!m) return;
    const ms = Math.min(Number(m[1]) * 1000 - KEEP_ALIVE_MARGIN_MS, this.#idleMs);
    if (ms <= 0) this.closing = true;
    else if (ms !== this.#idleMs) {
      this.#idleMs = ms;
      clearTimeout(this.#idleTimer);
      this.#armIdleTimer(ms);
    }
  }

  #onBody(chunk: Buffer): void {
    const ex = this.#exchange;
    if (ex && !ex.onBody(chunk)) this.#socket.pause();
  }

  #onMessageComplete(): void {
    const ex = this.#exchange;
    if (!ex || ex.finished) return;
    if (ex.informational) {
      ex.informational = false;
      ex.pairs = [];
      return;
    }
    const trailers = ex.pairs.length > 0 ? flattenTrailers(headerMap(ex.pairs)) : NO_TRAILERS;
    ex.complete(trailers);
  }
}

/**
 * A connection pool for one host, in the shape of Envoy's ConnPoolImplBase, shared by the
 * HTTP/1.1 and HTTP/2 pools, which only say how a connection carries streams:
 * - a request takes a ready connection (most recently used first) if one has capacity;
 * - otherwise it waits as a *pending* request (circuit breaker maxPendingRequests; overflow
 *   fails it at once) and the pool opens a connection unless the cluster is at maxConnections,
 *   except that a host with no connection at all always gets one, as in Envoy;
 * - attaching a stream to a connection counts against maxRequests (overflow fails it);
 * - after maxRequestsPerConnection streams a connection closes once idle;
 * - a failed connect fails the pending requests that no other connect in progress can serve.
 */
import type net from 'node:net';
import type { Readable } from 'node:stream';
import type { TcpKeepalive } from '../../proxy-config/index.js';
import type { Cancellation } from './cancel.js';
import type { CircuitBreakers } from './circuit-breakers.js';
import { ResetError } from './errors.js';
import type { Headers } from './headers.js';
import { openSocket, type ConnectTarget, type SocketReader } from './socket.js';
import { originationFor, type ClusterTls } from './tls.js';

export interface AttemptRequest {
  method: string;
  path: string;
  headers: Headers;
  body: Readable | Buffer | null;
}

export interface AttemptResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The body as a stream (made on first use where completeBody can stand for it). */
  readonly body: Readable;
  /**
   * The whole body, already received (HTTP/1.1, a Content-Length up to 16 KiB, so no trailers):
   * a consumer can take it instead of reading `body`. Undefined when the body still streams.
   */
  readonly completeBody?: Buffer;
  /** Resolves when the response ends: its trailers, or {} if none or the stream was cut. Never rejects. */
  readonly trailers: Promise<Record<string, string>>;
  /** Runs `fn` once the stream is over (at once if it is): null if the response completed, the reset otherwise. */
  onDone(fn: (err: ResetError | null) => void): void;
  readonly protocol: 'http1' | 'http2';
}

export interface AttemptOptions {
  cancel?: Cancellation;
  /** The request got a connection (Envoy's onPoolReady), for local-origin outlier detection. */
  onAttached?: () => void;
}

export interface PoolSettings {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  tls?: ClusterTls;
  /** Source address of new connections (the cluster's upstreamBindAddress). */
  localAddress?: string;
  /** The cluster's tcpKeepalive. */
  keepalive?: TcpKeepalive;
}

export interface PoolConnection {
  readonly closed: boolean;
  /** No new streams; closes when its last stream ends. */
  readonly closing: boolean;
  /** Streams ever started on this connection. */
  started: number;
  /** Streams running now. */
  active: number;
  /** Streams this connection could start now. */
  capacity(maxRequestsPerConnection: number): number;
  close(): void;
  destroy(): void;
}

interface Waiter {
  req: AttemptRequest;
  opts: AttemptOptions;
  resolve: (res: AttemptResponse) => void;
  reject: (err: ResetError) => void;
  unsubscribe?: () => void;
}

export abstract class ConnectionPool<C extends PoolConnection> {
  #ready: C[] = [];
  #readySet = new Set<C>();
  #conns = new Set<C>();
  #connecting = 0;
  #queue: Waiter[] = [];
  #draining = false;
  #closed = false;
  #drained: (() => void)[] = [];

  constructor(
    protected readonly target: ConnectTarget,
    protected readonly settings: () => PoolSettings,
    protected readonly breakers: CircuitBreakers,
  ) {}

  /** Which ALPN list a TLS connection of this pool offers. */
  protected readonly alpnProtocol: 'http1' | 'http2' = 'http1';
  /** How many pending requests one connection being opened will be able to take. */
  protected abstract streamsPerNewConnection(maxRequestsPerConnection: number): number;
  /** Wraps a connected socket; the connection must call connectionClosed() when it closes. */
  protected abstract wrap(socket: net.Socket, reader: SocketReader | undefined): C;
  /** A reader for a new socket (socket.ts), when the connection reads it that way. */
  protected socketReader(): SocketReader | undefined {
    return undefined;
  }
  /** Starts a stream; must call streamEnded() exactly once when it is over. */
  protected abstract start(conn: C, req: AttemptRequest, cancel: Cancellation | undefined): Promise<AttemptResponse>;

  get connections(): number {
    return this.#conns.size + this.#connecting;
  }

  get pending(): number {
    return this.#queue.length;
  }

  get activeStreams(): number {
    let n = 0;
    for (const c of this.#conns) n += c.active;
    return n;
  }

  request(req: AttemptRequest, opts: AttemptOptions = {}): Promise<AttemptResponse> {
    if (this.#closed) return Promise.reject(new ResetError('connection termination'));
    if (opts.cancel?.aborted) return Promise.reject(new ResetError('local reset', { cause: opts.cancel.reason }));
    const conn = this.#takeReady();
    if (conn) return this.#attach(conn, req, opts);
    if (!this.breakers.tryAcquire('pending')) return Promise.reject(new ResetError('overflow'));
    return new Promise<AttemptResponse>((resolve, reject) => {
      const waiter: Waiter = { req, opts, resolve, reject };
      const cancel = opts.cancel;
      if (cancel) waiter.unsubscribe = cancel.onAbort(() => this.#cancel(waiter, new ResetError('local reset', { cause: cancel.reason })));
      this.#queue.push(waiter);
      this.#maybeConnect();
    });
  }

  /** Stop taking new work: idle connections close now, busy ones when their streams end. */
  drain(): Promise<void> {
    this.#draining = true;
    for (const c of this.#conns) if (c.active === 0 && this.#queue.length === 0) c.close();
    return new Promise((resolve) => {
      this.#drained.push(resolve);
      this.#checkDrained();
    });
  }

  /** Everything ends now: pending requests fail, connections are destroyed. */
  close(): void {
    this.#closed = true;
    this.#draining = true;
    for (const w of this.#queue.splice(0)) this.#fail(w, new ResetError('connection termination'));
    for (const c of [...this.#conns]) c.destroy();
    this.#checkDrained();
  }

  protected streamEnded(conn: C): void {
    this.breakers.release('requests');
    const maxPer = this.breakers.maxRequestsPerConnection;
    if (conn.closing || (maxPer > 0 && conn.started >= maxPer)) {
      conn.close();
      return;
    }
    this.#connReady(conn);
  }

  protected connectionClosed(conn: C): void {
    if (!this.#conns.delete(conn)) return;
    this.breakers.release('connections');
    this.#readySet.delete(conn);
    if (this.#queue.length > 0) this.#maybeConnect();
    this.#checkDrained();
  }

  /** A connection may take more streams now (connected, stream ended, peer raised its limit). */
  protected connReady(conn: C): void {
    this.#connReady(conn);
  }

  #takeReady(): C | undefined {
    const maxPer = this.breakers.maxRequestsPerConnection;
    while (this.#ready.length > 0) {
      const c = this.#ready[this.#ready.length - 1] as C;
      if (!c.closed && !c.closing && this.#readySet.has(c) && c.capacity(maxPer) > 0) return c;
      this.#ready.pop();
      this.#readySet.delete(c);
    }
    return undefined;
  }

  #attach(conn: C, req: AttemptRequest, opts: AttemptOptions): Promise<AttemptResponse> {
    if (!this.breakers.tryAcquire('requests')) return Promise.reject(new ResetError('overflow'));
    opts.onAttached?.();
    return this.start(conn, req, opts.cancel);
  }

  #connReady(conn: C): void {
    if (conn.closed || conn.closing) return;
    const maxPer = this.breakers.maxRequestsPerConnection;
    while (this.#queue.length > 0 && conn.capacity(maxPer) > 0) {
      const w = this.#queue.shift() as Waiter;
      this.#unlisten(w);
      this.breakers.release('pending');
      this.#attach(conn, w.req, w.opts).then(w.resolve, w.reject);
    }
    if (this.#draining && conn.active === 0) {
      conn.close();
      return;
    }
    if (conn.capacity(maxPer) > 0 && !this.#readySet.has(conn)) {
      this.#ready.push(conn);
      this.#readySet.add(conn);
    }
  }

  #maybeConnect(): void {
    const perConnection = Math.max(1, this.streamsPerNewConnection(this.breakers.maxRequestsPerConnection));
    while (!this.#closed && this.#queue.length > this.#connecting * perConnection) {
      if (!this.breakers.canCreate('connections') && this.connections > 0) {
        this.breakers.overflow.connections++;
        return;
      }
      this.breakers.acquire('connections');
      this.#connecting++;
      const settings = this.settings();
      const origination = originationFor(settings.tls, this.target.tlsMode, this.target.workload);
      const reader = this.socketReader();
      openSocket(this.target, settings.connectTimeoutMs, origination ? { origination, protocol: this.alpnProtocol } : undefined, settings.localAddress, settings.keepalive, reader).then(
        (socket) => this.#connected(socket, reader),
        (err: unknown) => this.#connectFailed(err instanceof ResetError ? err : new ResetError('connection failure', { cause: err })),
      );
    }
  }

  #connected(socket: net.Socket, reader: SocketReader | undefined): void {
    this.#connecting--;
    if (this.#closed) {
      socket.destroy();
      this.breakers.release('connections');
      this.#checkDrained();
      return;
    }
    let conn: C;
    try {
      conn = this.wrap(socket, reader);
    } catch (err) {
      socket.destroy();
      this.#connectFailed(new ResetError('connection failure', { cause: err }));
      return;
    }
    this.#conns.add(conn);
    this.#connReady(conn);
  }

  #connectFailed(err: ResetError): void {
    this.#connecting--;
    this.breakers.release('connections');
    const perConnection = Math.max(1, this.streamsPerNewConnection(this.breakers.maxRequestsPerConnection));
    while (this.#queue.length > this.#connecting * perConnection) {
      const w = this.#queue.shift() as Waiter;
      this.#unlisten(w);
      this.breakers.release('pending');
      w.reject(err);
    }
    this.#checkDrained();
  }

  #cancel(waiter: Waiter, err: ResetError): void {
    const i = this.#queue.indexOf(waiter);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    this.#fail(waiter, err);
    this.#checkDrained();
  }

  #fail(waiter: Waiter, err: ResetError): void {
    this.#unlisten(waiter);
    this.breakers.release('pending');
    waiter.reject(err);
  }

  #unlisten(w: Waiter): void {
    w.unsubscribe?.();
  }

  #checkDrained(): void {
    if (!this.#draining || this.#conns.size > 0 || this.#connecting > 0 || this.#queue.length > 0) return;
    for (const resolve of this.#drained.splice(0)) resolve();
  }
}

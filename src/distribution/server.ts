/**
 * The push server: holds one stream per connected proxy and pushes each its compiled config,
 * the way istiod serves ADS. A change goes: notifyChange -> debounce (a burst becomes one push)
 * -> the affected connected proxies are queued -> each is recompiled -> sent only if its content
 * hash differs from what it was last sent, and then only the resources that changed (a delta,
 * resources.ts; the whole config on connect) -> the proxy ACKs or NACKs. The server knows nothing of
 * resources or the compiler: it is handed `compile` and `authenticate`, and the control plane
 * wires them.
 */
import { EventEmitter } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ProxyConfig, ProxyNode } from '../proxy-config/index.js';
import { realNow, realSetTimer, type CancelTimer, type Now, type SetTimer } from './clock.js';
import { Debouncer } from './debounce.js';
import { keepAlive } from './keepalive.js';
import { MetricsRegistry, type Counter } from './metrics.js';
import {
  CONTENT_TYPE, DEFAULT_MAX_MESSAGE_BYTES, FrameDecoder, REPLICA_HEADER, STREAM_PATH, encodeFrame, parseClientMessage,
  type AckMessage, type ResyncMessage, type ClientMessage, type CsrMessage, type ErrorMessage, type HelloMessage, type IssuedCertificate, type NackMessage,
} from './protocol.js';
import { proxyStatus, pushMetrics, type Connection, type ProxyStatus, type PushMetrics } from './status.js';
import { clientCertificateOptions, identityMismatch, peerCredential, type AuthMethod, type SpiffeIdentity } from './peer-auth.js';
import { deltaFrame, fullFrame, indexConfig, type ConfigIndex } from './resources.js';

/** Which proxies a change concerns; 'all' for mesh-wide changes. */
export type Affects = NodePredicate | 'all';
type NodePredicate = (node: ProxyNode) => boolean;

export interface PushServerOptions {
  compile: (node: ProxyNode) => ProxyConfig;
  /** Checks the proxy's credential against the identity it claims. */
  authenticate: (token: string, node: ProxyNode) => boolean;
  /**
   * A proxy that presents a valid workload certificate (chained to the TLS `ca`, unexpired, one
   * SPIFFE identity matching the hello's namespace and service account) is authenticated by it
   * instead of its token; this may refuse it further (trust domain). Default: accepted.
   */
  authenticateCertificate?: (identity: SpiffeIdentity, node: ProxyNode) => boolean;
  /**
   * Signs a CSR from an authenticated proxy for the identity its node (checked by `authenticate`)
   * carries; throws to refuse. Without it, CSRs are answered with an error (no CA here).
   */
  sign?: (node: ProxyNode, csr: string) => IssuedCertificate | Promise<IssuedCertificate>;
  replicaId: string;
  /** Quiet period before a push (Istio's PILOT_DEBOUNCE_AFTER). Default 100. */
  debounceMs?: number;
  /** Longest a push waits under a steady stream of changes (PILOT_DEBOUNCE_MAX). Default 10 000. */
  debounceMaxMs?: number;
  now?: Now;
  setTimer?: SetTimer;
  /** Serve HTTP/2 over TLS (workload certificates) instead of cleartext h2c. */
  tls?: http2.SecureServerOptions;
  /** Register metrics here (the control plane's 15014 registry); default a registry of its own. */
  metrics?: MetricsRegistry;
  /** HTTP/2 PING interval per proxy session; a missed answer drops the session. Default 30 000, 0 disables. */
  keepaliveMs?: number;
  /** A stream that sends no hello within this time is closed. Default 10 000. */
  helloTimeoutMs?: number;
  maxMessageBytes?: number;
  /** Proxies compiled per event-loop turn, so ACKs and new streams are served during a big push. Default 100. */
  pushBatch?: number;
}

export interface PushServerEvents {
  connected: [status: ProxyStatus];
  disconnected: [nodeId: string, reason: string];
  pushed: [nodeId: string, version: string];
  /** latencyMs runs from the change to the ACK; absent for the config sent on connect. */
  ack: [nodeId: string, version: string, latencyMs: number | undefined];
  nack: [nodeId: string, version: string, error: string];
  'config-error': [nodeId: string, error: string];
  'auth-rejected': [nodeId: string, reason: string];
  'certificate-issued': [nodeId: string];
  'certificate-refused': [nodeId: string, error: string];
}

/** A NACK's error text is kept and shown, so bound what one proxy can make us hold. */
const MAX_ERROR_CHARS = 2048;

export class PushServer extends EventEmitter<PushServerEvents> {
  readonly metrics: PushMetrics;
  readonly registry: MetricsRegistry;
  readonly #options: PushServerOptions;
  readonly #now: Now;
  readonly #setTimer: SetTimer;
  readonly #maxBytes: number;
  readonly #server: http2.Http2Server | http2.Http2SecureServer;
  #secure: http2.Http2SecureServer | undefined;
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  readonly #connections = new Set<Connection>();
  readonly #debouncer: Debouncer<NodePredicate[] | 'all'>;
  /** Proxies waiting to be recompiled, with the time of the earliest change that concerns them. */
  readonly #queue = new Map<Connection, number>();
  /** A change is waiting out the debounce. */
  #debouncing = false;
  #draining = false;
  /** Proxies with a frame still being written. */
  #writing = 0;
  readonly #compiles: Counter;
  #nextConnectionId = 0;
  #nextNonce = 0;

  constructor(options: PushServerOptions) {
    super();
    this.#options = options;
    this.#now = options.now ?? realNow;
    this.#setTimer = options.setTimer ?? realSetTimer;
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.registry = options.metrics ?? new MetricsRegistry();
    this.metrics = pushMetrics(this.registry);
    this.#debouncer = new Debouncer<NodePredicate[] | 'all'>({
      quietMs: options.debounceMs ?? 100,
      maxMs: options.debounceMaxMs ?? 10_000,
      now: this.#now,
      setTimer: this.#setTimer,
      merge: (a, b) => (a === 'all' || b === 'all' ? 'all' : [...a, ...b]),
      fire: (affects, firstAt) => {
        this.#debouncing = false;
        this.#enqueue(affects, firstAt);
      },
    });
    this.#compiles = this.registry.counter('weft_proxy_config_compiles', 'Proxy configs compiled, on connect and for the proxies a change can affect (the others keep theirs).');
    this.#server = options.tls ? http2.createSecureServer(options.tls) : http2.createServer();
    this.#serve(this.#server);
  }

  #serve(server: http2.Http2Server | http2.Http2SecureServer): void {
    const options = this.#options;
    server.on('session', (session) => {
      this.#sessions.add(session);
      const stopPings = keepAlive(session, options.keepaliveMs ?? 30_000, this.#setTimer, () => session.destroy());
      session.on('close', () => {
        stopPings();
        this.#sessions.delete(session);
      });
      session.on('error', () => {}); // its streams close and report; nothing else to do
    });
    server.on('stream', (stream, headers) => this.#onStream(stream, headers));
  }

  /**
   * Also serves the same streams over TLS (istiod's 15012 beside the plaintext 15010): `key`/`cert`
   * are the serving certificate, `roots` the mesh trust bundle proxies' certificates must chain to.
   */
  listenSecure(port: number, host: string, tls: { key: string; cert: string; roots: string }): Promise<number> {
    if (this.#secure) return Promise.reject(new Error('the TLS port is already served'));
    const server = http2.createSecureServer({ key: tls.key, cert: tls.cert, ...clientCertificateOptions(tls.roots) });
    this.#secure = server;
    this.#serve(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /** A renewed serving certificate: new handshakes use it, open streams keep theirs. */
  renewServingCertificate(tls: { key: string; cert: string; roots: string }): void {
    this.#secure?.setSecureContext({ key: tls.key, cert: tls.cert, ca: tls.roots });
  }

  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops listening and drops every stream; proxies fail over to another replica. */
  async close(): Promise<void> {
    this.#debouncer.cancel();
    this.#debouncing = false;
    this.#queue.clear();
    for (const session of this.#sessions) session.destroy();
    await Promise.all([this.#server, this.#secure].map((server) => (server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined)));
  }

  /** Records a config change; after the debounce, affected proxies are recompiled and pushed if changed. */
  notifyChange(affects: Affects): void {
    this.#debouncing = true;
    this.#debouncer.add(affects === 'all' ? 'all' : [affects]);
  }

  /** No change waiting and no proxy queued for recompiling: every push of the changes so far is sent. */
  idle(): boolean {
    if (this.#debouncing || this.#draining || this.#queue.size > 0) return false;
    // A proxy whose stream is still busy with an earlier frame has a push waiting too.
    if (this.#writing > 0) for (const conn of this.#connections) if (conn.deferred !== undefined) return false;
    return true;
  }

  /** Bytes written to proxies' streams and not yet sent (HTTP/2 flow control holds them): one frame per proxy at most. */
  bufferedBytes(): number {
    let bytes = 0;
    for (const conn of this.#connections) bytes += conn.stream.writableLength;
    return bytes;
  }

  proxies(): ProxyStatus[] {
    return [...this.#connections].map((c) => proxyStatus(c, this.#options.replicaId));
  }

  /** Each connected proxy's node and the metrics port its hello named: what the service graph scrapes. */
  connectedNodes(): { node: ProxyNode; prometheusPort?: number }[] {
    return [...this.#connections].map((c) => ({ node: c.node, ...(c.prometheusPort !== undefined ? { prometheusPort: c.prometheusPort } : {}) }));
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => {}); // 'close' follows and does the cleanup
    if (headers[':path'] !== STREAM_PATH || headers[':method'] !== 'POST') {
      stream.respond({ ':status': headers[':path'] !== STREAM_PATH ? 404 : 405 }, { endStream: true });
      return;
    }
    const decoder = new FrameDecoder(this.#maxBytes);
    let conn: Connection | undefined;
    let ended = false;
    const timers: CancelTimer[] = [];
    const reject = (code: ErrorMessage['code'], message: string, status = 400): void => {
      if (ended) return;
      ended = true;
      if (!stream.headersSent) stream.respond({ ':status': status, 'content-type': CONTENT_TYPE });
      stream.end(encodeFrame({ type: 'error', code, message }));
      // The client closes on the error message; a client that does not is cut off.
      timers.push(this.#setTimer(() => stream.close(http2.constants.NGHTTP2_CANCEL), 5_000));
    };
    const cancelHelloTimer = this.#setTimer(() => reject('TIMEOUT', 'no hello received'), this.#options.helloTimeoutMs ?? 10_000);
    timers.push(cancelHelloTimer);
    stream.on('data', (chunk: Buffer) => {
      if (ended) return;
      let messages: ClientMessage[];
      try {
        messages = decoder.push(chunk).map(parseClientMessage);
      } catch (error) {
        return reject('PROTOCOL', error instanceof Error ? error.message : String(error));
      }
      for (const message of messages) {
        if (ended) return;
        if (conn) {
          if (message.type === 'hello') return reject('PROTOCOL', 'hello sent twice');
          if (message.type === 'csr') void this.#onCsr(conn, message);
          else if (message.type === 'resync') this.#onResync(conn, message);
          else this.#onReply(conn, message);
        } else if (message.type !== 'hello') {
          return reject('PROTOCOL', `expected hello, got ${message.type}`);
        } else {
          const auth = this.#authenticate(message, stream.session);
          if (auth.refused !== undefined) return reject('UNAUTHENTICATED', auth.refused, 401);
          cancelHelloTimer();
          conn = this.#accept(stream, message, auth.method);
        }
      }
    });
    stream.on('close', () => {
      for (const cancel of timers) cancel();
      if (conn) this.#remove(conn, stream.rstCode ? `stream reset (code ${stream.rstCode})` : 'stream closed');
    });
  }

  /** A presented certificate decides (a bad one is refused, whatever the token); else the token. */
  #authenticate(hello: HelloMessage, session: http2.Http2Session | undefined): { method: AuthMethod; refused?: undefined } | { refused: string } {
    const peer = peerCredential(session);
    let refused: string | undefined;
    try {
      if (peer.kind === 'invalid') refused = peer.reason;
      else if (peer.kind === 'certificate') {
        refused = identityMismatch(peer.identity, hello.node)
          ?? (this.#options.authenticateCertificate?.(peer.identity, hello.node) === false ? `its certificate's identity ${peer.uri} is not accepted here` : undefined);
      } else if (this.#options.authenticate(hello.token, hello.node) !== true) refused = 'bad token';
    } catch {
      refused = 'the credential could not be checked'; // a failing authenticator denies, never admits
    }
    if (refused === undefined) return { method: peer.kind === 'certificate' ? 'certificate' : 'token' };
    this.emit('auth-rejected', hello.node.id, refused);
    // A bad token says no more than that (the wording proxies and tests know); a certificate says why.
    return { refused: `proxy ${hello.node.id} is not authenticated${peer.kind === 'none' ? '' : `: ${refused}`}` };
  }

  #accept(stream: http2.ServerHttp2Stream, hello: HelloMessage, auth: AuthMethod): Connection {
    stream.respond({ ':status': 200, 'content-type': CONTENT_TYPE, [REPLICA_HEADER]: this.#options.replicaId });
    const conn: Connection = { id: ++this.#nextConnectionId, node: hello.node, stream, connectedAt: this.#now(), closed: false, auth };
    if (hello.prometheusPort !== undefined) conn.prometheusPort = hello.prometheusPort;
    if (hello.lastVersion !== undefined) {
      // The proxy already serves this version (from this or another replica); push only if it differs.
      conn.sent = { version: hello.lastVersion, nonce: '' };
      conn.acked = hello.lastVersion;
    }
    this.#connections.add(conn);
    this.metrics.connected.inc();
    this.emit('connected', proxyStatus(conn, this.#options.replicaId));
    this.#push(conn, undefined);
    return conn;
  }

  #remove(conn: Connection, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    this.#connections.delete(conn);
    this.#queue.delete(conn);
    // A write the closed stream will never complete must not keep the server from being idle.
    if (conn.writing) this.#written(conn);
    this.metrics.connected.dec();
    this.emit('disconnected', conn.node.id, reason);
  }

  /**
   * The proxy could not rebuild the last delta: its base is not what we think it holds. Forget
   * what was sent and send the whole config; the push it answers stays pending, so its latency
   * runs on to the ACK of the whole config.
   */
  #onResync(conn: Connection, message: ResyncMessage): void {
    if (!conn.sent || message.nonce !== conn.sent.nonce) return;
    conn.sentIndex = undefined;
    conn.resync = true;
    this.#push(conn, conn.pendingSince);
  }

  #onReply(conn: Connection, message: AckMessage | NackMessage): void {
    // An answer to an older push (crossed on the wire by a newer one) says nothing about the current one.
    if (!conn.sent || message.nonce !== conn.sent.nonce) return;
    const version = conn.sent.version;
    const latencyMs = conn.pendingSince === undefined ? undefined : this.#now() - conn.pendingSince;
    conn.pendingSince = undefined;
    if (message.type === 'ack') {
      conn.acked = version;
      conn.nacked = undefined;
      if (latencyMs !== undefined) this.metrics.pushLatency.observe(latencyMs / 1000);
      this.emit('ack', conn.node.id, version, latencyMs);
    } else {
      const error = message.error.slice(0, MAX_ERROR_CHARS);
      conn.nacked = { version, error };
      this.metrics.nacks.inc();
      this.emit('nack', conn.node.id, version, error);
    }
  }

  async #onCsr(conn: Connection, message: CsrMessage): Promise<void> {
    this.metrics.csrs.inc();
    const answer = (body: IssuedCertificate | { error: string }): void => {
      if (!conn.closed && !conn.stream.destroyed) conn.stream.write(encodeFrame({ type: 'certificate', requestId: message.requestId, ...body }));
    };
    const refuse = (error: string): void => {
      this.metrics.csrErrors.inc();
      this.emit('certificate-refused', conn.node.id, error);
      answer({ error });
    };
    if (!this.#options.sign) return refuse('this control plane has no certificate authority');
    if (conn.signing) return refuse('a certificate request from this proxy is already being signed');
    conn.signing = true;
    try {
      const issued = await this.#options.sign(conn.node, message.csr);
      this.metrics.certificatesIssued.inc();
      this.emit('certificate-issued', conn.node.id);
      answer({ certificateChain: issued.certificateChain, trustBundle: issued.trustBundle });
    } catch (error) {
      refuse((error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_CHARS));
    } finally {
      conn.signing = false;
    }
  }

  #enqueue(affects: NodePredicate[] | 'all', changedAt: number): void {
    for (const conn of this.#connections) {
      if (affects !== 'all' && !affects.some((test) => concerns(test, conn.node))) continue;
      const queued = this.#queue.get(conn);
      this.#queue.set(conn, queued === undefined ? changedAt : Math.min(queued, changedAt));
    }
    if (!this.#draining && this.#queue.size > 0) {
      this.#draining = true;
      setImmediate(() => this.#drain());
    }
  }

  /** Pushes a batch, then yields to the event loop, like Istio's push queue with its throttle. */
  #drain(): void {
    let budget = this.#options.pushBatch ?? 100;
    for (const [conn, changedAt] of this.#queue) {
      this.#queue.delete(conn);
      this.#push(conn, changedAt);
      if (--budget === 0) break;
    }
    if (this.#queue.size > 0) setImmediate(() => this.#drain());
    else this.#draining = false;
  }

  /**
   * Compiles for one proxy and sends what changed since the last push: a delta against what this
   * stream was last sent, or the whole config on connect and after a resync. One frame per proxy
   * is in flight at a time: while the last one is still being written (a slow reader, HTTP/2 flow
   * control), a newer change only marks the proxy, and on the write's completion it is recompiled
   * once, so a proxy that reads slowly gets the latest config, not every config in between, and
   * the server never buffers more than one frame for it.
   */
  #push(conn: Connection, changedAt: number | undefined): void {
    if (conn.closed) return;
    if (conn.writing) {
      if (changedAt !== undefined) conn.deferred = conn.deferred === undefined || conn.deferred === null ? changedAt : Math.min(conn.deferred, changedAt);
      else conn.deferred ??= null;
      return;
    }
    const nonce = String(++this.#nextNonce);
    let frame: Buffer;
    let index: ConfigIndex;
    try {
      this.#compiles.inc();
      index = indexConfig(this.#options.compile(conn.node));
      if (index.version === conn.sent?.version && !conn.resync) {
        // A reconnect with the current lastVersion: nothing to send, and this is the base of the next delta.
        conn.sentIndex ??= index;
        return;
      }
      const base = conn.sentIndex;
      frame = base && base.deltaSafe && index.deltaSafe ? deltaFrame(base, index, nonce, this.#maxBytes) : fullFrame(index, nonce, this.#maxBytes);
    } catch (error) {
      // A proxy never receives config that could not be fully built; it keeps what it has.
      this.metrics.configErrors.inc();
      this.emit('config-error', conn.node.id, error instanceof Error ? error.message : String(error));
      return;
    }
    conn.writing = true;
    this.#writing++;
    conn.stream.write(frame, () => this.#written(conn));
    conn.sent = { version: index.version, nonce };
    conn.sentIndex = index;
    conn.resync = false;
    if (changedAt !== undefined) conn.pendingSince ??= changedAt;
    this.metrics.pushes.inc();
    this.emit('pushed', conn.node.id, index.version);
  }

  /** The last frame left (or the stream died): a change that came meanwhile is pushed now. */
  #written(conn: Connection): void {
    if (!conn.writing) return;
    conn.writing = false;
    this.#writing--;
    const deferred = conn.deferred;
    conn.deferred = undefined;
    if (deferred !== undefined && !conn.closed) this.#push(conn, deferred ?? undefined);
  }
}

/** A predicate that throws is treated as "affected": recompiling is safe, missing a change is not. */
function concerns(test: NodePredicate, node: ProxyNode): boolean {
  try {
    return test(node);
  } catch {
    return true;
  }
}

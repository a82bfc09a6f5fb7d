/**
 * The proxy's side of config distribution: one stream to one control plane replica, configs
 * applied through the proxy's own `apply`, each answered with an ACK or a NACK.
 *
 * Failing safe is the point of this file. A rejected config is never half-applied (`apply` either
 * takes all of it or none) and the last good one stays current. When the stream drops, the proxy
 * keeps serving that config unchanged while the client reconnects with backoff, moving on to the
 * next replica each time, and tells the server which version it already has so an unchanged
 * config is not sent again.
 *
 * The proxy imports this file alone: it may import only proxy-config, lib and node built-ins
 * (and the client-safe clock, backoff and protocol files beside it).
 */
import { EventEmitter } from 'node:events';
import * as http2 from 'node:http2';
import type { ProxyConfig, ProxyNode } from '../proxy-config/index.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { realNow, realSetTimer, type CancelTimer, type Now, type SetTimer } from './clock.js';
import { keepAlive } from './keepalive.js';
import {
  CONTENT_TYPE, DEFAULT_MAX_MESSAGE_BYTES, FrameDecoder, REPLICA_HEADER, STREAM_PATH,
  encodeFrame, parseServerMessage, type CertificateMessage, type ClientMessage, type ConfigMessage, type DeltaMessage, type IssuedCertificate, type ServerMessage,
} from './protocol.js';
import { applyDelta } from './delta.js';

/** A certificate request the control plane refused, or that could not be answered (no stream, timeout). */
export class CertificateRequestError extends Error {}

export type ApplyResult = { ok: true } | { ok: false; error: string };

export interface DiscoveryClientOptions {
  /** Control plane replicas, e.g. `http://istiod.istio-system:15010` (h2c) or `https://...:15012` (TLS). */
  servers: string[];
  node: ProxyNode;
  token: string;
  /** Told to the control plane in the hello, so it can scrape this proxy's metrics for the service graph. */
  prometheusPort?: number;
  /**
   * Installs a config completely or not at all; a thrown error counts as a rejection. It may be
   * asynchronous (the proxy binds new ports before committing); configs are then applied one at a
   * time, in the order they arrive, and each is answered when its apply settles.
   */
  apply: (config: ProxyConfig) => ApplyResult | Promise<ApplyResult>;
  backoff: BackoffOptions;
  now?: Now;
  setTimer?: SetTimer;
  /** For jitter and the first replica's choice; injectable so tests are deterministic. */
  random?: () => number;
  /** A connection attempt that gets no response headers within this time is abandoned. Default 10 s. */
  connectTimeoutMs?: number;
  /** HTTP/2 PING interval on an open stream; a missed answer means a dead replica. Default 30 s, 0 disables. */
  keepaliveMs?: number;
  maxMessageBytes?: number;
  /** TLS settings for `https://` servers (the mesh root in `ca`, the expected `servername`). */
  tls?: http2.SecureClientSessionOptions;
  /**
   * The workload certificate to present on `https://` servers, asked at every connection attempt:
   * once the proxy holds one, reconnects authenticate with it (istiod's mTLS on 15012) rather than
   * the token. Undefined: the token alone.
   */
  clientCertificate?: () => { cert: string; key: string } | undefined;
  /**
   * Opens the HTTP/2 session to a server. A supplied session is shared and never closed by the
   * client (the benchmark multiplexes many simulated proxies over a few sessions); the default
   * opens one per client and closes it with the stream.
   */
  connect?: (server: string) => http2.ClientHttp2Session;
}

export interface DiscoveryClientStatus {
  /** The server URL and replica id of the open stream; absent while disconnected. */
  server?: string;
  replica?: string;
  /** The version being served (the last applied). */
  version?: string;
  appliedAt?: number;
  rejected?: { version: string; error: string; at: number };
}

export interface DiscoveryClientEvents {
  connected: [replica: string];
  /** `retryInMs` is absent after stop(). */
  disconnected: [reason: string, retryInMs?: number];
  applied: [version: string];
  rejected: [version: string, error: string];
}

/** One connection attempt and the stream it carries; replaced wholesale on reconnect. */
interface Attempt {
  server: string;
  session: http2.ClientHttp2Session;
  ownsSession: boolean;
  stream: http2.ClientHttp2Stream;
  connected: boolean;
  reason: string | undefined;
  cancelConnectTimer: CancelTimer;
  cancelKeepalive: CancelTimer;
  done: boolean;
  /** Certificate requests sent on this stream and not yet answered, by request id. */
  csrs: Map<string, { resolve: (issued: IssuedCertificate) => void; reject: (error: Error) => void; cancel: CancelTimer }>;
}

export class DiscoveryClient extends EventEmitter<DiscoveryClientEvents> {
  readonly #options: DiscoveryClientOptions;
  readonly #setTimer: SetTimer;
  readonly #backoff: Backoff;
  /** Index into servers of the next replica to try; advances after every drop (failover). */
  #next: number;
  #attempt: Attempt | undefined;
  #cancelRetry: CancelTimer | undefined;
  #current: ProxyConfig | undefined;
  /** The last config received on the open stream, applied or not: the base of the next delta. */
  #received: ProxyConfig | undefined;
  #running = false;
  /** The asynchronous apply in progress, if any: later configs wait for it, so applies never overlap. */
  #applying: Promise<void> | undefined;
  readonly #now: Now;
  #status: Omit<DiscoveryClientStatus, 'server' | 'version'> = {};
  #nextRequestId = 0;

  constructor(options: DiscoveryClientOptions) {
    super();
    if (options.servers.length === 0) throw new RangeError('DiscoveryClient needs at least one server');
    this.#options = options;
    this.#setTimer = options.setTimer ?? realSetTimer;
    const random = options.random ?? Math.random;
    this.#backoff = new Backoff(options.backoff, random);
    // A random first replica spreads proxies over replicas without any coordination.
    this.#next = Math.floor(random() * options.servers.length) % options.servers.length;
    this.#now = options.now ?? realNow;
  }

  /** The last config that was applied and ACKed; survives disconnects. */
  current(): ProxyConfig | undefined {
    return this.#current;
  }

  /** For the proxy's admin page: where the config came from and when, and the last rejection. */
  status(): DiscoveryClientStatus {
    const status: DiscoveryClientStatus = { ...this.#status };
    if (this.#attempt?.connected) status.server = this.#attempt.server;
    else delete status.replica;
    if (this.#current) status.version = this.#current.version;
    return status;
  }

  /** True while a stream is open and the hello was accepted (so a CSR can be sent). */
  connected(): boolean {
    return this.#attempt?.connected === true && !this.#attempt.done;
  }

  /**
   * Sends a CSR on the open stream and resolves with the signed chain and the trust bundle.
   * Rejects (CertificateRequestError) when not connected, when refused, when the stream drops
   * before the answer, or after `timeoutMs`; the caller retries.
   */
  requestCertificate(csr: string, timeoutMs = 10_000): Promise<IssuedCertificate> {
    const attempt = this.#attempt;
    if (!attempt || !attempt.connected || attempt.done) return Promise.reject(new CertificateRequestError('not connected to a control plane'));
    const requestId = String(++this.#nextRequestId);
    return new Promise((resolve, reject) => {
      const cancel = this.#setTimer(() => {
        attempt.csrs.delete(requestId);
        reject(new CertificateRequestError(`no answer to the certificate request within ${timeoutMs} ms`));
      }, timeoutMs);
      attempt.csrs.set(requestId, { resolve, reject, cancel });
      this.#send(attempt, { type: 'csr', requestId, csr });
    });
  }

  #onCertificate(attempt: Attempt, message: CertificateMessage): void {
    const pending = attempt.csrs.get(message.requestId);
    if (!pending) return;
    attempt.csrs.delete(message.requestId);
    pending.cancel();
    if ('error' in message) pending.reject(new CertificateRequestError(`certificate request refused: ${message.error}`));
    else pending.resolve({ certificateChain: message.certificateChain, trustBundle: message.trustBundle });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#connect();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
    const attempt = this.#attempt;
    if (attempt) this.#end(attempt, 'stopped');
  }

  #connect(): void {
    this.#cancelRetry = undefined;
    const servers = this.#options.servers;
    const server = servers[this.#next % servers.length] as string;
    this.#next = (this.#next + 1) % servers.length;
    const ownsSession = this.#options.connect === undefined;
    let session: http2.ClientHttp2Session;
    try {
      session = this.#options.connect ? this.#options.connect(server) : http2.connect(server, { ...this.#options.tls, ...this.#options.clientCertificate?.() });
    } catch (error) {
      // A malformed server URL fails synchronously; treat it like a refused connection.
      this.#scheduleRetry(`connect ${server}: ${(error as Error).message}`);
      return;
    }
    const stream = session.request({ ':method': 'POST', ':path': STREAM_PATH, 'content-type': CONTENT_TYPE }, { endStream: false });
    const attempt: Attempt = {
      server, session, ownsSession, stream, connected: false, reason: undefined, done: false, cancelKeepalive: () => {}, csrs: new Map(),
      cancelConnectTimer: this.#setTimer(() => this.#end(attempt, 'connect timeout'), this.#options.connectTimeoutMs ?? 10_000),
    };
    this.#attempt = attempt;
    const fail = (error: Error): void => {
      // A pending stream fails first with "canceled"; the cause (refused, bad certificate) is the news.
      attempt.reason ??= error.cause instanceof Error ? error.cause.message : error.message;
    };
    // A shared session is the owner's to watch; its streams close with it anyway.
    if (ownsSession) {
      session.on('error', fail);
      session.once('close', () => this.#end(attempt, attempt.reason ?? 'session closed'));
    }
    stream.on('error', fail);
    // The server ending its side (after an error message, or on shutdown) ends the attempt too.
    stream.on('end', () => this.#end(attempt, attempt.reason ?? 'stream ended by server'));
    stream.on('close', () => this.#end(attempt, attempt.reason ?? 'stream closed'));
    stream.on('response', (headers) => {
      attempt.cancelConnectTimer();
      const status = headers[':status'];
      if (status !== 200) {
        // The body carries an error message saying why (bad token); it arrives as data.
        attempt.reason = `HTTP ${status}`;
        return;
      }
      attempt.connected = true;
      this.#backoff.reset();
      attempt.cancelKeepalive = keepAlive(session, this.#options.keepaliveMs ?? 30_000, this.#setTimer, (reason) => this.#end(attempt, reason));
      const replica = String(headers[REPLICA_HEADER] ?? server);
      this.#status.replica = replica;
      this.emit('connected', replica);
    });
    const decoder = new FrameDecoder(this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    stream.on('data', (chunk: Buffer) => {
      let messages: ServerMessage[];
      try {
        messages = decoder.push(chunk).map(parseServerMessage);
      } catch (error) {
        this.#end(attempt, `protocol error: ${(error as Error).message}`);
        return;
      }
      for (const message of messages) {
        if (message.type === 'error') attempt.reason = `${message.code}: ${message.message}`;
        else if (message.type === 'certificate') this.#onCertificate(attempt, message);
        else if (!attempt.connected || attempt.done) continue;
        else if (message.type === 'delta') this.#onDelta(attempt, message);
        else {
          this.#received = message.config;
          this.#onConfig(attempt, message);
        }
      }
    });
    // The server starts this stream from our lastVersion (or a whole config), never from a config we rejected.
    this.#received = this.#current;
    const hello: ClientMessage = { type: 'hello', node: this.#options.node, token: this.#options.token };
    if (this.#current) hello.lastVersion = this.#current.version;
    if (this.#options.prometheusPort !== undefined) hello.prometheusPort = this.#options.prometheusPort;
    stream.write(encodeFrame(hello));
  }

  /**
   * Rebuilds the whole config from the last one received and hands it on as if sent whole. Done
   * on arrival, in order, even while an earlier apply is still running: each delta's base is the
   * config before it on the wire, whether or not that one is (or will be) accepted.
   */
  #onDelta(attempt: Attempt, message: DeltaMessage): void {
    const base = this.#received;
    if (!base || base.version !== message.baseVersion) {
      const held = base ? `version ${base.version}` : 'no config';
      this.#send(attempt, { type: 'resync', version: message.version, nonce: message.nonce, error: `delta on ${message.baseVersion}, but this proxy holds ${held}` });
      return;
    }
    const config = applyDelta(base, message.version, message.upserts, message.removes);
    this.#received = config;
    this.#onConfig(attempt, { type: 'config', version: message.version, nonce: message.nonce, config });
  }

  #onConfig(attempt: Attempt, message: ConfigMessage): void {
    const run = (): Promise<void> | undefined => this.#applyConfig(attempt, message);
    const pending = this.#applying ? this.#applying.then(run) : run();
    if (!pending) return;
    const tracked = pending.then(() => {
      if (this.#applying === tracked) this.#applying = undefined;
    });
    this.#applying = tracked;
  }

  /** Applies one config and answers it; returns a promise only when `apply` was asynchronous. */
  #applyConfig(attempt: Attempt, message: ConfigMessage): Promise<void> | undefined {
    const { version, nonce, config } = message;
    // A replica that did not see our lastVersion may resend what we have; ACK without re-applying.
    if (version === this.#current?.version) {
      this.#send(attempt, { type: 'ack', version, nonce });
      return undefined;
    }
    let result: ApplyResult | Promise<ApplyResult>;
    try {
      result = this.#options.apply(config);
    } catch (error) {
      result = { ok: false, error: errorText(error) };
    }
    if (!(result instanceof Promise)) {
      this.#settle(attempt, message, result);
      return undefined;
    }
    return result.then(
      (settled) => this.#settle(attempt, message, settled),
      (error: unknown) => this.#settle(attempt, message, { ok: false, error: errorText(error) }),
    );
  }

  /** Records the outcome; the answer goes out only if the stream it came on is still open. */
  #settle(attempt: Attempt, { version, nonce, config }: ConfigMessage, result: ApplyResult): void {
    if (result.ok) {
      this.#current = config;
      this.#status.appliedAt = this.#now();
      this.#send(attempt, { type: 'ack', version, nonce });
      this.emit('applied', version);
    } else {
      this.#status.rejected = { version, error: result.error, at: this.#now() };
      this.#send(attempt, { type: 'nack', version, nonce, error: result.error });
      this.emit('rejected', version, result.error);
    }
  }

  #send(attempt: Attempt, message: ClientMessage): void {
    if (!attempt.done && !attempt.stream.destroyed) attempt.stream.write(encodeFrame(message));
  }

  /** Tears one attempt down exactly once, then (unless stopped) schedules the next one. */
  #end(attempt: Attempt, reason: string): void {
    if (attempt.done) return;
    attempt.done = true;
    attempt.cancelConnectTimer();
    attempt.cancelKeepalive();
    for (const pending of attempt.csrs.values()) {
      pending.cancel();
      pending.reject(new CertificateRequestError(`stream ended before the certificate was issued: ${reason}`));
    }
    attempt.csrs.clear();
    if (!attempt.stream.destroyed) attempt.stream.close(http2.constants.NGHTTP2_CANCEL);
    if (attempt.ownsSession && !attempt.session.destroyed) attempt.session.destroy();
    if (this.#attempt === attempt) this.#attempt = undefined;
    if (this.#running) this.#scheduleRetry(reason);
    else if (attempt.connected) this.emit('disconnected', reason);
  }

  #scheduleRetry(reason: string): void {
    const delay = this.#backoff.next();
    this.#cancelRetry = this.#setTimer(() => this.#connect(), delay);
    this.emit('disconnected', reason, delay);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One downstream HTTP/1.1 connection, read with Node's native parser (llhttp) straight from the
 * socket's 'data' events and answered by writing to the socket: no node:http server, whose
 * IncomingMessage/ServerResponse machinery cost ~5.6 µs a request in the proxy benchmark.
 *
 * Requests are served one at a time in arrival order; pipelined ones wait (parsed, their bodies
 * buffered) until the response before them has ended. A parse error answers 400 (431 for headers
 * over the limit) and closes, or, with a request in flight, lets that request answer. Upgrade
 * (WebSocket) and CONNECT requests hand the socket over with the bytes that followed their head.
 */
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { ConnectionContext } from '../../listeners/connection.js';
import { requestHeaderMap } from './headers.js';
import { consumableHandle, requestParser, methodName, type ParseError, type RequestParser, type StreamHandle } from './parser.js';
import { Http1Request, type BodySource } from './request.js';
import { Http1Response, type ResponseSink } from './response.js';

export interface Http1Hooks {
  request(conn: ConnectionContext, req: Http1Request, res: Http1Response): void;
  /** A WebSocket upgrade: the socket and the bytes after the head are the caller's now. */
  upgrade(conn: ConnectionContext, req: Http1Request, socket: Socket, head: Buffer): void;
  connect(conn: ConnectionContext, req: Http1Request, socket: Socket, head: Buffer): void;
  protocolError(): void;
}

export interface Http1Limits {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
}

/** A request parsed but not served yet, because the response before it has not ended. */
interface Waiting {
  req: Http1Request;
  res: Http1Response | undefined;
  /** For an upgrade or CONNECT: the bytes after its head. */
  head: Buffer | undefined;
}

/** Pipelined requests waiting beyond this stop the socket being read until they are served. */
const MAX_WAITING = 32;
const EXPECT_CONTINUE = /^100-continue$/i;
const WEBSOCKET = /^websocket$/i;

export class Http1ServerConnection implements ResponseSink, BodySource {
  /** performance.now() when the current request began to arrive; 0 when not reading a head. */
  headersStartedAt: number;
  /** performance.now() when the connection last became idle; 0 while busy. */
  idleSince = 0;
  readonly #parser: RequestParser;
  #pairs: string[] = [];
  /** Body bytes of the request arriving (0: it had none so far). */
  #bodyBytes = 0;
  #url = '';
  /** The request whose body is arriving. */
  #receiving: Http1Request | undefined = undefined;
  #active: Http1Response | undefined = undefined;
  #activeRequest: Http1Request | undefined = undefined;
  readonly #waiting: Waiting[] = [];
  /** Close once the active response has ended (the client ended its side, or an upgrade we serve plainly). */
  #closeAfter = false;
  /** The socket is no longer ours (upgrade, CONNECT, parse error, closed). */
  #detached = false;
  /** The parser stopped after a request (an upgrade served as a plain request): read nothing more. */
  #stopReading = false;
  /** Part of a request head has arrived. */
  #inHead = false;
  #pausedForWaiting = false;
  #upgrade: Waiting | undefined = undefined;
  /** The socket's stream while the parser reads it directly (consume); undefined: 'data' events. */
  #handle: StreamHandle | undefined = undefined;

  constructor(
    readonly socket: Socket,
    readonly conn: ConnectionContext,
    private readonly hooks: Http1Hooks,
    limits: Http1Limits,
    private readonly onGone: (c: Http1ServerConnection) => void,
  ) {
    this.headersStartedAt = performance.now();
    this.#parser = requestParser(
      {
        onMessageBegin: () => {
          this.#inHead = true;
          this.headersStartedAt = performance.now();
          this.idleSince = 0;
        },
        onHeaders: (pairs, url) => {
          for (const p of pairs) this.#pairs.push(p);
          this.#url += url;
        },
        onHeadersComplete: (major, minor, pairs, method, url, upgrade, keepAlive) => this.#onHeadersComplete(major, minor, pairs, method, url, upgrade, keepAlive),
        onBody: (chunk) => {
          const req = this.#receiving;
          this.#bodyBytes += chunk.length;
          if (req && !req.push(chunk)) this.#pause();
        },
        onMessageComplete: () => {
          const req = this.#receiving;
          this.#receiving = undefined;
          req?.received(this.#bodyBytes > 0);
          this.#bodyBytes = 0;
          this.#maybeIdle();
        },
        onExecute: (result) => this.#afterExecute(result, undefined),
      },
      limits.maxHeaderBytes,
    );
    socket.setNoDelay(true);
    // Bytes the listener read while inspecting the connection (and gave back) still come as
    // 'data'; everything after goes from the socket's stream straight into the parser.
    socket.on('data', this.#onData);
    const handle = consumableHandle(socket);
    if (handle) {
      handle._consumed = true;
      this.#parser.consume(handle);
      this.#handle = handle;
    }
    socket.on('end', this.#onEnd);
    socket.on('error', noop);
    socket.once('close', this.#onClose);
  }

  /** No response in flight, no request waiting, no head or body arriving. */
  get idle(): boolean {
    return this.#active === undefined && this.#waiting.length === 0 && this.#receiving === undefined && !this.#inHead;
  }

  resumeReading(): void {
    if (this.#detached || this.#stopReading || this.#pausedForWaiting) return;
    if (this.socket.isPaused()) this.socket.resume();
    const handle = this.#handle;
    if (handle && handle.reading === false) {
      handle.reading = true;
      handle.readStart();
    }
  }

  /** Stops reading (backpressure); a consumed stream is stopped at its handle, as node:http does. */
  #pause(): void {
    this.socket.pause();
    const handle = this.#handle;
    if (handle && handle.reading !== false) {
      handle.reading = false;
      handle.readStop();
    }
  }

  /** The parser reads no more from the socket's stream; what comes next is read as 'data' again. */
  #unconsume(): void {
    if (!this.#handle) return;
    this.#handle._consumed = false;
    this.#handle = undefined;
    this.#parser.unconsume();
  }

  /** The headers timeout ran out: Envoy answers 408 and closes. */
  headersTimedOut(): void {
    this.#fail(408);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Drain: an idle connection closes now, a busy one after its response. */
  closeWhenIdle(): void {
    if (this.idle) this.socket.destroy();
    else this.#closeAfter = true;
  }

  responseEnded(res: Http1Response, close: boolean): void {
    if (this.#active !== res) return;
    const req = this.#activeRequest;
    this.#active = undefined;
    this.#activeRequest = undefined;
    if (close || this.#closeAfter) {
      this.#detached = true;
      this.socket.destroySoon();
      return;
    }
    // A body nobody read is read and dropped, so the next request on this connection can be parsed.
    if (req && !req.complete) req.resume();
    this.#next();
  }

  #onData = (chunk: Buffer): void => {
    if (this.#detached || this.#stopReading) return;
    this.#afterExecute(this.#parser.execute(chunk), chunk);
  };

  /** `chunk`: what was parsed, when it came as 'data' (a consumed read's is the parser's current buffer). */
  #afterExecute(result: number | ParseError, chunk: Buffer | undefined): void {
    if (typeof result !== 'number') {
      this.#parseError(result);
      return;
    }
    if (this.#stopReading) {
      this.#unconsume();
      this.socket.pause();
    }
    const upgrade = this.#upgrade;
    if (upgrade !== undefined) {
      this.#upgrade = undefined;
      upgrade.head = (chunk ?? this.#parser.getCurrentBuffer()).subarray(result);
      // The parser reads no further; nothing more is read until the new owner reads.
      this.#unconsume();
      this.socket.pause();
      this.#detached = true;
      this.#enqueue(upgrade);
    }
  }

  #onHeadersComplete(major: number, minor: number, raw: string[] | null, method: number, rawUrl: string | null, upgrade: boolean, keepAlive: boolean): number {
    const pairs = raw ?? this.#pairs;
    const url = rawUrl || this.#url;
    this.#pairs = [];
    this.#url = '';
    this.#inHead = false;
    this.headersStartedAt = 0;
    const name = methodName(method);
    const req = new Http1Request(this.socket, this, name, url, major, minor, requestHeaderMap(pairs), pairs);
    if (upgrade) {
      const isConnect = name === 'CONNECT';
      if (isConnect || WEBSOCKET.test(req.headers.upgrade ?? '')) {
        this.#upgrade = { req, res: undefined, head: undefined };
        return 2;
      }
      // Other upgrades (h2c, TLS) are not configured in Istio; Envoy serves such a request as a
      // plain one. The parser stops after it, so it is the connection's last.
      delete req.headers.upgrade;
      this.#closeAfter = true;
      this.#stopReading = true;
      this.#receiving = req;
      this.#enqueue({ req, res: new Http1Response(this, name === 'HEAD', false), head: undefined });
      return 0;
    }
    this.#receiving = req;
    this.#enqueue({ req, res: new Http1Response(this, name === 'HEAD', keepAlive), head: undefined });
    return 0;
  }

  #enqueue(w: Waiting): void {
    // Requests after a handler destroyed the connection within the same read: no one to answer.
    if (this.socket.destroyed) return;
    if (this.#active === undefined && this.#waiting.length === 0) this.#serve(w);
    else {
      this.#waiting.push(w);
      if (this.#waiting.length >= MAX_WAITING && !this.#pausedForWaiting) {
        this.#pausedForWaiting = true;
        this.#pause();
      }
    }
  }

  #next(): void {
    const w = this.#waiting.shift();
    if (this.#pausedForWaiting && this.#waiting.length < MAX_WAITING / 2) {
      this.#pausedForWaiting = false;
      this.resumeReading();
    }
    if (w) this.#serve(w);
    else this.#maybeIdle();
  }

  /** Nothing in flight, waiting or arriving: the idle timeout runs from now. */
  #maybeIdle(): void {
    if (this.idle) this.idleSince = performance.now();
  }

  #serve(w: Waiting): void {
    const { req, res } = w;
    if (res === undefined) {
      const head = w.head ?? Buffer.alloc(0);
      this.#detach();
      if (req.method === 'CONNECT') this.hooks.connect(this.conn, req, this.socket, head);
      else this.hooks.upgrade(this.conn, req, this.socket, head);
      return;
    }
    const expect = req.headers.expect;
    if (expect !== undefined) {
      // node:http's answers (Envoy's too): 100-continue is granted at once, anything else is 417.
      if (!EXPECT_CONTINUE.test(expect)) {
        this.#active = res;
        this.#activeRequest = req;
        res.writeHead(417, { 'content-length': '0' });
        res.end();
        return;
      }
      if (req.httpVersionMinor >= 1) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    this.#active = res;
    this.#activeRequest = req;
    try {
      this.hooks.request(this.conn, req, res);
    } catch {
      // Never out of the parser's callback: that would be an uncaught exception. The request
      // cannot be answered properly any more, so its connection goes.
      this.socket.destroy();
    }
  }

  /** The socket goes to a new owner: stop listening to it and forget it. */
  #detach(): void {
    this.#detached = true;
    this.socket.off('data', this.#onData);
    this.socket.off('end', this.#onEnd);
    this.socket.off('error', noop);
    this.socket.off('close', this.#onClose);
    this.#release();
  }

  #parseError(err: ParseError): void {
    this.#fail(err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400);
  }

  /** A request that cannot be read: answer (unless one in flight will) and close. */
  #fail(status: number): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#unconsume();
    this.hooks.protocolError();
    const socket = this.socket;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    if (this.conn.inFlight > 0) {
      // A request on this connection is being answered: no raw reply on top of it. What was
      // already written (a local reply to the same bad request) is flushed before closing.
      this.conn.protocolError?.();
      // The chain may answer in a microtask, so the close waits for the next turn.
      setImmediate(() => socket.end(() => socket.destroy()));
      return;
    }
    const body = STATUS_CODES[status] ?? '';
    // Then close both ways: the client may not, and the request was never going to be served.
    socket.end(`HTTP/1.1 ${status} ${body}\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`, () => socket.destroy());
  }

  #onEnd = (): void => {
    if (this.#detached) return;
    const err = this.#parser.finish();
    if (err) return this.#parseError(err);
    // The client is gone (Envoy and node:http alike treat an HTTP/1 half-close as a disconnect):
    // what is in flight ends as DC.
    this.socket.destroy();
  };

  #onClose = (): void => {
    this.#detached = true;
    const gone = new Error('aborted');
    (gone as Error & { code: string }).code = 'ECONNRESET';
    for (const req of [this.#receiving, this.#activeRequest, ...this.#waiting.map((w) => w.req)]) {
      if (req && !req.complete) req.destroy(gone);
    }
    this.#receiving = undefined;
    this.#active?.connectionClosed();
    for (const w of this.#waiting) w.res?.connectionClosed();
    this.#waiting.length = 0;
    this.#active = undefined;
    this.#activeRequest = undefined;
    this.#release();
  };

  #release(): void {
    this.#unconsume();
    this.onGone(this);
    const parser = this.#parser;
    // Freed outside any parser callback, as node:http does.
    setImmediate(() => parser.close());
  }
}

function noop(): void {}

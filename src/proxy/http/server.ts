/**
 * The HTTP codecs: one node:http server (HTTP/1.1) and one node:http2 server (h2 and h2c) for the
 * whole proxy. Neither listens itself; the listeners hand them connections they accepted and
 * inspected. Protocol errors get Envoy's answers: 400 for a malformed request, 431 for headers
 * over the limit, 408 when the headers do not arrive in time; never a crash.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2Session, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionContext } from '../listeners/connection.js';
import { handleRequest, type HandlerContext } from './handler.js';

export interface CodecOptions {
  /** Envoy's max_request_headers_kb default is 60. */
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  /** Idle time between requests on a keep-alive connection. */
  idleTimeoutMs: number;
}

type ConnectHandler = (conn: ConnectionContext, req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class HttpCodecs {
  readonly h1: http.Server;
  readonly h2: http2.Http2Server;
  readonly #contexts = new WeakMap<object, ConnectionContext>();
  readonly #sessions = new Set<Http2Session>();
  #pending: ConnectionContext | undefined;

  constructor(hc: HandlerContext, opts: CodecOptions, onConnect: ConnectHandler) {
    this.h1 = http.createServer({
      maxHeaderSize: opts.maxHeaderBytes,
      headersTimeout: opts.headersTimeoutMs,
      // No whole-request deadline: uploads and long polls may take as long as they take (Envoy's default).
      requestTimeout: 0,
      keepAliveTimeout: opts.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(opts.headersTimeoutMs / 4))),
    });
    // The connections checker (headers timeout) starts on 'listening'; this server never listens itself.
    this.h1.emit('listening');
    this.h1.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const conn = this.#contexts.get(req.socket);
      if (!conn) return void res.destroy();
      handleRequest(hc, conn, req, res, null);
    });
    this.h1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const conn = this.#contexts.get(req.socket);
      if (!conn) return void socket.destroy();
      if (/^websocket$/i.test(req.headers.upgrade ?? '')) {
        handleRequest(hc, conn, req, null, { socket, head });
        return;
      }
      // Other upgrades (h2c, TLS) are not configured in Istio; Envoy serves such a request as a
      // plain one. The parser has let go of the socket, so this is its last request.
      delete req.headers.upgrade;
      const res = new http.ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.once('finish', () => socket.end());
      handleRequest(hc, conn, req, res, null);
    });
    this.h1.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const conn = this.#contexts.get(req.socket);
      if (!conn) return void socket.destroy();
      onConnect(conn, req, socket, head);
    });
    this.h1.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
      hc.services.stats.inc('downstream_cx_protocol_error');
      this.#clientError(err, socket);
    });

    this.h2 = http2.createServer({ maxSessionMemory: 64, settings: { maxHeaderListSize: opts.maxHeaderBytes } });
    this.h2.on('session', (session: Http2Session) => {
      const conn = this.#pending;
      if (!conn) return void session.destroy();
      this.#contexts.set(session, conn);
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      session.on('error', () => session.destroy());
    });
    this.h2.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
      const conn = this.#contexts.get(req.stream.session ?? {});
      if (!conn) return void res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      handleRequest(hc, conn, req, res, null);
    });
    this.h2.on('stream', (stream: http2.ServerHttp2Stream) => stream.on('error', () => stream.destroy()));
  }

  serveHttp1(socket: Socket, conn: ConnectionContext): void {
    this.#contexts.set(socket, conn);
    this.h1.emit('connection', socket);
    socket.resume();
  }

  serveHttp2(socket: Socket, conn: ConnectionContext): void {
    // The server creates the session synchronously inside emit; 'session' picks the context up.
    this.#pending = conn;
    try {
      this.h2.emit('connection', socket);
    } finally {
      this.#pending = undefined;
    }
    socket.resume();
  }

  /** Drain: idle keep-alive connections close now, busy ones after their response; h2 gets GOAWAY. */
  drain(): void {
    this.h1.closeIdleConnections();
    for (const s of this.#sessions) s.close();
  }

  /** Stops the headers-timeout checker (the servers never listened, so there is nothing else to close). */
  close(): void {
    this.h1.close(() => {});
    this.h2.close(() => {});
  }

  #clientError(err: Error & { code?: string }, socket: Duplex): void {
    const conn = this.#contexts.get(socket);
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (conn && conn.inFlight > 0) {
      // A request on this connection is being answered: no raw reply on top of it. What was
      // already written (a local reply to the same bad request) is flushed before closing.
      conn.protocolError?.();
      // The chain may answer in a microtask, so the close waits for the next turn.
      setImmediate(() => socket.end(() => socket.destroy()));
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = http.STATUS_CODES[status] ?? '';
    // Then close both ways: the client may not, and the request was never going to be served.
    socket.end(`HTTP/1.1 ${status} ${body}\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`, () => socket.destroy());
  }
}

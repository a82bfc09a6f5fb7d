/**
 * The HTTP codecs: Weft's own HTTP/1.1 codec on Node's parser (h1/) and one node:http2 server (h2
 * and h2c) for the whole proxy. Neither listens itself; the listeners hand them connections they accepted and
 * inspected. Protocol errors get Envoy's answers: 400 for a malformed request, 431 for headers
 * over the limit, 408 when the headers do not arrive in time; never a crash.
 */
import http2, { type Http2Session, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { ConnectionContext } from '../listeners/connection.js';
import { handleRequest, type HandlerContext } from './handler.js';
import { Http1Server } from './h1/server.js';
import type { Http1Request } from './h1/request.js';

export interface CodecOptions {
  /** Envoy's max_request_headers_kb default is 60. */
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  /** Idle time between requests on a keep-alive connection. */
  idleTimeoutMs: number;
}

type ConnectHandler = (conn: ConnectionContext, req: Http1Request, socket: Socket, head: Buffer) => void;

export class HttpCodecs {
  readonly h1: Http1Server;
  readonly h2: http2.Http2Server;
  readonly #contexts = new WeakMap<object, ConnectionContext>();
  readonly #sessions = new Set<Http2Session>();
  #pending: ConnectionContext | undefined;

  constructor(hc: HandlerContext, opts: CodecOptions, onConnect: ConnectHandler) {
    this.h1 = new Http1Server(
      {
        request: (conn, req, res) => handleRequest(hc, conn, req, res, null),
        upgrade: (conn, req, socket, head) => handleRequest(hc, conn, req, null, { socket, head }),
        connect: onConnect,
        protocolError: () => hc.services.stats.inc('downstream_cx_protocol_error'),
      },
      opts,
    );

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
    this.h1.serve(socket, conn);
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
    this.h1.close();
    this.h2.close(() => {});
  }
}

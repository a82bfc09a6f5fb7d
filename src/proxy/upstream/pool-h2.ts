/**
 * HTTP/2 (h2c) pool for clusters whose protocol is http2 (gRPC among them), on node:http2.
 * Streams share a connection up to the peer's SETTINGS_MAX_CONCURRENT_STREAMS and
 * maxRequestsPerConnection; a GOAWAY or the stream limit retires a connection gracefully.
 * Response trailers (grpc-status) pass through to the caller.
 */
import http2 from 'node:http2';
import type net from 'node:net';
import type { Cancellation } from './cancel.js';
import { ResetError } from './errors.js';
import { flattenTrailers, http2RequestHeaders, responseHeaders } from './headers.js';
import { ConnectionPool, type AttemptRequest, type AttemptResponse, type PoolConnection } from './pool.js';
import { hostKey } from './socket.js';

const noop = (): void => {};
const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

class Http2Connection implements PoolConnection {
  readonly session: http2.ClientHttp2Session;
  started = 0;
  active = 0;
  closed = false;
  closing = false;

  constructor(socket: net.Socket, authority: string, idleTimeoutMs: number, onClosed: (c: Http2Connection) => void, onReady: (c: Http2Connection) => void) {
    this.session = http2.connect(`http://${authority}`, {
      createConnection: () => socket,
      settings: { enablePush: false, initialWindowSize: 1 << 20 },
    });
    this.session.on('error', noop);
    this.session.on('goaway', () => (this.closing = true));
    this.session.on('remoteSettings', () => onReady(this));
    this.session.once('close', () => {
      this.closed = true;
      onClosed(this);
    });
    socket.once('close', () => this.session.destroy());
    const idle = Number.isFinite(idleTimeoutMs) && idleTimeoutMs > 0 ? idleTimeoutMs : 3_600_000;
    this.session.setTimeout(idle, () => {
      if (this.active === 0) this.close();
    });
  }

  capacity(maxRequestsPerConnection: number): number {
    if (this.closed || this.closing || this.session.destroyed) return 0;
    let cap = (this.session.remoteSettings.maxConcurrentStreams ?? 100) - this.active;
    if (maxRequestsPerConnection > 0) cap = Math.min(cap, maxRequestsPerConnection - this.started);
    return Math.max(0, cap);
  }

  close(): void {
    this.closing = true;
    if (!this.session.closed) this.session.close();
  }

  destroy(): void {
    this.closing = true;
    this.session.destroy();
  }
}

export class Http2Pool extends ConnectionPool<Http2Connection> {
  protected override readonly alpnProtocol = 'http2';
  protected streamsPerNewConnection(maxRequestsPerConnection: number): number {
    return maxRequestsPerConnection > 0 ? maxRequestsPerConnection : 100;
  }

  protected wrap(socket: net.Socket): Http2Connection {
    const authority = hostKey(this.target.address, this.target.port);
    return new Http2Connection(socket, authority, this.settings().idleTimeoutMs, (c) => this.connectionClosed(c), (c) => this.connReady(c));
  }

  protected start(conn: Http2Connection, req: AttemptRequest, cancel: Cancellation | undefined): Promise<AttemptResponse> {
    conn.active++;
    conn.started++;
    return new Promise<AttemptResponse>((resolve, reject) => {
      const endStream = req.body === null || (Buffer.isBuffer(req.body) && req.body.length === 0);
      let stream: http2.ClientHttp2Stream;
      try {
        stream = conn.session.request(http2RequestHeaders(req.method, req.path, req.headers), { endStream });
      } catch (err) {
        conn.active--;
        this.streamEnded(conn);
        reject(new ResetError(conn.closed || conn.closing ? 'connection termination' : 'local reset', { cause: err }));
        return;
      }
      let responded = false;
      let localReset: ResetError | undefined;
      let trailerValues: Record<string, string> = {};
      let settleTrailers: (t: Record<string, string>) => void = noop;
      let settleDone: (e: ResetError | null) => void = noop;
      const trailers = new Promise<Record<string, string>>((r) => (settleTrailers = r));
      const done = new Promise<ResetError | null>((r) => (settleDone = r));

      const unsubscribe = cancel?.onAbort(() => {
        localReset = new ResetError('local reset', { cause: cancel.reason });
        stream.close(NGHTTP2_CANCEL);
      });
      // Errors reach consumers through pipeline()/for-await; an unread body must not crash us.
      stream.on('error', noop);
      stream.once('response', (headers) => {
        responded = true;
        resolve({ status: Number(headers[':status']), headers: responseHeaders(headers), body: stream, trailers, onDone: (fn) => void done.then(fn), protocol: 'http2' });
      });
      stream.once('trailers', (t) => (trailerValues = flattenTrailers(t)));
      stream.once('close', () => {
        unsubscribe?.();
        conn.active--;
        const err = this.#resetOf(stream, conn, responded, localReset);
        settleTrailers(err ? {} : trailerValues);
        settleDone(err);
        this.streamEnded(conn);
        if (!responded) reject(err ?? new ResetError('connection termination'));
      });

      if (!endStream && req.body) {
        if (Buffer.isBuffer(req.body)) {
          stream.end(req.body);
        } else {
          const source = req.body;
          source.once('error', () => stream.close(NGHTTP2_CANCEL));
          source.pipe(stream);
        }
      }
    });
  }

  #resetOf(stream: http2.ClientHttp2Stream, conn: Http2Connection, responded: boolean, localReset: ResetError | undefined): ResetError | null {
    if (localReset) return localReset;
    const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
    if (code === NGHTTP2_NO_ERROR && responded) return null;
    if (code === NGHTTP2_REFUSED_STREAM) return new ResetError('remote refused stream reset');
    if (code === NGHTTP2_NO_ERROR || conn.closed || conn.session.destroyed) return new ResetError('connection termination');
    return new ResetError('remote reset', { cause: new Error(`RST_STREAM ${code}`) });
  }
}

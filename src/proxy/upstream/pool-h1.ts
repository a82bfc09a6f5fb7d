/**
 * HTTP/1.1 keep-alive pool. Each connection is one socket that this pool opened (so connect
 * failures, timeouts and the connection circuit breaker are ours) handed to an undici Client
 * running one request at a time; requests go through Client.dispatch with a small handler that
 * streams the response body with backpressure. Measured against node:http's keep-alive Agent
 * and undici's Pool by http-client.bench.ts, this path was the fastest (numbers in the report).
 */
import { createRequire } from 'node:module';
import type net from 'node:net';
import { Readable } from 'node:stream';
import type { Client as UndiciClient, Dispatcher } from 'undici';
import type { Cancellation } from './cancel.js';
import { ResetError, type ResetReason } from './errors.js';
import { flattenTrailers, http1RequestHeaders, responseHeaders } from './headers.js';
import { ConnectionPool, type AttemptRequest, type AttemptResponse, type PoolConnection } from './pool.js';
import { hostKey } from './socket.js';

const noop = (): void => {};

// undici's index also loads fetch, WebSocket, the caches and the mock agents: about 9 MB of idle
// RSS (measured) the proxy never uses. Its package has no exports map, so the Client alone loads.
const requireUndici = createRequire(import.meta.url);
const Client = requireUndici('undici/lib/dispatcher/client.js') as typeof UndiciClient;
/** undici's own raw-header parser (lower-cased names, repeated fields as arrays, latin1 values). */
const { parseHeaders } = requireUndici('undici/lib/core/util.js') as { parseHeaders(raw: (Buffer | string)[]): Record<string, string | string[]> };

class Http1Connection implements PoolConnection {
  readonly client: UndiciClient;
  started = 0;
  active = 0;
  closed = false;
  closing = false;

  constructor(
    private readonly socket: net.Socket,
    origin: string,
    idleTimeoutMs: number,
    onClosed: (conn: Http1Connection) => void,
  ) {
    let handedOver = false;
    const idle = Number.isFinite(idleTimeoutMs) && idleTimeoutMs > 0 ? idleTimeoutMs : 3_600_000;
    this.client = new Client(origin, {
      // The Client never dials: it gets this one socket, and a closed connection is never reopened.
      // The callback must be asynchronous, as undici's own connector is: called synchronously,
      // undici's resume loop is still running and the first request is never written.
      connect: (_opts, callback) => {
        queueMicrotask(() => {
          if (handedOver || socket.destroyed) return callback(new ResetError('connection termination'), null);
          handedOver = true;
          callback(null, socket);
        });
      },
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: idle,
      keepAliveMaxTimeout: idle,
    });
    this.client.on('connectionError', noop);
    this.client.on('disconnect', noop);
    socket.once('close', () => {
      this.closed = true;
      this.client.destroy().catch(noop);
      onClosed(this);
    });
  }

  capacity(): number {
    return this.closed || this.closing || this.active > 0 ? 0 : 1;
  }

  close(): void {
    this.closing = true;
    if (this.active === 0) this.socket.destroy();
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }
}

/** undici's error codes in Envoy's reset vocabulary. */
export function resetFromUndici(err: unknown): ResetError {
  if (err instanceof ResetError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  let reason: ResetReason = 'connection termination';
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') reason = 'protocol error';
  else if (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') reason = 'local reset';
  return new ResetError(reason, { cause: err });
}

export class Http1Pool extends ConnectionPool<Http1Connection> {
  protected streamsPerNewConnection(): number {
    return 1;
  }

  protected wrap(socket: net.Socket): Http1Connection {
    const origin = `http://${hostKey(this.target.address, this.target.port)}`;
    return new Http1Connection(socket, origin, this.settings().idleTimeoutMs, (c) => this.connectionClosed(c));
  }

  protected start(conn: Http1Connection, req: AttemptRequest, cancel: Cancellation | undefined): Promise<AttemptResponse> {
    conn.active++;
    conn.started++;
    return new Promise<AttemptResponse>((resolve, reject) => {
      let abortRequest: ((err?: Error) => void) | undefined;
      let resumeParser: () => void = noop;
      let pendingAbort: ResetError | undefined;
      let body: Readable | undefined;
      let finished = false;
      let settleTrailers: (t: Record<string, string>) => void = noop;
      let settleDone: (e: ResetError | null) => void = noop;
      const trailers = new Promise<Record<string, string>>((r) => (settleTrailers = r));
      const done = new Promise<ResetError | null>((r) => (settleDone = r));

      const abort = (err: ResetError): void => {
        if (finished) return;
        if (abortRequest) abortRequest(err);
        else pendingAbort = err;
      };
      const unsubscribe = cancel?.onAbort(() => abort(new ResetError('local reset', { cause: cancel.reason })));

      const finish = (err: ResetError | null, trailerValues: Record<string, string> = {}): void => {
        if (finished) return;
        finished = true;
        unsubscribe?.();
        conn.active--;
        // undici destroys the socket after a failed or aborted request: never hand it out again.
        if (err) conn.closing = true;
        settleTrailers(trailerValues);
        settleDone(err);
        this.streamEnded(conn);
      };

      const fail = (err: unknown): void => {
        const reset = resetFromUndici(err);
        finish(reset);
        if (body) body.destroy(reset);
        else reject(reset);
      };

      // undici's handler interface of callbacks with return values (not the controller one): the
      // controller form is wrapped by undici in two more objects per request and parses the
      // headers and (empty) trailers once more, measured at a few percent of a proxied request.
      const handler: Dispatcher.DispatchHandler = {
        onConnect(abortFn) {
          abortRequest = abortFn;
          if (pendingAbort) abortFn(pendingAbort);
        },
        onHeaders(status, rawHeaders, resume) {
          if (status < 200 || body) return true;
          const headers = parseHeaders(rawHeaders);
          const connection = headers['connection'];
          if (connection !== undefined && (Array.isArray(connection) ? connection.join(',') : connection).toLowerCase().includes('close')) conn.closing = true;
          resumeParser = resume;
          body = new Readable({
            highWaterMark: 64 * 1024,
            read: () => resumeParser(),
            destroy: (err, callback) => {
              // Also runs after a normal end (autoDestroy): only a cut-short body aborts.
              if (!finished) abort(new ResetError('local reset', { cause: err }));
              callback(err);
            },
          });
          // Errors reach consumers through pipeline()/for-await; an unread body must not crash us.
          body.on('error', noop);
          resolve({ status, headers: responseHeaders(headers), body, trailers, done, protocol: 'http1' });
          return true;
        },
        onData(chunk) {
          return body ? body.push(chunk) : true;
        },
        onComplete(rawTrailers) {
          finish(null, rawTrailers && rawTrailers.length > 0 ? flattenTrailers(parseHeaders(rawTrailers)) : {});
          body?.push(null);
        },
        onError(err) {
          fail(err);
        },
      };

      try {
        conn.client.dispatch(
          { path: req.path, method: req.method, headers: http1RequestHeaders(req.headers), body: req.body, blocking: true, headersTimeout: 0, bodyTimeout: 0 },
          handler,
        );
      } catch (err) {
        fail(err);
      }
    });
  }
}

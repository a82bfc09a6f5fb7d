/**
 * Writing responses downstream: local replies (the proxy answers itself) and upstream responses
 * (streamed through, headers filtered and rewritten). Both go through here so hop-by-hop
 * handling, gRPC status conversion and the drain `connection: close` are the same everywhere.
 */
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { applyRouteHeaderOperations, type HeaderMap } from '../stages/headers.js';
import { httpToGrpcStatus, type LocalReply } from '../rescue.js';
import type { UpstreamResponse } from '../upstream-port.js';
import type { Exchange, DownstreamResponse } from './exchange.js';
import type { Http1Response } from './h1/response.js';
import { peerReplyHeaders, peerResponseHeaders } from './peer-exchange.js';

/** Connection-specific headers (RFC 9110 §7.6.1), never forwarded in either direction. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'proxy-authenticate']);

export function sendLocalReply(ex: Exchange, reply: LocalReply, extraHeaders?: Record<string, string>): void {
  if (ex.responded) {
    // Answered already (a protocol error overtook the chain): only make sure nothing half-done stays open.
    if (ex.res && !ex.res.writableFinished && ex.res.headersSent && reply.status !== 0) ex.res.destroy();
    return;
  }
  ex.status = reply.status;
  if (reply.flag !== '') ex.addFlag(reply.flag);
  ex.details = reply.details;
  ex.responded = true;
  if (reply.status === 0) return; // the client is gone; there is no one to answer
  const grpc = reply.grpcStatus !== undefined || ex.grpc;
  const headers: OutgoingHttpHeaders = {};
  if (extraHeaders) Object.assign(headers, extraHeaders);
  if (ex.responseExtras) Object.assign(headers, ex.responseExtras);
  let status = reply.status;
  let body = reply.body;
  if (grpc) {
    // A gRPC client reads failures from grpc-status, so Envoy answers 200 with the status in a
    // trailers-only response (the body becomes grpc-message).
    headers['content-type'] = 'application/grpc';
    headers['grpc-status'] = String(reply.grpcStatus ?? httpToGrpcStatus(reply.status));
    ex.grpcStatus = headers['grpc-status'];
    if (reply.body !== '') headers['grpc-message'] = encodeURIComponent(reply.body);
    status = 200;
    body = '';
  } else if (body !== '') {
    headers['content-type'] ??= 'text/plain';
  }
  peerReplyHeaders(ex, headers);
  headers['content-length'] = Buffer.byteLength(body);
  if (ex.upgrade) {
    writeRawReply(ex, status, headers, body);
    return;
  }
  const res = ex.res;
  if (!res) return;
  if (res.headersSent) {
    // Too late for a reply: reset the stream so the client sees a failure, not a short body.
    res.destroy();
    return;
  }
  if (ex.services.state.draining && !ex.http2) headers.connection = 'close';
  if (!safeWriteHead(res, status, headers)) return;
  if (ex.method === 'HEAD' || body === '') res.end();
  else res.end(body);
}

function writeRawReply(ex: Exchange, status: number, headers: OutgoingHttpHeaders, body: string): void {
  const socket = ex.upgrade?.socket;
  if (!socket || socket.destroyed) return;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) head += `${k}: ${String(v)}\r\n`;
  socket.end(`${head}connection: close\r\n\r\n${body}`);
}

/** Response headers for the client from the upstream's: hop-by-hop removed, route operations applied. */
export function downstreamHeaders(ex: Exchange, up: UpstreamResponse): HeaderMap {
  const headers: HeaderMap = {};
  const src = up.headers;
  for (const name in src) {
    const v = src[name];
    if (v === undefined || HOP_BY_HOP.has(name) || name.charCodeAt(0) === 58 /* ':' */) continue;
    headers[name] = v;
  }
  peerResponseHeaders(ex, headers);
  const grpcStatus = src['grpc-status'];
  if (typeof grpcStatus === 'string') ex.grpcStatus = grpcStatus;
  const route = ex.route;
  if (route && (route.responseHeaders || ex.destination?.responseHeaders)) {
    const count = route.action.kind === 'forward' ? route.action.clusters.length : 1;
    applyRouteHeaderOperations(headers, route.responseHeaders, ex.destination?.responseHeaders, count);
  }
  if (ex.upstreamServiceTimeMs >= 0) headers['x-envoy-upstream-service-time'] = String(Math.round(ex.upstreamServiceTimeMs));
  if (ex.responseExtras) Object.assign(headers, ex.responseExtras);
  if (ex.services.state.draining && !ex.http2) headers.connection = 'close';
  return headers;
}

/**
 * Streams an upstream response to the client; done when it is done either way (undefined: done
 * already, a body that had arrived whole and went out with the head, with no promise made).
 */
export function relayResponse(ex: Exchange, up: UpstreamResponse): Promise<void> | undefined {
  const res = ex.res;
  if (ex.responded) {
    up.body.destroy();
    return undefined;
  }
  ex.status = up.status;
  ex.responded = true;
  if (!res || !safeWriteHead(res, up.status, downstreamHeaders(ex, up))) {
    up.body.destroy();
    return undefined;
  }
  const whole = up.completeBody;
  if (whole !== undefined) {
    // The whole body came with the head (HTTP/1.1 with a length, so no trailers): one write.
    if (whole.length > 0) res.end(whole);
    else res.end();
    return undefined;
  }
  // gRPC's status usually comes in the trailers; telemetry reports it (read before the response ends).
  if (ex.grpc && up.trailers) up.trailers.then((t) => (ex.grpcStatus = t['grpc-status'] ?? ex.grpcStatus), () => {});
  const body = up.body;
  return new Promise<void>((resolve) => {
    const finish = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      // The client left before the body ended: stop reading from the upstream.
      if (!body.readableEnded) {
        ex.addFlag('DC');
        body.destroy();
      }
      finish();
    };
    res.once('close', onClose);
    body.once('error', (err: Error & { flag?: unknown }) => {
      // The upstream reset mid-body; the client can only be told by a reset of its own.
      ex.addFlag(typeof err.flag === 'string' ? err.flag : 'UC');
      res.destroy();
    });
    const length = up.headers['content-length'];
    if (typeof length === 'string' && length.length <= 5 && Number(length) <= SMALL_BODY_BYTES) {
      // A small body of known length goes out with the headers in one write (one syscall,
      // instead of headers, body and end separately): most API responses take this path.
      const chunks: Buffer[] = [];
      body.on('data', (c: Buffer) => chunks.push(c));
      // HTTP/1.1 has trailers only after a chunked body (RFC 9112 §7.1.2), never with a length:
      // the response ends at once, without waiting for the trailers' promise.
      const noTrailers = up.protocol === 'http1' || up.trailers === undefined;
      body.once('end', () => {
        const last = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (!noTrailers) return void endWithTrailers(res, up.trailers, last).then(finish, finish);
        if (last !== undefined && last.length > 0) res.end(last);
        else res.end();
        finish();
      });
      return;
    }
    body.once('end', () => {
      void endWithTrailers(res, up.trailers, undefined).then(finish, finish);
    });
    body.pipe(res as NodeJS.WritableStream, { end: false });
  });
}

/** Bodies up to this size (with a Content-Length) are collected and written with the headers. */
const SMALL_BODY_BYTES = 16 * 1024;

async function endWithTrailers(res: DownstreamResponse, trailers: UpstreamResponse['trailers'], last: Buffer | undefined): Promise<void> {
  const t = trailers ? await trailers.catch(() => undefined) : undefined;
  if (t) {
    const clean: Record<string, string> = {};
    let any = false;
    for (const name in t) {
      const v = t[name];
      if (v === undefined || name.charCodeAt(0) === 58) continue;
      clean[name] = v;
      any = true;
    }
    if (any) res.addTrailers(clean);
  }
  if (last !== undefined && last.length > 0) res.end(last);
  else res.end();
}

/** writeHead, or false (and the stream reset) when a header value node refuses would have thrown. */
function safeWriteHead(res: DownstreamResponse, status: number, headers: OutgoingHttpHeaders | HeaderMap): boolean {
  try {
    (res as Http1Response | Http2ServerResponse).writeHead(status, headers);
    return true;
  } catch {
    res.destroy();
    return false;
  }
}

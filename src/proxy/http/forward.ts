/**
 * The router's forwarding half: the request headers the upstream gets, then the upstream call
 * (rewrite, timeout, retries, consistent-hash key: hash-key.ts), mirrors, and the response
 * streamed back (with a generated hash cookie, if one was made).
 */
import type { Readable } from 'node:stream';
import type { Http2ServerRequest } from 'node:http2';
import type { ForwardAction } from '../../proxy-config/index.js';
import { applyRouteHeaderOperations, type HeaderMap } from '../stages/headers.js';
import { rewritePath, rewriteAuthority } from '../stages/rewrite.js';
import { endpointAddress, type UpstreamRequest } from '../upstream-port.js';
import { NoRouteError } from '../errors.js';
import { HOP_BY_HOP, relayResponse } from './respond.js';
import { readReplayableBody } from './body.js';
import { checkedBody } from '../ext-authz/body.js';
import { appendSetCookie, hashKey } from './hash-key.js';
import type { Exchange } from './exchange.js';
import { peerRequestHeaders } from './peer-exchange.js';
import { traceUpstreamHeaders } from '../tracing/request.js';

/** Request headers for the upstream: hop-by-hop removed, Envoy's additions, route operations. */
export function requestHeadersStep(ex: Exchange): void {
  const src = ex.req.headers;
  const headers: HeaderMap = {};
  for (const name in src) {
    const v = src[name];
    if (v === undefined || name.charCodeAt(0) === 58 /* ':' (HTTP/2 pseudo-headers) */ || HOP_BY_HOP.has(name) || name === 'host') continue;
    headers[name] = v;
  }
  const connection = src.connection;
  if (typeof connection === 'string' && connection.includes(',')) {
    // Headers the client named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
    for (const token of connection.split(',')) delete headers[token.trim().toLowerCase()];
  }
  const te = src.te;
  if (typeof te === 'string' && te.includes('trailers')) headers.te = 'trailers'; // gRPC needs it end to end
  if (ex.upgrade) {
    headers.connection = 'upgrade';
    const upgrade = src.upgrade;
    if (upgrade !== undefined) headers.upgrade = upgrade;
  }
  if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = ex.scheme;
  if (headers['x-request-id'] === undefined) headers['x-request-id'] = ex.services.newRequestId();
  traceUpstreamHeaders(ex, headers);
  forwardClientCert(headers, ex);
  peerRequestHeaders(ex, headers);
  if (ex.listener.direction === 'gateway') {
    // Gateways are the edge (use_remote_address): the client's address is appended.
    const xff = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = xff === undefined ? ex.conn.remoteAddress : `${Array.isArray(xff) ? xff.join(', ') : xff}, ${ex.conn.remoteAddress}`;
  }
  const route = ex.route;
  if (route && (route.requestHeaders || ex.destination?.requestHeaders)) {
    const count = route.action.kind === 'forward' ? route.action.clusters.length : 1;
    applyRouteHeaderOperations(headers, route.requestHeaders, ex.destination?.requestHeaders, count);
  }
  ex.upstreamHeaders = headers as Record<string, string | string[]>;
}

/**
 * `x-forwarded-client-cert` as Istio configures Envoy: sidecar inbound APPEND_FORWARD (this hop's
 * client certificate appended to what came in), gateways SANITIZE_SET (only this hop's, never the
 * client's own header), sidecar outbound SANITIZE (never passed on).
 */
function forwardClientCert(headers: HeaderMap, ex: Exchange): void {
  const XFCC = 'x-forwarded-client-cert';
  const details = ex.conn.clientCertDetails;
  const direction = ex.listener.direction;
  if (direction === 'inbound') {
    if (details === undefined) return;
    const prior = headers[XFCC];
    headers[XFCC] = prior === undefined ? details : `${Array.isArray(prior) ? prior.join(',') : prior},${details}`;
    return;
  }
  delete headers[XFCC];
  if (direction === 'gateway' && details !== undefined) headers[XFCC] = details;
}

/** Terminal: sends the request upstream and relays the response. */
export async function forwardStep(ex: Exchange): Promise<void> {
  const route = ex.route;
  if (!route || route.action.kind !== 'forward' || !ex.upstreamHeaders) throw new NoRouteError();
  const action = route.action;
  const headers = ex.upstreamHeaders as Record<string, string | string[]>;
  let path = ex.path;
  let authority = ex.authority;
  if (action.rewrite) {
    path = rewritePath(action.rewrite, route.match, ex.path);
    if (path !== ex.path) headers['x-envoy-original-path'] = ex.path + ex.query;
    authority = rewriteAuthority(action.rewrite, authority);
  }
  headers.host = authority;
  // The upstream side buffers for its own retries; a mirror needs its own copy of the body.
  const pendingBody = requestBody(ex, (action.mirrors?.length ?? 0) > 0);
  // Awaited only when it is a promise (a body buffered for mirrors): an `await` costs a turn.
  const body = pendingBody instanceof Promise ? await pendingBody : pendingBody;
  const request: UpstreamRequest = { method: ex.method, path: path + ex.query, headers, body };
  if (action.mirrors) mirror(ex, action, request);
  ex.upstreamStartedAt = performance.now();
  const hash = action.hashPolicy ? hashKey(ex, action.hashPolicy) : undefined;
  const up = await ex.services.upstreams.send(ex.cluster, request, {
    timeoutMs: action.timeoutMs || undefined,
    retry: action.retry,
    hashKey: hash?.key,
    signal: ex.abort,
    http2: ex.http2,
    originalDestination: originalDestination(ex),
  });
  ex.upstreamServiceTimeMs = up.serviceTimeMs ?? performance.now() - ex.upstreamStartedAt;
  ex.upstreamHost = endpointAddress(up.endpoint);
  ex.upstreamEndpoint = up.endpoint;
  ex.attempts = up.attempts;
  if (up.flags) for (const f of up.flags) ex.addFlag(f);
  if (hash?.setCookie) appendSetCookie(up.headers, hash.setCookie);
  ex.details = 'via_upstream';
  const relayed = relayResponse(ex, up);
  if (relayed !== undefined) await relayed;
}

/**
 * For PASSTHROUGH clusters (ALLOW_ANY to an unknown host): where the request was headed. Outbound
 * that is the original destination of a captured connection, else the URL's host and port;
 * inbound it is the workload itself.
 */
function originalDestination(ex: Exchange): { address: string; port: number } | undefined {
  if (ex.snapshot.clusters.get(ex.cluster)?.discovery !== 'original-dst') return undefined;
  if (ex.listener.direction === 'inbound') return { address: ex.snapshot.config.node.ip || '127.0.0.1', port: ex.port };
  // A connection iptables redirected: the address the app dialled, not what its Host header says.
  const b = ex.conn.binding;
  if (b.kind === 'outbound-port' && b.original) return { address: b.host, port: b.port };
  return { address: hostOf(ex.authority), port: ex.port };
}

/** `reviews:9080` -> `reviews`; `[::1]:80` -> `::1`. */
export function hostOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']'));
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

/** Does the client send a body? (HTTP/1: a length or chunked; HTTP/2: no END_STREAM on HEADERS.) */
export function hasRequestBody(ex: Exchange): boolean {
  if (ex.http2) return !(ex.req as Http2ServerRequest).stream.endAfterHeaders;
  const h = ex.req.headers;
  const cl = h['content-length'];
  return h['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

function requestBody(ex: Exchange, replay: boolean): Promise<Readable | Buffer | null> | Readable | null {
  if (!hasRequestBody(ex)) return null;
  // Already read for an ext_authz check that included the body (ext-authz/body.ts).
  const checked = checkedBody(ex.req);
  if (checked) return Promise.resolve(checked);
  // Mirrors need the body twice: buffered up to 1 MiB as Envoy does; past it, no mirror.
  return replay ? readReplayableBody(ex.req, 1024 * 1024) : ex.req;
}

/** Mirrors: a copy to each mirror cluster (`-shadow` host), response ignored, never waited for. */
function mirror(ex: Exchange, action: ForwardAction, request: UpstreamRequest): void {
  if (request.body !== null && !Buffer.isBuffer(request.body)) return; // too large to copy
  for (const m of action.mirrors ?? []) {
    if (!(ex.services.random() * 100 < m.percent)) continue;
    const headers = { ...request.headers, host: shadowHost(String(request.headers.host ?? '')) };
    ex.services.upstreams
      .send(m.cluster, { method: request.method, path: request.path, headers, body: request.body }, { timeoutMs: action.timeoutMs || undefined })
      .then(
        (r) => r.body.resume(),
        () => ex.services.stats.inc('mirror_failed'),
      );
    ex.services.stats.inc('mirror_sent');
  }
}

/** Envoy's shadow host: `reviews:9080` -> `reviews-shadow:9080`. */
export function shadowHost(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon > 0 && !host.endsWith(']') && /^\d+$/.test(host.slice(colon + 1))) return `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
  return `${host}-shadow`;
}


/**
 * One ext_authz check as Envoy's HTTP ext_authz client makes it (raw_http_client_impl.cc): an
 * HTTP request through the provider's cluster (so the cluster's endpoints, load balancing and
 * mTLS apply) with the original method, `pathPrefix` + the original path and query, Host,
 * Authorization and the provider's allowed request headers, the provider's additional headers,
 * and an empty body (Content-Length 0) unless the body is included.
 *
 * The answer: 200 allows, carrying the allowed headers up (and down to the client); any other
 * status below 500 denies with the provider's status, body and allowed headers; a 5xx, a failed
 * connection or the timeout is an error, which the caller turns into `statusOnError` or, with
 * `failOpen`, lets the request through.
 */
import type { Readable } from 'node:stream';
import type { ExtAuthzService } from '../../proxy-config/index.js';
import type { UpstreamPort } from '../upstream-port.js';
import { headerSelector } from './headers.js';
import type { BufferedBody } from './body.js';

export type CheckOutcome =
  | { kind: 'allowed'; upstreamHeaders: Record<string, string>; downstreamHeaders: Record<string, string> }
  | { kind: 'denied'; status: number; body: string; headers: Record<string, string> }
  | { kind: 'error'; reason: string };

/** What the check copies from the downstream request. */
export interface CheckedRequest {
  method: string;
  /** Normalized path with its query, as the router would send it. */
  path: string;
  authority: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Always sent, whatever the provider lists (Envoy adds them to every allowed-headers matcher). */
const ALWAYS = new Set(['authorization']);
/** Never copied: connection-specific, or set by the check itself. */
const NEVER = new Set(['host', 'content-length', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'expect']);
/** Added to a denial's allowed client headers by Envoy when the provider lists any. */
const DENY_ALWAYS = new Set(['path', 'status', 'www-authenticate', 'location']);
/** A denial body larger than this is cut: the proxy holds it in memory. */
const MAX_DENIED_BODY = 64 * 1024;
/** Envoy sends Content-Length: 0 and no body when the body is not included. */
const EMPTY = Buffer.alloc(0);

export async function checkRequest(upstreams: UpstreamPort, service: ExtAuthzService, request: CheckedRequest, body: BufferedBody | undefined, signal: AbortSignal): Promise<CheckOutcome> {
  const headers: Record<string, string | string[]> = {};
  const include = headerSelector(service.includeRequestHeaders);
  for (const name in request.headers) {
    const value = request.headers[name];
    if (value === undefined || name.startsWith(':') || NEVER.has(name)) continue;
    if (ALWAYS.has(name) || include(name)) headers[name] = value;
  }
  for (const h of service.includeAdditionalHeaders) headers[h.name.toLowerCase()] = h.value;
  headers.host = request.authority;
  headers['content-length'] = String(body ? body.head.length : 0);
  if (body) headers['x-envoy-auth-partial-body'] = String(body.partial);

  let response;
  try {
    response = await upstreams.send(service.cluster, { method: request.method, path: service.pathPrefix + request.path, headers, body: body ? body.head : EMPTY }, { timeoutMs: service.timeoutMs, signal });
  } catch (err) {
    return { kind: 'error', reason: err instanceof Error ? err.message : String(err) };
  }
  const status = response.status;
  if (status >= 500) {
    response.body.resume();
    return { kind: 'error', reason: `the provider answered ${status}` };
  }
  if (status === 200) {
    response.body.resume();
    return {
      kind: 'allowed',
      upstreamHeaders: pick(response.headers, headerSelector(service.headersToUpstreamOnAllow)),
      downstreamHeaders: pick(response.headers, headerSelector(service.headersToDownstreamOnAllow)),
    };
  }
  const listed = service.headersToDownstreamOnDeny;
  const selector = listed.length === 0 ? () => true : ((s) => (name: string) => DENY_ALWAYS.has(name) || s(name))(headerSelector(listed));
  let text: string;
  try {
    text = await readText(response.body);
  } catch (err) {
    return { kind: 'error', reason: err instanceof Error ? err.message : String(err) };
  }
  return { kind: 'denied', status, body: text, headers: pick(response.headers, selector) };
}

function pick(from: Readonly<Record<string, string | string[] | undefined>>, selected: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in from) {
    const value = from[name];
    if (value === undefined || name.startsWith(':') || NEVER.has(name) || name === 'date' || !selected(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    if (size < MAX_DENIED_BODY) chunks.push(b.subarray(0, MAX_DENIED_BODY - size));
    size += b.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

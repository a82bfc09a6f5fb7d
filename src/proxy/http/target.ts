/**
 * Where a request is going: its authority, destination port and path, from the request line and
 * Host (HTTP/1), or `:authority` and `:path` (HTTP/2). Apps that use HTTP_PROXY send the
 * absolute form (`GET http://reviews:9080/x`), which carries the authority itself.
 */
import type { Http2ServerRequest } from 'node:http2';
import type { Http1Request } from './h1/request.js';
import type { ConnectionContext } from '../listeners/connection.js';
import { BadRequestError, NotImplementedError, UpgradeRequiredError, type ProxyError } from '../errors.js';
import type { DownstreamRequest } from './exchange.js';

export interface Target {
  authority: string;
  port: number;
  path: string;
  error?: ProxyError;
}

/** RFC 3986 authority characters (reg-name, IP literal, port, userinfo). */
const AUTHORITY = /^[A-Za-z0-9\-._~%!$&'()*+,;=:[\]@]+$/;

export function parseTarget(req: DownstreamRequest, conn: ConnectionContext): Target {
  let authority: string;
  let path: string;
  if (req.httpVersionMajor === 2) {
    const h = (req as Http2ServerRequest).headers;
    authority = h[':authority'] ?? h.host ?? '';
    path = h[':path'] ?? '/';
  } else {
    const r = req as Http1Request;
    if (r.httpVersionMajor !== 1) return bad('', 'http/0.9 is not supported');
    if (r.httpVersionMinor === 0) return { authority: r.headers.host ?? '', port: 0, path: '/', error: new UpgradeRequiredError() };
    const te = r.headers['transfer-encoding'];
    // Only chunked is understood (Envoy answers any other coding 501); the parser would fail on the body anyway.
    if (te !== undefined && !/(^|,)\s*chunked\s*$/i.test(te)) return { authority: r.headers.host ?? '', port: 0, path: '/', error: new NotImplementedError('unsupported transfer encoding') };
    const url = r.url ?? '/';
    authority = r.headers.host ?? '';
    path = url;
    if (url.charCodeAt(0) !== 47 /* '/' */) {
      const scheme = /^https?:\/\//i.exec(url);
      if (scheme) {
        // Absolute form: the URL's authority replaces Host (RFC 9112 §3.2.2).
        const rest = url.slice(scheme[0].length);
        const end = rest.search(/[/?]/);
        authority = end < 0 ? rest : rest.slice(0, end);
        path = end < 0 ? '/' : rest[end] === '?' ? `/${rest.slice(end)}` : rest.slice(end);
      } else if (!(url === '*' && r.method === 'OPTIONS')) {
        return bad(authority, 'invalid request target');
      }
    }
  }
  // A keep-alive connection sends the same Host again and again: checked once per connection.
  const memo = conn.lastAuthority;
  let port: number;
  if (memo !== undefined && memo.authority === authority) port = memo.port;
  else {
    if (authority === '' || !AUTHORITY.test(authority)) return bad(authority, 'invalid authority');
    port = authorityPort(authority);
    if (port === -1) return bad(authority, 'invalid authority port');
    conn.lastAuthority = { authority, port };
  }
  return { authority, port: destinationPort(conn, port), path };
}

/** The port in `host:port` / `[v6]:port`; 0 when absent, -1 when malformed. */
export function authorityPort(authority: string): number {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.lastIndexOf(']') > colon) return 0;
  const text = authority.slice(colon + 1);
  if (text === '') return 0;
  if (!/^\d{1,5}$/.test(text)) return -1;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : -1;
}

/**
 * The port the request is addressed to. Outbound, the authority says it (the app's URL). On
 * listeners with their own port, it is that port, whatever the Host says (a gateway bound on 8080
 * for its port 80 still routes as port 80). The inbound capture port knows it only from a port map.
 */
function destinationPort(conn: ConnectionContext, authorityPort: number): number {
  const b = conn.binding;
  switch (b.kind) {
    case 'outbound':
      return authorityPort !== 0 ? authorityPort : conn.scheme === 'https' ? 443 : 80;
    case 'inbound':
      return b.destinationPort ?? authorityPort;
    case 'outbound-port':
    case 'inbound-own':
    case 'gateway':
      return b.port;
  }
}

function bad(authority: string, why: string): Target {
  return { authority, port: 0, path: '/', error: new BadRequestError(why) };
}

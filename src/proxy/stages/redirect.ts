/**
 * VirtualService `redirect` (and Gateway `httpsRedirect`), producing the status and Location that
 * Envoy's redirect route sends (Http::Utility::newUri, with Istio's translation in ApplyRedirect):
 * - scheme: `scheme` when set, else the request's;
 * - port: an explicit `port`, or the request port for derivePort FROM_REQUEST_PORT, written as
 *   `:port` except 80 for http and 443 for https (Istio omits those); FROM_PROTOCOL_DEFAULT sets none;
 * - host: `authority` when set; else the request's, whose port is dropped when a new port is set,
 *   or when the scheme changes and the port was the old scheme's default (`:80` for http);
 * - path: `uri` replaces the whole path and keeps the request's query (unless `uri` has its own);
 *   `prefixRewrite` replaces the matched prefix; neither keeps the path;
 * - code: 301 by default; 302, 303, 307 and 308 as configured.
 */
import type { RouteAction } from '../../proxy-config/index.js';

export type RedirectAction = Extract<RouteAction, { kind: 'redirect' }>;

export interface RedirectRequest {
  /** The request's scheme as seen by the proxy (x-forwarded-proto when trusted, else the connection's). */
  scheme: string;
  authority: string;
  /** Normalized path, without the query. */
  path: string;
  /** Query with or without its leading `?` ('' when none). */
  query: string;
  /** The port the request arrived on (listener port), for derivePort FROM_REQUEST_PORT. */
  port: number;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function queryPart(query: string): string {
  if (query === '') return '';
  return query.charCodeAt(0) === 63 ? query : `?${query}`;
}

function validPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536;
}

/** Envoy's processRequestHost: the request's host, with its port dropped where the redirect makes it wrong. */
function requestHost(authority: string, newScheme: string, newPort: string, requestScheme: string): string {
  if (authority === '') return authority;
  let hostEnd: number;
  if (authority.charCodeAt(0) === 91) {
    hostEnd = authority.lastIndexOf(']:');
    if (hostEnd !== -1) hostEnd += 1;
  } else {
    hostEnd = authority.lastIndexOf(':');
  }
  if (hostEnd === -1) return authority;
  const requestPort = authority.slice(hostEnd);
  let removePort = newPort !== '';
  if (newScheme !== requestScheme) {
    removePort ||= requestScheme === 'https' && requestPort === ':443';
    removePort ||= requestScheme === 'http' && requestPort === ':80';
  }
  return removePort ? authority.slice(0, hostEnd) : authority;
}

/** The redirect response for a request that matched a redirect route. */
export function buildRedirect(action: RedirectAction, req: RedirectRequest, matchedPrefix?: string): { status: number; location: string } {
  const scheme = typeof action.scheme === 'string' && action.scheme !== '' ? action.scheme : req.scheme || 'http';
  let port: number | undefined;
  if (validPort(action.port)) port = action.port;
  else if (action.derivePort === 'FROM_REQUEST_PORT' && validPort(req.port)) port = req.port;
  if ((port === 80 && scheme === 'http') || (port === 443 && scheme === 'https')) port = undefined;
  const portText = port === undefined ? '' : `:${port}`;
  const host = typeof action.host === 'string' && action.host !== ''
    ? action.host
    : requestHost(req.authority, scheme, portText, req.scheme);

  const query = queryPart(req.query);
  let path: string;
  if (typeof action.path === 'string' && action.path !== '') {
    path = action.path.includes('?') ? action.path : action.path + query;
  } else if (typeof action.prefixRewrite === 'string' && action.prefixRewrite !== '') {
    const matched = matchedPrefix ?? (req.path.startsWith('/') ? '/' : '');
    // Envoy replaces by length, so a case-insensitive prefix replaces the request's own spelling.
    path = action.prefixRewrite + req.path.slice(Math.min(matched.length, req.path.length)) + query;
  } else {
    path = req.path + query;
  }
  if (!path.startsWith('/')) path = `/${path}`;

  const status = REDIRECT_CODES.has(action.code) ? action.code : 301;
  return { status, location: `${scheme}://${host}${portText}${path}` };
}

/** Gateway `httpsRedirect: true`: 301 to the same host and path over https (Envoy https_redirect). */
export function buildHttpsRedirect(req: RedirectRequest): { status: number; location: string } {
  return buildRedirect({ kind: 'redirect', scheme: 'https', code: 301 }, req);
}

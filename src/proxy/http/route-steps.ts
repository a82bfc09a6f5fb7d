/**
 * The chain's steps up to the choice of destination. Each adapts one pure stage function
 * (src/proxy/stages) to the exchange: it reads what it needs, records what it decided, and
 * either returns (go on), throws a typed error (rescue.ts answers), or replies itself.
 */
import { normalizePath } from '../stages/path-normalization.js';
import { selectVirtualHost } from '../stages/virtual-host.js';
import { matchRoute } from '../stages/route-match.js';
import { decideFault } from '../stages/fault.js';
import { effectiveCorsPolicy, corsPreflight, corsResponseHeaders } from '../stages/cors.js';
import { buildRedirect, buildHttpsRedirect } from '../stages/redirect.js';
import { matchedPathPrefix } from '../stages/rewrite.js';
import { pickWeighted } from '../stages/weighted.js';
import { applyHeaderOperations, type HeaderMap } from '../stages/headers.js';
import { PathRejectedError, NoRouteError, FaultAbortError, ClusterNotFoundError } from '../errors.js';
import { sendLocalReply } from './respond.js';
import type { Exchange } from './exchange.js';

export function normalizePathStep(ex: Exchange): void {
  const result = normalizePath(ex.rawPath, ex.snapshot.config.mesh.pathNormalization);
  if ('reject' in result) throw new PathRejectedError();
  ex.path = result.path;
  ex.query = result.query;
}

export function virtualHostStep(ex: Exchange): void {
  const routeConfig = ex.snapshot.routeConfigs.get(ex.hcm.routeConfig);
  const vhost = routeConfig ? selectVirtualHost(routeConfig, ex.authority, ex.port) : undefined;
  if (!vhost) throw new NoRouteError();
  ex.vhost = vhost;
  // Gateway `httpsRedirect`: Envoy's require_tls on the virtual host, checked before routing.
  if (ex.hcm.httpsRedirect && ex.scheme === 'http') {
    const { status, location } = buildHttpsRedirect(ex);
    reply(ex, status, '', { location });
  }
}

export function routeStep(ex: Exchange): void {
  const route = ex.vhost ? matchRoute(ex.vhost, ex) : undefined;
  if (!route) throw new NoRouteError();
  ex.route = route;
  // Envoy picks the weighted cluster when it resolves the route, before any filter runs, so a
  // fault abort or delay is reported (metrics, logs, spans) against the destination it stood for.
  if (route.action.kind === 'forward') {
    const destination = pickWeighted(route.action.clusters, ex.services.random);
    if (destination) {
      ex.destination = destination;
      ex.cluster = destination.cluster;
    }
  }
}

export function faultStep(ex: Exchange): Promise<void> | void {
  const fault = ex.route?.fault;
  if (!fault) return;
  const decision = decideFault(fault, ex.services.random);
  const abort = decision.abort;
  const raise = () => {
    if (abort) throw new FaultAbortError(abort.status, abort.grpcStatus === undefined ? undefined : Number(abort.grpcStatus));
  };
  if (decision.delayMs === undefined) return raise();
  ex.addFlag('DI');
  return ex.services.sleep(decision.delayMs, ex.abort).then(raise);
}

/** Preflights are answered here; for other requests the allow headers wait for the response. */
export function corsStep(ex: Exchange): void {
  const policy = effectiveCorsPolicy(ex.route?.cors, ex.vhost?.cors);
  if (!policy) return;
  const preflight = corsPreflight(policy, ex);
  if (preflight) {
    reply(ex, preflight.status, '', preflight.headers);
    return;
  }
  const extras = corsResponseHeaders(policy, ex.header('origin'));
  if (extras) ex.responseExtras = extras;
}

/** The route's action: the router's local replies, or the destination routeStep picked. */
export function actionStep(ex: Exchange): void {
  const route = ex.route;
  if (!route) throw new NoRouteError();
  const action = route.action;
  switch (action.kind) {
    case 'redirect': {
      const { status, location } = buildRedirect(action, ex, matchedPathPrefix(route.match, ex.path));
      reply(ex, status, '', { location, ...routeResponseHeaders(ex) });
      return;
    }
    case 'direct-response':
      reply(ex, action.status, action.body ?? '', routeResponseHeaders(ex));
      return;
    case 'cluster-not-found':
      throw new ClusterNotFoundError(action.cluster);
    case 'forward': {
      // Picked by routeStep; here only checked to exist.
      const destination = ex.destination;
      if (!destination || !ex.snapshot.clusters.has(destination.cluster)) throw new ClusterNotFoundError(destination?.cluster ?? '');
    }
  }
}

function reply(ex: Exchange, status: number, body: string, headers: Record<string, string>): void {
  sendLocalReply(ex, { status, flag: '', body, details: status >= 300 && status < 400 && headers.location ? 'redirect' : 'direct_response', grpcStatus: undefined, unexpected: false }, headers);
}

/** Envoy applies the route's response_headers_to_add to its direct responses and redirects too. */
function routeResponseHeaders(ex: Exchange): Record<string, string> {
  const ops = ex.route?.responseHeaders;
  if (!ops) return {};
  const headers: HeaderMap = {};
  applyHeaderOperations(headers, ops);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

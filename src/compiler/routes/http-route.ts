/**
 * One VirtualService HTTP route -> Envoy-style routes, one per applicable match (the match list
 * is ORed, so each entry becomes its own route, in order). The action is exactly one of redirect,
 * direct response or forward; a forward whose every destination names a cluster that does not
 * exist (no such subset or host) becomes `cluster-not-found` (503 NC), so it is neither dropped nor
 * sent somewhere else.
 */
import type { Route, RouteAction, WeightedCluster } from '../../proxy-config/index.js';
import type { HTTPRoute } from '../../resources/istio/virtual-service.js';
import type { ProxyScope } from '../scope.js';
import type { ClusterSet } from '../clusters/cluster-set.js';
import type { HttpRouteEntry, VirtualServiceEntry } from '../snapshot/virtual-services.js';
import { matchApplies, translateMatch, type RouteAudience } from './match.js';
import { corsPolicy, faultInjection, headerOperations, retryPolicy } from './policies.js';
import { resolveDestination } from './destination.js';

export interface RouteContext {
  scope: ProxyScope;
  clusters: ClusterSet;
  audience: RouteAudience;
}

export function translateHttpRoutes(vs: VirtualServiceEntry, ctx: RouteContext): Route[] {
  return vs.http.flatMap((entry) => translateHttpRoute(vs, entry, ctx));
}

function translateHttpRoute(vs: VirtualServiceEntry, entry: HttpRouteEntry, ctx: RouteContext): Route[] {
  const r = entry.route;
  const vsNs = vs.resource.metadata.namespace;
  const matches = r.match ?? [];
  const applicable = matches.filter((m) => matchApplies(m, vsNs, vs.topGateways, ctx.audience));
  if (matches.length > 0 && applicable.length === 0) return [];
  // A route without matches still belongs to the VirtualService's own gateways only.
  if (matches.length === 0 && ![...vs.topGateways].some((g) => ctx.audience.gateways.has(g))) return [];
  const action = routeAction(r, entry, applicable[0]?.uri?.prefix !== undefined || applicable.length === 0 || applicable.every((m) => !m.uri), ctx);
  if (!action) return [];
  const base = {
    name: routeName(vs, entry),
    action,
    ...optional('fault', faultInjection(r.fault)),
    ...optional('requestHeaders', headerOperations(r.headers?.request)),
    ...optional('responseHeaders', headerOperations(r.headers?.response)),
    ...optional('cors', corsPolicy(r.corsPolicy)),
    source: entry.source,
  };
  const { name, ...rest } = base;
  // Name and match first, so a dump reads like `istioctl proxy-config routes`.
  if (applicable.length === 0) return [{ name, match: translateMatch(undefined), ...rest }];
  return applicable.map((m) => ({ name, match: translateMatch(m), ...rest }));
}

/** The HTTP route's own name (with the match's), else `<vs>.<namespace>.<index>`, so logs can name it. */
function routeName(vs: VirtualServiceEntry, entry: HttpRouteEntry): string {
  return entry.route.name ?? `${vs.resource.metadata.name}.${vs.resource.metadata.namespace}.${entry.index}`;
}

function routeAction(r: HTTPRoute, entry: HttpRouteEntry, prefixMatched: boolean, ctx: RouteContext): RouteAction | undefined {
  if (r.redirect) {
    const d = r.redirect;
    return {
      kind: 'redirect',
      ...(d.scheme ? { scheme: d.scheme } : {}),
      ...(d.authority ? { host: d.authority } : {}),
      ...(d.port ? { port: d.port } : {}),
      ...(d.derivePort ? { derivePort: d.derivePort } : {}),
      ...(d.uri ? { path: d.uri } : {}),
      ...(d.prefixRewrite ? { prefixRewrite: d.prefixRewrite } : {}),
      code: d.redirectCode || 301,
    };
  }
  if (r.directResponse) {
    const body = r.directResponse.body;
    const text = body?.string ?? (body?.bytes !== undefined ? Buffer.from(body.bytes, 'base64').toString('utf8') : undefined);
    return { kind: 'direct-response', status: r.directResponse.status, ...(text !== undefined ? { body: text } : {}) };
  }
  const destinations = r.route ?? [];
  if (destinations.length === 0) return undefined;
  const { scope, clusters, audience } = ctx;
  const resolved = destinations.map((d) => ({ d, res: resolveDestination(d.destination, entry.namespace, audience.port, scope) }));
  // One destination takes all traffic whatever its weight; with several, weight 0 gets none.
  const weighted = resolved.length === 1 ? resolved : resolved.filter(({ d }) => (d.weight ?? 0) > 0);
  if (weighted.every(({ res }) => !clusters.has(res.cluster))) {
    return { kind: 'cluster-not-found', cluster: (weighted[0] ?? resolved[0])?.res.cluster ?? '' };
  }
  const wc: WeightedCluster[] = weighted.map(({ d, res }) => ({
    cluster: res.cluster,
    weight: resolved.length === 1 ? 100 : d.weight ?? 0,
    ...optional('requestHeaders', headerOperations(d.headers?.request)),
    ...optional('responseHeaders', headerOperations(d.headers?.response)),
  }));
  const hash = wc.length === 1 ? clusters.hashPolicy(wc[0]?.cluster ?? '') : undefined;
  const mirrors = [
    ...(r.mirror ? [{ dest: r.mirror, percent: r.mirrorPercentage?.value ?? 100 }] : []),
    ...(r.mirrors ?? []).map((m) => ({ dest: m.destination, percent: m.percentage?.value ?? 100 })),
  ].filter((m) => m.percent > 0).map((m) => ({ cluster: resolveDestination(m.dest, entry.namespace, audience.port, scope).cluster, percent: m.percent }));
  const rw = r.rewrite;
  const rewrite = rw ? {
    ...(rw.uri !== undefined ? (prefixMatched ? { prefix: rw.uri } : { path: rw.uri }) : {}),
    ...(rw.uriRegexRewrite?.match !== undefined ? { regex: { pattern: rw.uriRegexRewrite.match, substitution: rw.uriRegexRewrite.rewrite ?? '' } } : {}),
    ...(rw.authority ? { authority: rw.authority } : {}),
  } : undefined;
  const retry = retryPolicy(r.retries, scope.snapshot.mesh, hash !== undefined);
  return {
    kind: 'forward',
    clusters: wc,
    ...(r.timeout ? { timeoutMs: r.timeout } : {}),
    ...optional('retry', retry),
    ...(mirrors.length ? { mirrors } : {}),
    ...(rewrite && Object.keys(rewrite).length ? { rewrite } : {}),
    ...optional('hashPolicy', hash),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * VirtualService HTTPMatchRequest -> RouteMatch (Istio's route.go translateRouteMatch): uri to a
 * path matcher (ignoreUriCase only for exact and prefix), scheme/method/authority to pseudo-header
 * matchers, headers and withoutHeaders (inverted), query parameters, and `@request.auth.claims.*`
 * keys to claim matchers on the validated JWT. An empty StringMatch is a presence match.
 * Also whether a match applies to a proxy at all: `gateways`, `sourceLabels`, `sourceNamespace`
 * and `port` select proxies and listeners, they are not matched at run time.
 */
import type { HTTPMatchRequest } from '../../resources/istio/virtual-service.js';
import type { StringMatch } from '../../resources/schema.js';
import { jwtClaimPath } from '../../resources/istio/virtual-service-headers.js';
import type { ClaimMatcher, HeaderMatcher, RouteMatch, StringMatcher } from '../../proxy-config/index.js';
import { labelsMatch } from '../../registry/index.js';
import { qualifyGateway } from '../snapshot/virtual-services.js';

/** Who is asking: the gateways this proxy implements (`mesh` for a sidecar), its labels and namespace. */
export interface RouteAudience {
  gateways: ReadonlySet<string>;
  labels: Record<string, string>;
  namespace: string;
  /** The listener port the route table serves. */
  port: number;
}

/** Istio's sourceMatchHTTP plus the port check of translateRoute. */
export function matchApplies(m: HTTPMatchRequest, vsNamespace: string, topLevelGateways: ReadonlySet<string>, audience: RouteAudience): boolean {
  if (m.port && m.port !== audience.port) return false;
  if (m.gateways?.length) return m.gateways.some((g) => audience.gateways.has(qualifyGateway(g, vsNamespace)));
  if (![...topLevelGateways].some((g) => audience.gateways.has(g))) return false;
  if (!labelsMatch(m.sourceLabels, audience.labels)) return false;
  return !m.sourceNamespace || m.sourceNamespace === audience.namespace;
}

const IGNORED_HEADER_KEYS = new Set(['uri', 'scheme', 'method', 'authority']);

export function translateMatch(m: HTTPMatchRequest | undefined): RouteMatch {
  if (!m) return { path: { prefix: '/' } };
  const out: RouteMatch = { path: m.uri ? stringMatcher(m.uri, m.ignoreUriCase) : { prefix: '/' } };
  const headers: HeaderMatcher[] = [];
  const claims: ClaimMatcher[] = [];
  if (m.scheme) headers.push({ name: ':scheme', match: stringMatcher(m.scheme) });
  if (m.method) headers.push({ name: ':method', match: stringMatcher(m.method) });
  if (m.authority) headers.push({ name: ':authority', match: stringMatcher(m.authority) });
  const add = (entries: Record<string, StringMatch> | undefined, invert: boolean) => {
    for (const [key, value] of Object.entries(entries ?? {})) {
      const claim = jwtClaimPath(key);
      const match = invert && value.regex === '*' ? { present: true as const } : stringMatcher(value);
      if (claim) {
        claims.push({ path: claim, match, ...(invert ? { invert: true } : {}) });
        continue;
      }
      const name = key.toLowerCase();
      if (IGNORED_HEADER_KEYS.has(name)) continue;
      headers.push({ name, match, ...(invert ? { invert: true } : {}) });
    }
  };
  add(m.headers, false);
  add(m.withoutHeaders, true);
  if (headers.length) out.headers = headers;
  if (claims.length) out.claims = claims;
  const query = Object.entries(m.queryParams ?? {}).map(([name, value]) => ({ name, match: stringMatcher(value) }));
  if (query.length) out.queryParams = query;
  return out;
}

export function stringMatcher(m: StringMatch, ignoreCase?: boolean): StringMatcher {
  const ci = ignoreCase ? { ignoreCase: true } : {};
  if (m.exact !== undefined) return { exact: m.exact, ...ci };
  if (m.prefix !== undefined) return { prefix: m.prefix, ...ci };
  if (m.regex !== undefined) return { regex: m.regex };
  return { present: true };
}

/** A route that matches every request (no match, or only a `/` prefix): Istio's catch-all. */
export function isCatchAll(match: RouteMatch): boolean {
  const p = match.path;
  return (!p || ('prefix' in p && p.prefix === '/' && !p.ignoreCase)) && !match.headers?.length && !match.queryParams?.length && !match.claims?.length;
}

/**
 * VirtualService `corsPolicy`, as Envoy's CORS filter applies it (cors_filter.cc):
 * - a request is a CORS request when it has a non-empty Origin; the origin is allowed when an
 *   allowOrigins matcher matches it (or matches `*`), and then it is echoed back, never `*`;
 * - a preflight is OPTIONS with Origin and Access-Control-Request-Method: the proxy answers it
 *   itself with 200, except that an unmatched origin is forwarded upstream when
 *   unmatchedPreflights is FORWARD (the default); with IGNORE it gets the 200 without allow-origin;
 * - other responses to allowed origins get allow-origin, allow-credentials and expose-headers.
 * Lists are joined with `,` and maxAge is whole seconds, as istiod writes them.
 */
import type { CorsPolicy } from '../../proxy-config/index.js';
import { matchString } from './route-match.js';

interface PreparedCors {
  policy: CorsPolicy;
  allowMethods: string;
  allowHeaders: string;
  exposeHeaders: string;
  maxAge: string;
}

const prepared = new WeakMap<CorsPolicy, PreparedCors>();

function joined(list: unknown): string {
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string').join(',') : '';
}

function prepare(policy: CorsPolicy): PreparedCors {
  let p = prepared.get(policy);
  if (p === undefined) {
    const age = policy.maxAgeSeconds;
    p = {
      policy,
      allowMethods: joined(policy.allowMethods),
      allowHeaders: joined(policy.allowHeaders),
      exposeHeaders: joined(policy.exposeHeaders),
      maxAge: typeof age === 'number' && Number.isFinite(age) && age >= 0 ? String(Math.trunc(age)) : '',
    };
    prepared.set(policy, p);
  }
  return p;
}

const merged = new WeakMap<CorsPolicy, WeakMap<CorsPolicy, CorsPolicy>>();

function mergePolicies(route: CorsPolicy, vhost: CorsPolicy): CorsPolicy {
  const nonEmpty = <T>(a: T[] | undefined, b: T[] | undefined): T[] | undefined => (a !== undefined && a.length > 0 ? a : b);
  return {
    allowOrigins: nonEmpty(route.allowOrigins, vhost.allowOrigins) ?? [],
    allowMethods: nonEmpty(route.allowMethods, vhost.allowMethods),
    allowHeaders: nonEmpty(route.allowHeaders, vhost.allowHeaders),
    exposeHeaders: nonEmpty(route.exposeHeaders, vhost.exposeHeaders),
    maxAgeSeconds: route.maxAgeSeconds ?? vhost.maxAgeSeconds,
    allowCredentials: route.allowCredentials ?? vhost.allowCredentials,
    unmatchedPreflights: route.unmatchedPreflights ?? vhost.unmatchedPreflights,
  };
}

/**
 * The policy in force for a route: Envoy takes each setting from the route's policy when it has
 * one and from the virtual host's otherwise. The result is cached per pair of policies.
 */
export function effectiveCorsPolicy(route: CorsPolicy | undefined, vhost: CorsPolicy | undefined): CorsPolicy | undefined {
  if (route === undefined || route === null) return vhost ?? undefined;
  if (vhost === undefined || vhost === null) return route;
  let byVhost = merged.get(route);
  if (byVhost === undefined) {
    byVhost = new WeakMap();
    merged.set(route, byVhost);
  }
  let policy = byVhost.get(vhost);
  if (policy === undefined) {
    policy = mergePolicies(route, vhost);
    byVhost.set(vhost, policy);
  }
  return policy;
}

export function isOriginAllowed(policy: CorsPolicy, origin: string): boolean {
  const origins: unknown[] = Array.isArray(policy.allowOrigins) ? policy.allowOrigins : [];
  for (const m of origins) {
    if (typeof m !== 'object' || m === null) continue;
    const matcher = m as CorsPolicy['allowOrigins'][number];
    if (matchString(matcher, '*') || matchString(matcher, origin)) return true;
  }
  return false;
}

export interface CorsRequest {
  method: string;
  header(name: string): string | undefined;
}

/**
 * The proxy's own answer to a CORS preflight, or undefined when the request goes on (not a
 * preflight, no policy, or an unmatched origin with unmatchedPreflights FORWARD).
 */
export function corsPreflight(policy: CorsPolicy | undefined, req: CorsRequest): { status: 200; headers: Record<string, string> } | undefined {
  if (typeof policy !== 'object' || policy === null || req.method !== 'OPTIONS') return undefined;
  const origin = req.header('origin');
  if (origin === undefined || origin === '') return undefined;
  const requestMethod = req.header('access-control-request-method');
  if (requestMethod === undefined || requestMethod === '') return undefined;
  const allowed = isOriginAllowed(policy, origin);
  if (!allowed && policy.unmatchedPreflights !== 'IGNORE') return undefined;

  const p = prepare(policy);
  const headers: Record<string, string> = {};
  if (allowed) headers['access-control-allow-origin'] = origin;
  if (policy.allowCredentials === true) headers['access-control-allow-credentials'] = 'true';
  if (p.allowMethods !== '') headers['access-control-allow-methods'] = p.allowMethods === '*' ? requestMethod : p.allowMethods;
  if (p.allowHeaders !== '') {
    headers['access-control-allow-headers'] = p.allowHeaders === '*' ? (req.header('access-control-request-headers') ?? '') : p.allowHeaders;
  }
  if (p.maxAge !== '') headers['access-control-max-age'] = p.maxAge;
  return { status: 200, headers };
}

/** Headers to add to the upstream response for an allowed origin; undefined when none apply. */
export function corsResponseHeaders(policy: CorsPolicy | undefined, origin: string | undefined): Record<string, string> | undefined {
  if (typeof policy !== 'object' || policy === null || origin === undefined || origin === '') return undefined;
  if (!isOriginAllowed(policy, origin)) return undefined;
  const p = prepare(policy);
  const headers: Record<string, string> = { 'access-control-allow-origin': origin };
  if (policy.allowCredentials === true) headers['access-control-allow-credentials'] = 'true';
  if (p.exposeHeaders !== '') headers['access-control-expose-headers'] = p.exposeHeaders;
  return headers;
}

/**
 * Istio's analyzeUnreachableHTTPRules / TCP / TLS (validation.go): rules after a catch-all, rules
 * whose every match an earlier rule already takes, and prefix matches shadowed by a shorter
 * prefix. Istio's webhook reports these as warnings (VirtualServiceUnreachableRule and
 * VirtualServiceIneffectiveMatch); so does Weft, with the same wording.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { StringMatch } from '../schema.js';
import type { HTTPMatchRequest, HTTPRoute, L4MatchAttributes, TCPRoute, TLSMatchAttributes, TLSRoute } from './virtual-service-schema.js';

export interface UnreachableReport {
  unused(path: FieldPath, rule: string, reason: string): void;
  ineffective(path: FieldPath, rule: string, match: string, dup: string): void;
}

// How Go's json.Marshal writes these messages: fields at their zero value are left out
// (omitempty), maps are sorted, and a set StringMatch is kept even when its value is "".
const MAP_FIELDS = new Set(['headers', 'withoutHeaders', 'queryParams', 'sourceLabels']);
const STRING_MATCH_FIELDS = new Set(['uri', 'scheme', 'method', 'authority']);

function sorted(record: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(record).sort()) out[k] = (record as Record<string, unknown>)[k];
  return out;
}

function canonical(value: unknown, key?: string): unknown {
  if (value === undefined || value === false || value === 0 || value === '') return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value;
  if (value === null || typeof value !== 'object') return value;
  if (key !== undefined && MAP_FIELDS.has(key)) {
    return Object.keys(value).length === 0 ? undefined : Object.fromEntries(Object.entries(sorted(value)).map(([k, v]) => [k, typeof v === 'object' && v !== null ? sorted(v) : v]));
  }
  if (key !== undefined && STRING_MATCH_FIELDS.has(key)) return sorted(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sorted(value))) {
    if (k === 'name') continue;
    const c = canonical(v, k);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** A canonical serialisation of a match (Istio compares json.Marshal output, without the name). */
function matchKey(match: HTTPMatchRequest | L4MatchAttributes | TLSMatchAttributes): string {
  return JSON.stringify(canonical(match));
}

function routeName(route: { name?: string | undefined }, n: number): string {
  return route.name ? JSON.stringify(route.name) : `#${n}`;
}

function requestName(match: { name?: string | undefined }, n: number): string {
  return match.name ? JSON.stringify(match.name) : `#${n}`;
}

interface PrefixMatch {
  path: FieldPath;
  routeStr: string;
  matchStr: string;
  prefix: string;
  port: number;
  method: string;
  authority: string;
  headers: Map<string, string>;
  queryParams: Map<string, string>;
  withoutHeaders: Map<string, string>;
}

function exactOrPrefix(sm: StringMatch | undefined): string {
  if (sm?.exact) return `exact:${sm.exact}`;
  if (sm?.prefix) return `prefix:${sm.prefix}`;
  return '';
}

function toMap(record: Record<string, StringMatch> | undefined): Map<string, string> {
  return new Map(Object.entries(record ?? {}).map(([k, v]) => [k, exactOrPrefix(v)]));
}

/** Istio's genMatchHTTPRoutes: only uri-prefix matches take part in the overlap check. */
function prefixMatch(route: HTTPRoute, match: HTTPMatchRequest, rulen: number, matchn: number, path: FieldPath): PrefixMatch | undefined {
  const prefix = match.uri?.prefix;
  if (!prefix) return undefined;
  return {
    path,
    routeStr: routeName(route, rulen),
    matchStr: requestName(match, matchn),
    prefix,
    port: match.port ?? 0,
    // Istio's own assumption when no method is matched.
    method: exactOrPrefix(match.method) || 'exact:GET',
    authority: exactOrPrefix(match.authority),
    headers: toMap(match.headers),
    queryParams: toMap(match.queryParams),
    withoutHeaders: toMap(match.withoutHeaders),
  };
}

function mapCovered(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, va] of a) {
    const vb = b.get(k);
    if (vb === undefined || (va !== vb && !va.startsWith(vb))) return false;
  }
  return true;
}

/** Istio's coveredValidation: does the earlier match `a` take every request the later `b` would? */
function covered(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix)) return false;
  if (a.port !== b.port) return false;
  if (a.method !== b.method && !a.method.startsWith(b.method)) return false;
  if (a.authority !== b.authority && !a.authority.startsWith(b.authority)) return false;
  return mapCovered(a.headers, b.headers) && mapCovered(a.queryParams, b.queryParams) && mapCovered(a.withoutHeaders, b.withoutHeaders);
}

type AnyRoute = HTTPRoute | TLSRoute | TCPRoute;

/** The part shared by HTTP, TLS and TCP rules: catch-alls and literal duplicates. */
function analyzeRules<R extends AnyRoute>(
  routes: readonly R[], field: string, report: UnreachableReport,
  onNewMatch?: (route: R, rulen: number, matchn: number) => void,
): void {
  const seen = new Map<string, number>();
  let emptyMatchAt = -1;
  routes.forEach((route, rulen) => {
    const name = routeName(field === 'http' ? (route as HTTPRoute) : {}, rulen);
    const matches = (route.match ?? []) as (HTTPMatchRequest | L4MatchAttributes | TLSMatchAttributes)[];
    if (matches.length === 0) {
      if (emptyMatchAt >= 0) report.unused([field, rulen], name, 'only the last rule can have no matches');
      emptyMatchAt = rulen;
      return;
    }
    if (emptyMatchAt >= 0) {
      report.unused([field, rulen], name, 'route without matches defined before');
      return;
    }
    let duplicates = 0;
    matches.forEach((match, matchn) => {
      const key = matchKey(match);
      const dup = seen.get(key);
      if (dup !== undefined) {
        const dupRoute = routes[dup] as R;
        report.ineffective([field, rulen, 'match', matchn], name, requestName(field === 'http' ? (match as HTTPMatchRequest) : {}, matchn), routeName(field === 'http' ? (dupRoute as HTTPRoute) : {}, dup));
        duplicates++;
        return;
      }
      seen.set(key, rulen);
      onNewMatch?.(route, rulen, matchn);
    });
    if (duplicates === matches.length) report.unused([field, rulen], name, 'all matches used by prior rules');
  });
}

export function analyzeUnreachableHttpRules(routes: readonly HTTPRoute[], report: UnreachableReport): void {
  const prefixes: PrefixMatch[] = [];
  analyzeRules(routes, 'http', report, (route, rulen, matchn) => {
    const match = route.match?.[matchn];
    const p = match && prefixMatch(route, match, rulen, matchn, ['http', rulen, 'match', matchn]);
    if (p) prefixes.push(p);
  });
  for (let i = 0; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) {
      const a = prefixes[i] as PrefixMatch;
      const b = prefixes[j] as PrefixMatch;
      // Identical prefixes were already handled as duplicates (or differ in other fields).
      if (a.prefix === b.prefix || !covered(a, b)) continue;
      report.ineffective(b.path, b.routeStr, `${b.matchStr} of prefix ${b.prefix}`, `${a.matchStr} of prefix ${a.prefix} on ${a.routeStr}`);
    }
  }
}

export function analyzeUnreachableTlsRules(routes: readonly TLSRoute[], report: UnreachableReport): void {
  analyzeRules(routes, 'tls', report);
}

export function analyzeUnreachableTcpRules(routes: readonly TCPRoute[], report: UnreachableReport): void {
  analyzeRules(routes, 'tcp', report);
}

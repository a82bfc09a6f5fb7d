/**
 * Route selection inside a virtual host, as Envoy's router does it for Istio's config: the routes
 * are tried in order and the first whose RouteMatch fits the request wins. Within one match every
 * condition must hold (Istio ANDs them; the ORed `match` entries become separate routes).
 *
 * Matchers are compiled once per config object and cached in WeakMaps keyed by that object, so
 * config is treated as immutable once seen (every push brings new objects). The per-request path
 * allocates nothing unless a `:path` header matcher or a query-parameter value is examined.
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import type { ClaimMatcher, HeaderMatcher, Route, RouteMatch, StringMatcher, VirtualHost } from '../../proxy-config/index.js';

export interface RouteRequest {
  method: string;
  /** Normalized path, without the query. */
  path: string;
  /** The query string, with or without its leading `?` ('' when there is none). */
  query: string;
  authority: string;
  scheme: string;
  /** Destination port of the request (the listener or original destination port). */
  port: number;
  /** The request header's value; several values of one header joined with `,` as Envoy does. */
  header(name: string): string | undefined;
  /** Payload of the validated JWT, for `@request.auth.claims` matches. */
  claims?: Record<string, unknown>;
}

type Test<T> = (value: T) => boolean;
const never = (): boolean => false;
const always = (): boolean => true;

// ---------------------------------------------------------------- StringMatcher

const regexCache = new WeakMap<object, RE2JS | null>();

let re2: typeof RE2JS | undefined;

/**
 * The RE2 engine, loaded the first time a config holds a regex: most configs have none, and
 * re2js is the largest module a sidecar would load (about 1.4 MB of idle RSS). Synchronous
 * (its CommonJS build) because matchers are compiled on the request path.
 */
export function re2Engine(): typeof RE2JS {
  re2 ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS;
  return re2;
}

/** RE2 compile; null when the pattern is not valid RE2 (such a matcher never matches). */
export function compileRe2(pattern: unknown): RE2JS | null {
  if (typeof pattern !== 'string') return null;
  try {
    return re2Engine().compile(pattern);
  } catch {
    return null;
  }
}

/** The compiled RE2 program of a `{ regex }` matcher (or any object holding a pattern), cached on that object. */
export function cachedRe2(holder: object, pattern: unknown): RE2JS | null {
  let re = regexCache.get(holder);
  if (re === undefined) {
    re = compileRe2(pattern);
    regexCache.set(holder, re);
  }
  return re;
}

function lowerAscii(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

function regionEqualsIgnoreCase(value: string, offset: number, pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (lowerAscii(value.charCodeAt(offset + i)) !== lowerAscii(pattern.charCodeAt(i))) return false;
  }
  return true;
}

/** Envoy's StringMatcher semantics (ASCII-only ignore_case, RE2 full-string match, empty prefix matches all). */
function buildStringTest(m: StringMatcher): Test<string> {
  if (typeof m !== 'object' || m === null) return never;
  if ('exact' in m) {
    const want = m.exact;
    if (typeof want !== 'string') return never;
    if (!m.ignoreCase) return (v) => v === want;
    return (v) => v.length === want.length && regionEqualsIgnoreCase(v, 0, want);
  }
  if ('prefix' in m) {
    const want = m.prefix;
    if (typeof want !== 'string') return never;
    if (!m.ignoreCase) return (v) => v.startsWith(want);
    return (v) => v.length >= want.length && regionEqualsIgnoreCase(v, 0, want);
  }
  if ('suffix' in m) {
    const want = m.suffix;
    if (typeof want !== 'string') return never;
    if (!m.ignoreCase) return (v) => v.endsWith(want);
    return (v) => v.length >= want.length && regionEqualsIgnoreCase(v, v.length - want.length, want);
  }
  if ('regex' in m) {
    const re = cachedRe2(m, m.regex);
    if (re === null) return never;
    return (v) => re.matches(v);
  }
  if ('present' in m && m.present === true) return always;
  return never;
}

const stringTests = new WeakMap<object, Test<string>>();

function stringTest(m: StringMatcher): Test<string> {
  if (typeof m !== 'object' || m === null) return never;
  let t = stringTests.get(m);
  if (t === undefined) {
    t = buildStringTest(m);
    stringTests.set(m, t);
  }
  return t;
}

/** Does `value` satisfy the matcher? (`present` is true for any value.) */
export function matchString(m: StringMatcher, value: string): boolean {
  return stringTest(m)(value);
}

export function isPresenceMatcher(m: StringMatcher): boolean {
  return typeof m === 'object' && m !== null && 'present' in m && m.present === true;
}

// ---------------------------------------------------------------- request attributes

/** `:path` as Envoy sees it: the path with its query. */
export function fullPath(req: { path: string; query: string }): string {
  if (req.query === '') return req.path;
  return req.query.charCodeAt(0) === 63 ? req.path + req.query : `${req.path}?${req.query}`;
}

/**
 * The first value of a query parameter, undecoded, as Envoy's parseQueryString gives it: `?key`
 * and `?key=` both give ''. Scans without splitting so a long query costs no allocation.
 */
export function firstQueryValue(query: string, name: string): string | undefined {
  const n = query.length;
  let i = query.charCodeAt(0) === 63 ? 1 : 0;
  while (i < n) {
    let end = query.indexOf('&', i);
    if (end === -1) end = n;
    if (end - i >= name.length && query.startsWith(name, i)) {
      const after = i + name.length;
      if (after === end) return '';
      if (query.charCodeAt(after) === 61) return query.slice(after + 1, end);
    }
    i = end + 1;
  }
  return undefined;
}

function headerGetter(name: string): (req: RouteRequest) => string | undefined {
  switch (name) {
    case ':method': return (req) => req.method;
    case ':authority': return (req) => req.authority;
    case ':scheme': return (req) => req.scheme;
    case ':path': return (req) => fullPath(req);
    default: return (req) => req.header(name);
  }
}

/**
 * Envoy HeaderMatcher. Istio's withoutHeaders set invert_match plus treat_missing_header_as_empty
 * (except for presence matches), so an inverted value matcher sees a missing header as ''.
 */
function headerTest(h: HeaderMatcher): Test<RouteRequest> {
  if (typeof h !== 'object' || h === null || typeof h.name !== 'string') return never;
  const get = headerGetter(h.name);
  const value = stringTest(h.match);
  const presence = isPresenceMatcher(h.match);
  if (!h.invert) {
    if (presence) return (req) => get(req) !== undefined;
    return (req) => {
      const v = get(req);
      return v !== undefined && value(v);
    };
  }
  if (presence) return (req) => get(req) === undefined;
  return (req) => !value(get(req) ?? '');
}

function queryTest(q: { name: string; match: StringMatcher }): Test<RouteRequest> {
  if (typeof q !== 'object' || q === null || typeof q.name !== 'string') return never;
  const value = stringTest(q.match);
  return (req) => {
    const v = firstQueryValue(req.query, q.name);
    return v !== undefined && value(v);
  };
}

/** The claim at `path` in the JWT payload; own properties only, so `__proto__` finds nothing. */
export function claimAt(claims: Record<string, unknown> | undefined, path: readonly string[]): unknown {
  let cur: unknown = claims;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Istio's JWT claim route match: a string claim, or any string in a list claim (ORed list/value matcher). */
function claimTest(c: ClaimMatcher): Test<RouteRequest> {
  if (typeof c !== 'object' || c === null || !Array.isArray(c.path)) return never;
  const path = c.path;
  const value = stringTest(c.match);
  const presence = isPresenceMatcher(c.match);
  const matches = (claim: unknown): boolean => {
    if (claim === undefined || claim === null) return false;
    if (presence) return true;
    if (typeof claim === 'string') return value(claim);
    if (Array.isArray(claim)) return claim.some((item) => typeof item === 'string' && value(item));
    return false;
  };
  return c.invert ? (req) => !matches(claimAt(req.claims, path)) : (req) => matches(claimAt(req.claims, path));
}

// ---------------------------------------------------------------- RouteMatch

function buildMatchTest(match: RouteMatch | undefined): Test<RouteRequest> {
  if (match === undefined || match === null) return always;
  if (typeof match !== 'object') return never;
  const tests: Test<RouteRequest>[] = [];
  // Cheapest conditions first: a mismatch on port or path skips the rest.
  if (typeof match.port === 'number' && match.port !== 0) {
    const port = match.port;
    tests.push((req) => req.port === port);
  }
  if (match.path !== undefined) {
    const path = stringTest(match.path);
    tests.push((req) => path(req.path));
  }
  for (const h of Array.isArray(match.headers) ? match.headers : []) tests.push(headerTest(h));
  for (const q of Array.isArray(match.queryParams) ? match.queryParams : []) tests.push(queryTest(q));
  for (const c of Array.isArray(match.claims) ? match.claims : []) tests.push(claimTest(c));
  if (tests.length === 0) return always;
  if (tests.length === 1) return tests[0] ?? never;
  return (req) => {
    for (const t of tests) if (!t(req)) return false;
    return true;
  };
}

const matchTests = new WeakMap<object, Test<RouteRequest>>();

function matchTestFor(match: RouteMatch | undefined): Test<RouteRequest> {
  if (typeof match !== 'object' || match === null) return buildMatchTest(match);
  let t = matchTests.get(match);
  if (t === undefined) {
    t = buildMatchTest(match);
    matchTests.set(match, t);
  }
  return t;
}

/** Does the request satisfy this RouteMatch? (Compiled once per match object.) */
export function routeMatches(match: RouteMatch | undefined, req: RouteRequest): boolean {
  return matchTestFor(match)(req);
}

interface CompiledRoute {
  route: Route;
  test: Test<RouteRequest>;
}

const compiledHosts = new WeakMap<VirtualHost, CompiledRoute[]>();

function compileHost(vhost: VirtualHost): CompiledRoute[] {
  const routes: unknown[] = Array.isArray(vhost.routes) ? vhost.routes : [];
  return routes
    .filter((route): route is Route => typeof route === 'object' && route !== null)
    .map((route) => ({ route, test: matchTestFor(route.match) }));
}

/** The first route of the virtual host that matches the request (Envoy's order), if any. */
export function matchRoute(vhost: VirtualHost, req: RouteRequest): Route | undefined {
  if (typeof vhost !== 'object' || vhost === null) return undefined;
  let compiled = compiledHosts.get(vhost);
  if (compiled === undefined) {
    compiled = compileHost(vhost);
    compiledHosts.set(vhost, compiled);
  }
  for (const c of compiled) if (c.test(req)) return c.route;
  return undefined;
}

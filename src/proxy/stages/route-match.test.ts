import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import type { Route, RouteMatch, StringMatcher, VirtualHost } from '../../proxy-config/index.js';
import { claimAt, firstQueryValue, matchRoute, matchString, routeMatches, type RouteRequest } from './route-match.js';

function request(over: Partial<Omit<RouteRequest, 'header'>> & { headers?: Record<string, string> } = {}): RouteRequest {
  const headers = over.headers ?? {};
  return {
    method: over.method ?? 'GET',
    path: over.path ?? '/',
    query: over.query ?? '',
    authority: over.authority ?? 'reviews:9080',
    scheme: over.scheme ?? 'http',
    port: over.port ?? 9080,
    header: (name) => headers[name],
    claims: over.claims,
  };
}

function route(name: string, match: RouteMatch): Route {
  return { name, match, action: { kind: 'direct-response', status: 200 } };
}

test('StringMatcher: exact, prefix, suffix (ignoreCase), RE2 full-string regex, present', () => {
  const cases: [StringMatcher, string, boolean][] = [
    [{ exact: '/a' }, '/a', true],
    [{ exact: '/a' }, '/A', false],
    [{ exact: '/a', ignoreCase: true }, '/A', true],
    [{ exact: '' }, '', true],
    [{ prefix: '/api' }, '/api/v1', true],
    [{ prefix: '/api' }, '/API/v1', false],
    [{ prefix: '/api', ignoreCase: true }, '/API/v1', true],
    [{ prefix: '' }, 'anything', true],
    [{ suffix: '.png' }, '/a.png', true],
    [{ suffix: '.PNG', ignoreCase: true }, '/a.png', true],
    [{ suffix: '.png' }, 'png', false],
    [{ regex: '\\d+$' }, '123', true], // ISTIO-SEMANTICS §2: full-string match
    [{ regex: '\\d+$' }, 'a123', false],
    [{ regex: '/v[12]/.*' }, '/v2/x', true],
    [{ regex: '(?i)abc' }, 'ABC', true],
    [{ regex: 'abc' }, 'ABC', false],
    [{ regex: '(' }, '(', false], // not valid RE2: never matches, never throws
    [{ regex: '(?=x)x' }, 'x', false], // lookahead is not RE2
    [{ present: true }, '', true],
  ];
  for (const [m, value, expected] of cases) assert.equal(matchString(m, value), expected, `${JSON.stringify(m)} ~ ${value}`);
});

test('RouteMatch: path, pseudo-headers, headers, withoutHeaders, query params, port', () => {
  const cases: [string, RouteMatch, RouteRequest, boolean][] = [
    ['no conditions matches all', {}, request(), true],
    ['uri prefix', { path: { prefix: '/reviews' } }, request({ path: '/reviews/1' }), true],
    ['uri exact ignoreUriCase', { path: { exact: '/Login', ignoreCase: true } }, request({ path: '/login' }), true],
    ['uri regex sees the path without query', { path: { regex: '/r/\\d+' } }, request({ path: '/r/12', query: '?x=1' }), true],
    [':method', { headers: [{ name: ':method', match: { exact: 'POST' } }] }, request({ method: 'POST' }), true],
    [':method mismatch', { headers: [{ name: ':method', match: { exact: 'POST' } }] }, request(), false],
    [':authority regex', { headers: [{ name: ':authority', match: { regex: 'reviews(:\\d+)?' } }] }, request(), true],
    [':scheme', { headers: [{ name: ':scheme', match: { exact: 'https' } }] }, request({ scheme: 'https' }), true],
    [':path includes the query', { headers: [{ name: ':path', match: { exact: '/a?b=1' } }] }, request({ path: '/a', query: 'b=1' }), true],
    ['header exact, values case-sensitive', { headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, request({ headers: { 'end-user': 'Jason' } }), false],
    ['header exact', { headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, request({ headers: { 'end-user': 'jason' } }), true],
    ['header missing', { headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, request(), false],
    ['header presence', { headers: [{ name: 'x-canary', match: { present: true } }] }, request({ headers: { 'x-canary': '' } }), true],
    ['header presence, missing', { headers: [{ name: 'x-canary', match: { present: true } }] }, request(), false],
    ['withoutHeaders: other value', { headers: [{ name: 'end-user', match: { exact: 'jason' }, invert: true }] }, request({ headers: { 'end-user': 'bob' } }), true],
    ['withoutHeaders: same value', { headers: [{ name: 'end-user', match: { exact: 'jason' }, invert: true }] }, request({ headers: { 'end-user': 'jason' } }), false],
    ['withoutHeaders: missing counts as empty', { headers: [{ name: 'end-user', match: { exact: 'jason' }, invert: true }] }, request(), true],
    ['withoutHeaders: missing as empty can match ""', { headers: [{ name: 'x', match: { prefix: '' }, invert: true }] }, request(), false],
    ['withoutHeaders presence: missing', { headers: [{ name: 'x-debug', match: { present: true }, invert: true }] }, request(), true],
    ['withoutHeaders presence: present', { headers: [{ name: 'x-debug', match: { present: true }, invert: true }] }, request({ headers: { 'x-debug': '1' } }), false],
    ['query exact', { queryParams: [{ name: 'v', match: { exact: '2' } }] }, request({ query: '?a=1&v=2' }), true],
    ['query first value wins', { queryParams: [{ name: 'v', match: { exact: '2' } }] }, request({ query: 'v=1&v=2' }), false],
    ['query exact "" matches ?key', { queryParams: [{ name: 'debug', match: { exact: '' } }] }, request({ query: '?debug' }), true],
    ['query exact "" matches ?key=', { queryParams: [{ name: 'debug', match: { exact: '' } }] }, request({ query: '?debug=' }), true],
    ['query exact "" not ?key=1', { queryParams: [{ name: 'debug', match: { exact: '' } }] }, request({ query: '?debug=1' }), false],
    ['query name is exact', { queryParams: [{ name: 'debug', match: { present: true } }] }, request({ query: '?debugger=1&xdebug=1' }), false],
    ['query presence', { queryParams: [{ name: 'debug', match: { present: true } }] }, request({ query: '?a&debug' }), true],
    ['query missing', { queryParams: [{ name: 'debug', match: { present: true } }] }, request({ query: '' }), false],
    ['query regex', { queryParams: [{ name: 'id', match: { regex: '\\d+' } }] }, request({ query: 'id=42' }), true],
    ['port', { port: 9080 }, request({ port: 9080 }), true],
    ['port mismatch', { port: 9080 }, request({ port: 8080 }), false],
    ['all ANDed', { path: { prefix: '/r' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, request({ path: '/r', headers: {} }), false],
  ];
  for (const [name, match, req, expected] of cases) assert.equal(routeMatches(match, req), expected, name);
});

test('JWT claim matches: nested, string or list of strings, inverted', () => {
  const claims = { groups: ['dev', 'ops'], sub: 'alice', realm: { role: 'admin', level: 3 }, weird: [1, 'x'] };
  const cases: [string, RouteMatch, boolean][] = [
    ['string claim', { claims: [{ path: ['sub'], match: { exact: 'alice' } }] }, true],
    ['list claim contains', { claims: [{ path: ['groups'], match: { exact: 'ops' } }] }, true],
    ['list claim lacks', { claims: [{ path: ['groups'], match: { exact: 'qa' } }] }, false],
    ['nested', { claims: [{ path: ['realm', 'role'], match: { prefix: 'adm' } }] }, true],
    ['number claims never match strings', { claims: [{ path: ['realm', 'level'], match: { exact: '3' } }] }, false],
    ['mixed list: only strings count', { claims: [{ path: ['weird'], match: { exact: 'x' } }] }, true],
    ['missing claim', { claims: [{ path: ['email'], match: { exact: 'a' } }] }, false],
    ['inverted: missing claim matches', { claims: [{ path: ['email'], match: { exact: 'a' }, invert: true }] }, true],
    ['inverted: listed value', { claims: [{ path: ['groups'], match: { exact: 'dev' }, invert: true }] }, false],
    ['presence', { claims: [{ path: ['realm'], match: { present: true } }] }, true],
    ['prototype keys are not claims', { claims: [{ path: ['__proto__'], match: { present: true } }] }, false],
  ];
  for (const [name, match, expected] of cases) assert.equal(routeMatches(match, request({ claims })), expected, name);
  assert.equal(routeMatches({ claims: [{ path: ['sub'], match: { exact: 'alice' } }] }, request()), false, 'no JWT');
  assert.equal(claimAt({ a: { b: 'c' } }, ['a', 'b']), 'c');
});

test('the first matching route wins (Istio http[] order)', () => {
  const vhost: VirtualHost = {
    name: 'reviews.default.svc.cluster.local:9080',
    domains: ['reviews'],
    routes: [
      route('jason', { headers: [{ name: 'end-user', match: { exact: 'jason' } }] }),
      route('v2-prefix', { path: { prefix: '/v2' } }),
      route('catch-all', {}),
      route('unreachable', { path: { prefix: '/v3' } }),
    ],
  };
  assert.equal(matchRoute(vhost, request({ headers: { 'end-user': 'jason' }, path: '/v2' }))?.name, 'jason');
  assert.equal(matchRoute(vhost, request({ path: '/v2/x' }))?.name, 'v2-prefix');
  assert.equal(matchRoute(vhost, request({ path: '/v3' }))?.name, 'catch-all');
  assert.equal(matchRoute({ ...vhost, routes: vhost.routes.slice(0, 2) }, request({ path: '/x' })), undefined);
});

test('query scanning', () => {
  assert.equal(firstQueryValue('?a=1&b=2', 'b'), '2');
  assert.equal(firstQueryValue('a=1&&b', 'b'), '');
  assert.equal(firstQueryValue('a=1=2', 'a'), '1=2');
  assert.equal(firstQueryValue('?', 'a'), undefined);
  assert.equal(firstQueryValue('ab=1', 'a'), undefined);
});

test('garbage routes never throw', () => {
  const vhost = { name: 'x', domains: ['*'], routes: [null, { name: 'bad', match: { path: { prefix: 7 }, headers: [null], claims: [{}] } }, { name: 'ok' }] };
  assert.equal(matchRoute(vhost as unknown as VirtualHost, request())?.name, 'ok');
});

test('micro-benchmark: matchRoute over a 20-route virtual host', (t) => {
  const routes: Route[] = [];
  for (let i = 0; i < 19; i++) {
    routes.push(route(`r${i}`, i % 3 === 0
      ? { path: { prefix: `/svc${i}/` }, headers: [{ name: 'x-version', match: { exact: `v${i}` } }] }
      : i % 3 === 1
        ? { path: { regex: `/api/v${i}/[a-z]+/\\d+` } }
        : { path: { exact: `/exact/${i}` }, queryParams: [{ name: 'q', match: { present: true } }] }));
  }
  routes.push(route('last', { path: { prefix: '/' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }));
  const vhost: VirtualHost = { name: 'bench', domains: ['*'], routes };
  const req = request({ path: '/api/v99/items/123', query: '?q=1', headers: { 'end-user': 'jason', 'x-version': 'v1' } });
  assert.equal(matchRoute(vhost, req)?.name, 'last');
  for (let i = 0; i < 20_000; i++) matchRoute(vhost, req);
  const n = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) matchRoute(vhost, req);
  const nsPerCall = Number(process.hrtime.bigint() - start) / n;
  t.diagnostic(`matchRoute, 20 routes, last one matching (6 RE2 regexes tried): ${nsPerCall.toFixed(0)} ns/call`);
  assert.ok(nsPerCall < 100_000, `${nsPerCall} ns per call`);
});

test('re2js is loaded only when a config holds a regex: the proxy imports none of it at start (idle memory)', () => {
  // A fresh process: this test file's own process may load re2js through other imports.
  // Importing re2js (what a static import does) fails in the child; the lazy require() is not hooked.
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === 're2js' || specifier.includes('/re2js/')) throw new Error('re2js imported by ' + context.parentURL);
    return next(specifier, context);
  }`;
  const script = `
    import { createRequire, register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const require = createRequire(${JSON.stringify(import.meta.url)});
    const loaded = () => Object.keys(require.cache).some((f) => f.includes('/re2js/'));
    await import(${JSON.stringify(new URL('../index.js', import.meta.url).href)});
    const atStart = loaded();
    const { matchString } = await import(${JSON.stringify(new URL('./route-match.js', import.meta.url).href)});
    const matched = matchString({ regex: 'v[0-9]+' }, 'v12');
    console.log(JSON.stringify({ atStart, matched, afterRegex: loaded() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { atStart: false, matched: true, afterRegex: true });
});

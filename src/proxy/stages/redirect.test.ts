import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildHttpsRedirect, buildRedirect, type RedirectAction, type RedirectRequest } from './redirect.js';

function req(over: Partial<RedirectRequest> = {}): RedirectRequest {
  return { scheme: 'http', authority: 'bookinfo.com', path: '/v1/getProductRatings', query: '', port: 80, ...over };
}

function redirect(over: Partial<RedirectAction> = {}): RedirectAction {
  return { kind: 'redirect', code: 301, ...over };
}

test('Istio HTTPRedirect semantics', () => {
  const cases: [string, RedirectAction, RedirectRequest, string | undefined, { status: number; location: string }][] = [
    ['uri replaces the path (Istio docs example)', redirect({ path: '/v1/bookRatings', host: 'newratings.default.svc.cluster.local' }), req(), undefined,
      { status: 301, location: 'http://newratings.default.svc.cluster.local/v1/bookRatings' }],
    ['query is kept', redirect({ path: '/new' }), req({ query: '?a=1&b=2' }), undefined, { status: 301, location: 'http://bookinfo.com/new?a=1&b=2' }],
    ['query without its ?', redirect({ path: '/new' }), req({ query: 'a=1' }), undefined, { status: 301, location: 'http://bookinfo.com/new?a=1' }],
    ['a uri with its own query replaces the request query', redirect({ path: '/new?x=1' }), req({ query: '?a=1' }), undefined, { status: 301, location: 'http://bookinfo.com/new?x=1' }],
    ['prefixRewrite replaces the matched prefix', redirect({ prefixRewrite: '/v2' }), req({ query: '?q' }), '/v1', { status: 301, location: 'http://bookinfo.com/v2/getProductRatings?q' }],
    ['prefixRewrite on a matchless route', redirect({ prefixRewrite: '/new/' }), req({ path: '/x' }), undefined, { status: 301, location: 'http://bookinfo.com/new/x' }],
    ['nothing set keeps the path', redirect({ host: 'other' }), req(), undefined, { status: 301, location: 'http://other/v1/getProductRatings' }],
    ['scheme kept when unset', redirect({ path: '/p' }), req({ scheme: 'https', port: 443 }), undefined, { status: 301, location: 'https://bookinfo.com/p' }],
    ['scheme change keeps a non-default port', redirect({ scheme: 'https' }), req({ authority: 'bookinfo.com:8080', path: '/' }), undefined, { status: 301, location: 'https://bookinfo.com:8080/' }],
    ['scheme change drops the old default port', redirect({ scheme: 'https' }), req({ authority: 'bookinfo.com:80', path: '/' }), undefined, { status: 301, location: 'https://bookinfo.com/' }],
    ['explicit port replaces the request port', redirect({ port: 8443, scheme: 'https' }), req({ authority: 'bookinfo.com:8080', path: '/' }), undefined, { status: 301, location: 'https://bookinfo.com:8443/' }],
    ['port 443 with https is not written', redirect({ port: 443, scheme: 'https' }), req({ authority: 'bookinfo.com:8080', path: '/' }), undefined, { status: 301, location: 'https://bookinfo.com:8080/' }],
    ['derivePort FROM_REQUEST_PORT', redirect({ derivePort: 'FROM_REQUEST_PORT', host: 'b.com' }), req({ port: 8080, path: '/' }), undefined, { status: 301, location: 'http://b.com:8080/' }],
    ['derivePort FROM_REQUEST_PORT, port 80 over http', redirect({ derivePort: 'FROM_REQUEST_PORT', host: 'b.com' }), req({ port: 80, path: '/' }), undefined, { status: 301, location: 'http://b.com/' }],
    ['derivePort FROM_PROTOCOL_DEFAULT writes no port', redirect({ derivePort: 'FROM_PROTOCOL_DEFAULT', scheme: 'https', host: 'b.com' }), req({ port: 8080, path: '/' }), undefined, { status: 301, location: 'https://b.com/' }],
    ['IPv6 authority', redirect({ port: 9000 }), req({ authority: '[::1]:8080', path: '/' }), undefined, { status: 301, location: 'http://[::1]:9000/' }],
    ['302', redirect({ code: 302, path: '/p' }), req(), undefined, { status: 302, location: 'http://bookinfo.com/p' }],
    ['307', redirect({ code: 307, path: '/p' }), req(), undefined, { status: 307, location: 'http://bookinfo.com/p' }],
    ['308', redirect({ code: 308, path: '/p' }), req(), undefined, { status: 308, location: 'http://bookinfo.com/p' }],
    ['unsupported code falls back to 301', redirect({ code: 0, path: '/p' }), req(), undefined, { status: 301, location: 'http://bookinfo.com/p' }],
    ['a relative uri gets its slash', redirect({ path: 'p' }), req(), undefined, { status: 301, location: 'http://bookinfo.com/p' }],
  ];
  for (const [name, action, request, matched, expected] of cases) assert.deepEqual(buildRedirect(action, request, matched), expected, name);
});

test('Gateway httpsRedirect: 301 to https, dropping :80', () => {
  assert.deepEqual(buildHttpsRedirect(req({ authority: 'bookinfo.com:80', path: '/a', query: '?b' })), { status: 301, location: 'https://bookinfo.com/a?b' });
  assert.deepEqual(buildHttpsRedirect(req({ authority: 'bookinfo.com:8080', path: '/' })), { status: 301, location: 'https://bookinfo.com:8080/' });
});

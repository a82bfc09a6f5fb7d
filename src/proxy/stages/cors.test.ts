import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CorsPolicy } from '../../proxy-config/index.js';
import { corsPreflight, corsResponseHeaders, effectiveCorsPolicy, isOriginAllowed, type CorsRequest } from './cors.js';

function req(method: string, headers: Record<string, string>): CorsRequest {
  return { method, header: (name) => headers[name] };
}

const policy: CorsPolicy = {
  allowOrigins: [{ exact: 'https://example.com' }, { regex: 'https://.*\\.example\\.org' }],
  allowMethods: ['POST', 'GET'],
  allowHeaders: ['X-Foo-Bar'],
  exposeHeaders: ['X-Expose'],
  maxAgeSeconds: 86400,
  allowCredentials: false,
  unmatchedPreflights: 'FORWARD',
};

const preflight = (origin: string, extra: Record<string, string> = {}) =>
  req('OPTIONS', { origin, 'access-control-request-method': 'POST', ...extra });

test('preflights: answered by the proxy for allowed origins, forwarded or ignored otherwise', () => {
  const ignore: CorsPolicy = { ...policy, unmatchedPreflights: 'IGNORE', allowCredentials: true };
  const wildcard: CorsPolicy = { allowOrigins: [{ exact: '*' }], allowMethods: ['*'], allowHeaders: ['*'], unmatchedPreflights: 'FORWARD' };
  const cases: [string, CorsPolicy | undefined, CorsRequest, ReturnType<typeof corsPreflight>][] = [
    ['allowed origin is echoed', policy, preflight('https://example.com'), {
      status: 200,
      headers: {
        'access-control-allow-origin': 'https://example.com',
        'access-control-allow-methods': 'POST,GET',
        'access-control-allow-headers': 'X-Foo-Bar',
        'access-control-max-age': '86400',
      },
    }],
    ['regex origin', policy, preflight('https://a.example.org'), {
      status: 200,
      headers: {
        'access-control-allow-origin': 'https://a.example.org',
        'access-control-allow-methods': 'POST,GET',
        'access-control-allow-headers': 'X-Foo-Bar',
        'access-control-max-age': '86400',
      },
    }],
    ['unmatched origin, FORWARD: goes upstream', policy, preflight('https://evil.com'), undefined],
    ['unmatched origin, IGNORE: 200 without allow-origin', ignore, preflight('https://evil.com'), {
      status: 200,
      headers: {
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'POST,GET',
        'access-control-allow-headers': 'X-Foo-Bar',
        'access-control-max-age': '86400',
      },
    }],
    ['* methods and headers echo the request', wildcard, preflight('https://any.site', { 'access-control-request-headers': 'x-a,x-b' }), {
      status: 200,
      headers: {
        'access-control-allow-origin': 'https://any.site',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'x-a,x-b',
      },
    }],
    ['not OPTIONS', policy, req('POST', { origin: 'https://example.com', 'access-control-request-method': 'POST' }), undefined],
    ['no Origin', policy, req('OPTIONS', { 'access-control-request-method': 'POST' }), undefined],
    ['empty Origin', policy, preflight(''), undefined],
    ['no Access-Control-Request-Method', policy, req('OPTIONS', { origin: 'https://example.com' }), undefined],
    ['no policy', undefined, preflight('https://example.com'), undefined],
  ];
  for (const [name, p, request, expected] of cases) assert.deepEqual(corsPreflight(p, request), expected, name);
});

test('actual responses: allow-origin echoed, credentials and expose-headers, only for allowed origins', () => {
  assert.deepEqual(corsResponseHeaders(policy, 'https://example.com'), {
    'access-control-allow-origin': 'https://example.com',
    'access-control-expose-headers': 'X-Expose',
  });
  assert.deepEqual(corsResponseHeaders({ ...policy, allowCredentials: true, exposeHeaders: [] }, 'https://example.com'), {
    'access-control-allow-origin': 'https://example.com',
    'access-control-allow-credentials': 'true',
  });
  assert.equal(corsResponseHeaders(policy, 'https://evil.com'), undefined);
  assert.equal(corsResponseHeaders(policy, undefined), undefined);
  assert.equal(corsResponseHeaders(undefined, 'https://example.com'), undefined);
});

test('origin matching: a matcher that accepts "*" allows every origin', () => {
  assert.equal(isOriginAllowed({ allowOrigins: [{ prefix: '' }], unmatchedPreflights: 'FORWARD' }, 'https://x'), true);
  assert.equal(isOriginAllowed({ allowOrigins: [{ exact: 'https://example.com' }], unmatchedPreflights: 'FORWARD' }, 'https://EXAMPLE.com'), false);
  assert.equal(isOriginAllowed({ allowOrigins: [], unmatchedPreflights: 'FORWARD' }, 'https://x'), false);
});

test('route policy settings win, missing ones come from the virtual host', () => {
  const vhostPolicy: CorsPolicy = { allowOrigins: [{ exact: 'https://v.com' }], allowMethods: ['GET'], maxAgeSeconds: 60, allowCredentials: true, unmatchedPreflights: 'IGNORE' };
  const routePolicy: CorsPolicy = { allowOrigins: [], exposeHeaders: ['X-R'], unmatchedPreflights: 'FORWARD' };
  const merged = effectiveCorsPolicy(routePolicy, vhostPolicy);
  assert.deepEqual(merged, {
    allowOrigins: [{ exact: 'https://v.com' }],
    allowMethods: ['GET'],
    allowHeaders: undefined,
    exposeHeaders: ['X-R'],
    maxAgeSeconds: 60,
    allowCredentials: true,
    unmatchedPreflights: 'FORWARD',
  });
  assert.equal(effectiveCorsPolicy(routePolicy, vhostPolicy), merged, 'cached');
  assert.equal(effectiveCorsPolicy(undefined, vhostPolicy), vhostPolicy);
  assert.equal(effectiveCorsPolicy(routePolicy, undefined), routePolicy);
  assert.equal(effectiveCorsPolicy(undefined, undefined), undefined);
});

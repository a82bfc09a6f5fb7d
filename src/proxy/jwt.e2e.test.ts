/**
 * RequestAuthentication end to end: a real proxy serving a gateway listener with a jwt-authn
 * filter, a real upstream that records what reaches it, a JWKS served over HTTP on loopback,
 * and tokens signed here with jose. Covers what a client sees (401 with Envoy's body and
 * www-authenticate), what the app sees (token removed or forwarded, claims as headers, the
 * payload header, spoofed headers stripped), claim-based routing as in the seed (10), and a key
 * rotation on the JWKS server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { HttpFilter, JwtRule } from '../proxy-config/index.js';
import { startProxy, startUpstream, send, type TestProxy, type TestUpstream, type Received } from './test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from './test-config.js';
import { jwks, sign, signingKey, startJwksServer, type JwksServer, type SigningKey } from './jwt/test-issuer.js';
import { proxyJwks } from './jwt/remote-jwks.js';

const ISS = 'https://customer-prd.eu.auth0.com/';
const PARTNER = 'https://partner.example.com';
let app: TestUpstream;
let proxy: TestProxy;
let jwksServer: JwksServer;
let key: SigningKey;
let partnerKey: SigningKey;
const savedOptions = { ...proxyJwks.options };

before(async () => {
  [key, partnerKey] = await Promise.all([signingKey('k1'), signingKey('partner', 'ES256')]);
  jwksServer = await startJwksServer(jwks(key));
  app = await startUpstream('app');
  const base = { audiences: [], fromHeaders: [], fromParams: [], fromCookies: [], outputClaimToHeaders: [] };
  const rules: JwtRule[] = [
    {
      ...base,
      issuer: ISS,
      jwksUri: jwksServer.url,
      jwksFetchTimeoutMs: 2000,
      fromHeaders: [{ name: 'Authorization', prefix: 'Bearer ' }],
      fromParams: ['access_token'],
      forwardOriginalToken: false,
      outputPayloadToHeader: 'x-jwt-payload',
      outputClaimToHeaders: [{ header: 'x-jwt-sub', claim: 'sub' }, { header: 'x-jwt-admin', claim: 'admin' }],
    },
    { ...base, issuer: PARTNER, jwks: jwks(partnerKey), fromHeaders: [{ name: 'x-partner-jwt', prefix: '' }], forwardOriginalToken: true },
  ];
  const listener = httpListener('0.0.0.0_80', 'gateway', 80, 'http.80');
  const filters: HttpFilter[] = [{ kind: 'jwt-authn', rules }];
  const chain = listener.filterChains[0];
  if (chain?.http) chain.http.filters = filters;
  // The seed's VirtualService (10): only tokens in group application-users reach /v1/.
  const application = vhost('application', ['application'], [
    route('v1-users', { path: { prefix: '/v1/' }, claims: [{ path: ['groups'], match: { exact: 'application-users' } }] }, forward('app')),
  ]);
  const any = vhost('any', ['*'], [route('default', { path: { prefix: '/' } }, forward('app'))]);
  proxy = await startProxy(proxyConfig({
    listeners: [listener],
    routes: [{ name: 'http.80', virtualHosts: [application, any] }],
    clusters: [cluster('app')],
    endpoints: [endpoints('app', [app.port])],
  }));
});

after(async () => {
  Object.assign(proxyJwks.options, savedOptions);
  await proxy.close();
  await Promise.all([app.close(), jwksServer.close()]);
});

const gw = (opts: Parameters<typeof send>[1]) => send(proxy.port('gateway:80'), opts);

/** Sends and returns the reply with what the app received for it (undefined: nothing reached it). */
async function through(opts: Parameters<typeof send>[1]) {
  const before = app.received.length;
  const reply = await gw(opts);
  const got: Received | undefined = app.received.slice(before)[0];
  return { reply, got };
}

test('no token: the request goes on, and client-sent copies of the output headers are stripped', async () => {
  const { reply, got } = await through({ path: '/x', headers: { 'x-jwt-sub': 'spoofed', 'x-jwt-payload': 'spoofed' } });
  assert.equal(reply.status, 200);
  assert.equal(got?.headers['x-jwt-sub'], undefined);
  assert.equal(got?.headers['x-jwt-payload'], undefined);
});

test('invalid tokens: 401 with Envoy\'s body and www-authenticate; nothing reaches the app', async () => {
  const forged = await sign(await signingKey('k1'), { iss: ISS, sub: 'mallory' });
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string, string][] = [
    ['forged signature', forged, 'Jwt verification fails'],
    ['expired', await sign(key, { iss: ISS, sub: 'a', exp: now - 3600 }), 'Jwt is expired'],
    ['unknown issuer', await sign(key, { iss: 'https://elsewhere/', sub: 'a' }), 'Jwt issuer is not configured'],
  ];
  for (const [name, token, body] of cases) {
    const { reply, got } = await through({ path: '/orders?id=7', host: 'shop.example.com', headers: { authorization: `Bearer ${token}` } });
    assert.equal(reply.status, 401, name);
    assert.equal(reply.body, body, name);
    assert.equal(reply.headers['www-authenticate'], 'Bearer realm="http://shop.example.com/orders?id=7", error="invalid_token"', name);
    assert.equal(got, undefined, `${name}: the app saw nothing`);
  }
});

test('a valid token: claims as headers, the payload header, and the token taken out (forwardOriginalToken false)', async () => {
  const token = await sign(key, { iss: ISS, sub: 'alice', admin: true, groups: ['application-users'] });
  const { reply, got } = await through({ path: '/x', headers: { authorization: `Bearer ${token}`, 'x-jwt-admin': 'spoofed' } });
  assert.equal(reply.status, 200);
  assert.equal(got?.headers.authorization, undefined);
  assert.equal(got?.headers['x-jwt-sub'], 'alice');
  assert.equal(got?.headers['x-jwt-admin'], 'true');
  const payload = JSON.parse(Buffer.from(String(got?.headers['x-jwt-payload']), 'base64url').toString()) as Record<string, unknown>;
  assert.equal(payload.sub, 'alice');
});

test('claim headers carry UTF-8 bytes; a claim with control characters gives no header, not a failed request', async () => {
  const utf8 = await through({ path: '/x', headers: { authorization: `Bearer ${await sign(key, { iss: ISS, sub: 'José 名' })}` } });
  assert.equal(utf8.reply.status, 200);
  assert.equal(Buffer.from(String(utf8.got?.headers['x-jwt-sub']), 'latin1').toString('utf8'), 'José 名');
  const crlf = await through({ path: '/x', headers: { authorization: `Bearer ${await sign(key, { iss: ISS, sub: 'a\r\nx-injected: 1' })}` } });
  assert.equal(crlf.reply.status, 200);
  assert.equal(crlf.got?.headers['x-jwt-sub'], undefined);
  assert.equal(crlf.got?.headers['x-injected'], undefined);
});

test('a token in the query is verified and removed from the URL the app gets', async () => {
  const token = await sign(key, { iss: ISS, sub: 'bob' });
  const { reply, got } = await through({ path: `/search?q=1&access_token=${token}&page=2` });
  assert.equal(reply.status, 200);
  assert.equal(got?.url, '/search?q=1&page=2');
  assert.equal(got?.headers['x-jwt-sub'], 'bob');
});

test('forwardOriginalToken: the partner rule\'s token reaches the app as sent', async () => {
  const token = await sign(partnerKey, { iss: PARTNER, sub: 'p1' });
  const { reply, got } = await through({ path: '/x', headers: { 'x-partner-jwt': token } });
  assert.equal(reply.status, 200);
  assert.equal(got?.headers['x-partner-jwt'], token);
  assert.equal(got?.headers['x-jwt-sub'], undefined, 'the other rule\'s outputs stay off');
});

test('CORS preflights skip authentication (Istio sets bypass_cors_preflight); other OPTIONS do not', async () => {
  const bad = { authorization: 'Bearer not.a.token' };
  const preflight = await gw({ method: 'OPTIONS', path: '/x', headers: { ...bad, origin: 'https://web.example.com', 'access-control-request-method': 'POST' } });
  assert.equal(preflight.status, 200);
  assert.equal((await gw({ method: 'OPTIONS', path: '/x', headers: bad })).status, 401);
});

test('claim-based routing (seed 10): group application-users reaches /v1/, anyone else gets 404', async () => {
  const user = await sign(key, { iss: ISS, sub: 'u', groups: ['staff', 'application-users'] });
  const outsider = await sign(key, { iss: ISS, sub: 'o', groups: ['staff'] });
  assert.equal((await gw({ host: 'application', path: '/v1/items', headers: { authorization: `Bearer ${user}` } })).status, 200);
  assert.equal((await gw({ host: 'application', path: '/v1/items', headers: { authorization: `Bearer ${outsider}` } })).status, 404);
  assert.equal((await gw({ host: 'application', path: '/v1/items' })).status, 404, 'no token, no claims');
  // A client cannot claim the group with a header: claims come only from a verified token.
  assert.equal((await gw({ host: 'application', path: '/v1/items', headers: { groups: 'application-users' } })).status, 404);
});

test('HTTP/2 (prior knowledge): the same checks and the same token removal', async (t) => {
  const client = http2.connect(`http://127.0.0.1:${proxy.port('gateway:80')}`);
  t.after(() => client.close());
  const h2 = (authorization: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = client.request({ ':path': '/h2', ':authority': 'example.com', authorization });
    let status = 0;
    let body = '';
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve({ status, body }));
    req.on('error', reject);
    req.end();
  });
  assert.deepEqual(await h2('Bearer a.b.c'), { status: 401, body: 'Jwt header is an invalid Base64url encoded' });
  const before = app.received.length;
  assert.equal((await h2(`Bearer ${await sign(key, { iss: ISS, sub: 'h2' })}`)).status, 200);
  const got = app.received.slice(before)[0];
  assert.equal(got?.headers.authorization, undefined);
  assert.equal(got?.headers['x-jwt-sub'], 'h2');
});

test('key rotation on the JWKS server: new-key tokens pass, old-key tokens fail after the refetch', async () => {
  proxyJwks.options.minRefetchMs = 0;
  const oldToken = await sign(key, { iss: ISS, sub: 'old' });
  assert.equal((await gw({ path: '/x', headers: { authorization: `Bearer ${oldToken}` } })).status, 200);
  const rotated = await signingKey('k2');
  jwksServer.keys = jwks(rotated);
  const newToken = await sign(rotated, { iss: ISS, sub: 'new' });
  const fresh = await through({ path: '/x', headers: { authorization: `Bearer ${newToken}` } });
  assert.equal(fresh.reply.status, 200);
  assert.equal(fresh.got?.headers['x-jwt-sub'], 'new');
  const stale = await gw({ path: '/x', headers: { authorization: `Bearer ${oldToken}` } });
  assert.equal(stale.status, 401);
  assert.equal(stale.body, "Jwks doesn't have key to match kid or alg from Jwt");
});

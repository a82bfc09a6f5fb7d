import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JwtRule } from '../../proxy-config/index.js';
import { authenticate, compileJwtAuthn, type JwtOutcome } from '../stages/jwt-authn.js';
import { JwksRegistry, type JwksOptions } from './remote-jwks.js';
import { jwks, sign, signingKey, startJwksServer, type SigningKey } from './test-issuer.js';

const ISS = 'https://issuer.example.com';
let oldKey: SigningKey;
let newKey: SigningKey;

before(async () => {
  oldKey = await signingKey('old');
  newKey = await signingKey('new');
});

function remoteRule(extra: Partial<JwtRule>): JwtRule {
  return { issuer: ISS, audiences: [], fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], jwksFetchTimeoutMs: 2000, ...extra };
}

/** One authenticator over a fresh registry, so each test has its own cache. */
function authenticator(rule: JwtRule, options: Partial<JwksOptions> = {}) {
  const registry = new JwksRegistry({ refreshMs: 60_000, minRefetchMs: 60_000, ...options });
  const authn = compileJwtAuthn([rule], registry);
  const check = async (token: string): Promise<string> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    const carrier = { headerValues: (n: string) => (headers[n] ? [headers[n]] : []), query: '', removeHeader: () => {} };
    const out: JwtOutcome = await authenticate(authn, carrier, Math.floor(Date.now() / 1000));
    return out.kind === 'denied' ? out.message : out.kind;
  };
  return { check, remote: registry.get(rule.jwksUri ? { uri: rule.jwksUri } : { issuer: rule.issuer }, rule.jwksFetchTimeoutMs ?? 5000) };
}

test('the first request waits for the first fetch; later ones use the cached keys', async (t) => {
  const server = await startJwksServer(jwks(oldKey));
  t.after(() => server.close());
  const { check } = authenticator(remoteRule({ jwksUri: server.url }));
  assert.equal(await check(await sign(oldKey, { iss: ISS })), 'verified');
  assert.equal(await check(await sign(oldKey, { iss: ISS, sub: 'b' })), 'verified');
  assert.equal(server.fetches, 1);
});

test('no keys fetched: 401 "Jwks remote fetch is failed", retried no more often than minRefetchMs', async (t) => {
  const server = await startJwksServer(jwks(oldKey));
  t.after(() => server.close());
  server.failWith = 503;
  const { check } = authenticator(remoteRule({ jwksUri: server.url }), { minRefetchMs: 100 });
  const token = await sign(oldKey, { iss: ISS });
  assert.equal(await check(token), 'Jwks remote fetch is failed');
  assert.equal(await check(token), 'Jwks remote fetch is failed');
  assert.equal(server.fetches, 1, 'the second request did not fetch again at once');
  server.failWith = undefined;
  await sleep(120);
  assert.equal(await check(token), 'verified');
});

test('a fetch that hangs is bounded by the rule timeout', async (t) => {
  const sockets = new Set<import('node:net').Socket>();
  const hang = http.createServer(() => {});
  hang.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => hang.close(() => r()));
  });
  const uri = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/jwks`;
  const { check } = authenticator(remoteRule({ jwksUri: uri, jwksFetchTimeoutMs: 200 }));
  assert.equal(await check(await sign(oldKey, { iss: ISS })), 'Jwks remote fetch is failed');
});

test('key rotation: a new kid triggers one refetch; old-key tokens fail once the keys are replaced', async (t) => {
  const server = await startJwksServer(jwks(oldKey));
  t.after(() => server.close());
  const { check } = authenticator(remoteRule({ jwksUri: server.url }), { minRefetchMs: 0 });
  const oldToken = await sign(oldKey, { iss: ISS });
  assert.equal(await check(oldToken), 'verified');
  server.keys = jwks(newKey);
  assert.equal(await check(oldToken), 'verified', 'cached keys serve until something says they changed');
  assert.equal(await check(await sign(newKey, { iss: ISS })), 'verified', 'unknown kid: refetched, then verified');
  assert.equal(server.fetches, 2);
  assert.equal(await check(oldToken), "Jwks doesn't have key to match kid or alg from Jwt");
});

test('unknown kids refetch at most once per minRefetchMs', async (t) => {
  const server = await startJwksServer(jwks(oldKey));
  t.after(() => server.close());
  const { check } = authenticator(remoteRule({ jwksUri: server.url }), { minRefetchMs: 60_000 });
  assert.equal(await check(await sign(oldKey, { iss: ISS })), 'verified');
  for (let i = 0; i < 5; i++) assert.equal(await check(await sign(newKey, { iss: ISS }, { kid: `random-${i}` })), "Jwks doesn't have key to match kid or alg from Jwt");
  assert.equal(server.fetches, 1, 'the first fetch was just now: no refetch for unknown kids');
});

test('keys older than the refresh interval are refetched in the background; a failed refresh keeps them', async (t) => {
  const server = await startJwksServer(jwks(oldKey));
  t.after(() => server.close());
  const { check, remote } = authenticator(remoteRule({ jwksUri: server.url }), { refreshMs: 0 });
  const oldToken = await sign(oldKey, { iss: ISS });
  assert.equal(await check(oldToken), 'verified');
  server.failWith = 500;
  await sleep(5);
  assert.equal(await check(oldToken), 'verified', 'stale keys serve while the refresh runs');
  await remote.idle();
  assert.equal(server.fetches, 2);
  assert.match(remote.lastError, /HTTP 500/);
  assert.equal(await check(oldToken), 'verified', 'the failed refresh left the keys');
  await remote.idle();
  server.failWith = undefined;
  server.keys = jwks(newKey);
  await sleep(5);
  await check(oldToken);
  await remote.idle();
  assert.equal(await check(oldToken), "Jwks doesn't have key to match kid or alg from Jwt", 'the refresh replaced the keys');
});

test('no jwks and no jwksUri: OpenID discovery on the issuer finds the key set', async (t) => {
  const server = await startJwksServer(jwks(oldKey));
  t.after(() => server.close());
  const { check } = authenticator(remoteRule({ issuer: server.issuer }));
  assert.equal(await check(await sign(oldKey, { iss: server.issuer })), 'verified');
});

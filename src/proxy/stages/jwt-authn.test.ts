import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { JwtRule } from '../../proxy-config/index.js';
import { JwksRegistry } from '../jwt/remote-jwks.js';
import type { TokenCarrier } from '../jwt/locations.js';
import { jwks, sign, signingKey, unsigned, type SigningKey } from '../jwt/test-issuer.js';
import { authenticate, claimHeaderValue, compileJwtAuthn, normalizedClaims, requestAudiences, requestPresenter, requestPrincipal, type JwtOutcome } from './jwt-authn.js';

const ISS = 'https://issuer.example.com/';
let rsa: SigningKey;
let other: SigningKey;

before(async () => {
  rsa = await signingKey('k1');
  // Same kid, different key: a forged signature.
  other = await signingKey('k1');
});

function rule(extra: Partial<JwtRule> = {}): JwtRule {
  return { issuer: ISS, audiences: [], jwks: jwks(rsa), fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], ...extra };
}

function carrier(headers: Record<string, string | string[]> = {}, query = ''): TokenCarrier & { headers: Record<string, string | string[]> } {
  return {
    headers,
    headerValues: (name) => {
      const v = headers[name];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    },
    query,
    removeHeader: (name) => void delete headers[name],
  };
}

const now = () => Math.floor(Date.now() / 1000);

async function run(rules: JwtRule[], c: TokenCarrier): Promise<JwtOutcome> {
  return authenticate(compileJwtAuthn(rules, new JwksRegistry()), c, now());
}

const bearer = (token: string) => carrier({ authorization: `Bearer ${token}` });

function denied(outcome: JwtOutcome): string {
  assert.equal(outcome.kind, 'denied', `expected a denial, got ${outcome.kind}`);
  return outcome.kind === 'denied' ? `${outcome.status} ${outcome.message}` : '';
}

test('a good token verifies: claims, principal, audiences and presenter', async () => {
  const token = await sign(rsa, { iss: ISS, sub: 'alice', aud: ['web', 'api'], azp: 'spa', groups: ['admin'], scope: 'read write' });
  const out = await run([rule()], bearer(token));
  assert.equal(out.kind, 'verified');
  if (out.kind !== 'verified') return;
  assert.equal(requestPrincipal(out.jwt), `${ISS}/alice`);
  const claims = normalizedClaims(out.rule, out.jwt);
  assert.deepEqual(claims.groups, ['admin']);
  assert.deepEqual(claims.scope, ['read', 'write'], 'scope is always space-delimited');
  assert.deepEqual(requestAudiences(claims), ['web', 'api']);
  assert.equal(requestPresenter(claims), 'spa');
  assert.equal(out.jwt.payload.scope, 'read write', 'the payload itself is untouched');
});

test('no token: the request goes on without a principal; a non-Bearer Authorization is no token', async () => {
  assert.deepEqual(await run([rule()], carrier()), { kind: 'missing' });
  assert.deepEqual(await run([rule()], carrier({ authorization: 'Basic dXNlcjpwYXNz' })), { kind: 'missing' });
});

test('invalid tokens are refused with Envoy status texts', async () => {
  const t = now();
  const cases: [string, () => Promise<string>, string][] = [
    ['bad signature', () => sign(other, { iss: ISS, sub: 'a' }), '401 Jwt verification fails'],
    ['expired beyond the 60 s skew', () => sign(rsa, { iss: ISS, exp: t - 120 }), '401 Jwt is expired'],
    ['nbf beyond the skew', () => sign(rsa, { iss: ISS, nbf: t + 120 }), '401 Jwt not yet valid'],
    ['other issuer', () => sign(rsa, { iss: 'https://evil.example.com/' }), '401 Jwt issuer is not configured'],
    ['no issuer', () => sign(rsa, { sub: 'a' }), '401 Jwt issuer is not configured'],
    ['alg none, empty signature', () => Promise.resolve(unsigned({ iss: ISS, sub: 'a' })), '401 Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
    ['alg none, any signature', () => Promise.resolve(`${unsigned({ iss: ISS, sub: 'a' })}c2ln`), '401 Jwt header [alg] is not supported'],
    ['unknown kid', () => sign(rsa, { iss: ISS }, { kid: 'nope' }), "401 Jwks doesn't have key to match kid or alg from Jwt"],
    ['not a JWT', () => Promise.resolve('abc.def'), '401 Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
    ['exp not a number', () => sign(rsa, { iss: ISS, exp: 'soon' as unknown as number }), '401 Jwt payload [exp] field is not an integer'],
    ['aud not strings', () => sign(rsa, { iss: ISS, aud: [1] as unknown as string[] }), '401 Jwt payload [aud] field is not a string or string list'],
  ];
  for (const [name, make, want] of cases) {
    assert.equal(denied(await run([rule()], bearer(await make()))), want, name);
  }
});

test('time window: inside the 60 s clock skew passes on both ends', async () => {
  const t = now();
  assert.equal((await run([rule()], bearer(await sign(rsa, { iss: ISS, exp: t - 30 })))).kind, 'verified');
  assert.equal((await run([rule()], bearer(await sign(rsa, { iss: ISS, nbf: t + 30 })))).kind, 'verified');
});

test('audiences: one must match (scheme and trailing slash ignored); a mismatch is 403 as in Envoy', async () => {
  const r = rule({ audiences: ['https://api.example.com/', 'other'] });
  assert.equal((await run([r], bearer(await sign(rsa, { iss: ISS, aud: 'api.example.com' })))).kind, 'verified');
  assert.equal((await run([r], bearer(await sign(rsa, { iss: ISS, aud: ['x', 'other'] })))).kind, 'verified');
  assert.equal(denied(await run([r], bearer(await sign(rsa, { iss: ISS, aud: 'web' })))), '403 Audiences in Jwt are not allowed');
  assert.equal(denied(await run([r], bearer(await sign(rsa, { iss: ISS })))), '403 Audiences in Jwt are not allowed');
});

test('signature algorithms Envoy implements; a key of another type never verifies', async () => {
  for (const alg of ['RS384', 'RS512', 'PS256', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256']) {
    const key = await signingKey(`k-${alg}`, alg);
    const token = await sign(key, { iss: ISS, sub: 'a' });
    assert.equal((await run([rule({ jwks: jwks(key) })], bearer(token))).kind, 'verified', alg);
  }
  // HS256 "signed" with the RSA key's public modulus as the secret: the classic confusion attack.
  const rsaSecret = new TextEncoder().encode(String(rsa.jwk.n));
  const confused = await sign({ kid: 'k1', alg: 'HS256', privateKey: rsaSecret, jwk: {} }, { iss: ISS });
  assert.equal(denied(await run([rule()], bearer(confused))), "401 Jwks doesn't have key to match kid or alg from Jwt", 'the key says RS256');
  const noAlg = JSON.stringify({ keys: [{ ...rsa.jwk, alg: undefined }] });
  assert.equal(denied(await run([rule({ jwks: noAlg })], bearer(confused))), '401 Jwt verification fails', 'a key without alg is tried, and an RSA key never checks an HMAC');
});

test('token locations: header with prefix, custom header, query parameter, cookie', async () => {
  const token = await sign(rsa, { iss: ISS, sub: 'a' });
  const custom = rule({ fromHeaders: [{ name: 'X-Jwt', prefix: 'Token ' }] });
  assert.equal((await run([custom], carrier({ 'x-jwt': `Token ${token}` }))).kind, 'verified');
  assert.deepEqual(await run([custom], carrier({ 'x-jwt': token })), { kind: 'missing' }, 'without its prefix the header holds no token');
  assert.deepEqual(await run([custom], bearer(token)), { kind: 'missing' }, 'a custom location replaces the defaults');
  const noPrefix = rule({ fromHeaders: [{ name: 'x-token', prefix: '' }] });
  assert.equal((await run([noPrefix], carrier({ 'x-token': token }))).kind, 'verified');
  assert.equal((await run([rule()], carrier({}, `?a=1&access_token=${token}`))).kind, 'verified', 'default query parameter');
  const param = rule({ fromParams: ['jwt'] });
  assert.equal((await run([param], carrier({}, `?jwt=${token}`))).kind, 'verified');
  const cookie = rule({ fromCookies: ['session'] });
  assert.equal((await run([cookie], carrier({ cookie: `a=b; session="${token}"; c=d` }))).kind, 'verified');
});

test('several tokens for one rule must all verify', async () => {
  const good = await sign(rsa, { iss: ISS, sub: 'a' });
  const bad = await sign(other, { iss: ISS, sub: 'b' });
  assert.equal(denied(await run([rule()], carrier({ authorization: `Bearer ${good}` }, `?access_token=${bad}`))), '401 Jwt verification fails');
  const both = await run([rule()], carrier({ authorization: `Bearer ${good}` }, `?access_token=${good}`));
  assert.equal(both.kind, 'verified');
});

test('several rules: each reads its own locations; any success passes, else the first failure answers', async () => {
  const second = await signingKey('k2');
  const ISS2 = 'https://second.example.com';
  const rules = [rule(), rule({ issuer: ISS2, jwks: jwks(second), fromHeaders: [{ name: 'x-second', prefix: '' }] })];
  const t1 = await sign(rsa, { iss: ISS, sub: 'one' });
  const t2 = await sign(second, { iss: ISS2, sub: 'two' });
  const viaSecond = await run(rules, carrier({ 'x-second': t2 }));
  assert.equal(viaSecond.kind === 'verified' && requestPrincipal(viaSecond.jwt), `${ISS2}/two`);
  assert.equal((await run(rules, bearer(t1))).kind, 'verified');
  assert.equal(denied(await run(rules, bearer(t2))), '401 Jwt issuer is not configured', "the second issuer's token in the first rule's location");
  assert.equal(denied(await run(rules, carrier({ 'x-second': t1 }))), '401 Jwt issuer is not configured');
  // Two rules sharing the default location: a token of either issuer passes, another fails.
  const shared = [rule(), rule({ issuer: ISS2, jwks: jwks(second) })];
  assert.equal((await run(shared, bearer(t2))).kind, 'verified');
  assert.equal(denied(await run(shared, bearer(await sign(rsa, { iss: 'https://third/' })))), '401 Jwt issuer is not configured');
});

test('keys a rule cannot use fail closed', async () => {
  const token = await sign(rsa, { iss: ISS });
  assert.equal(denied(await run([rule({ jwks: '{"keys":[{"kty":"XYZ"}]}' })], bearer(token))), "401 Jwks doesn't have any valid public key");
  assert.equal(denied(await run([rule({ jwks: 'not json' })], bearer(token))), '401 Jwks is an invalid JSON');
});

test('claims as output headers: strings, numbers and booleans; objects and missing claims give none', () => {
  const payload = { s: 'x', n: 42, neg: -3, f: 1.5, t: true, o: { a: 'nested' }, l: ['a'], e: '' };
  assert.equal(claimHeaderValue(payload, 's'), 'x');
  assert.equal(claimHeaderValue(payload, 'n'), '42');
  assert.equal(claimHeaderValue(payload, 'neg'), '-3.000000');
  assert.equal(claimHeaderValue(payload, 'f'), '1.500000');
  assert.equal(claimHeaderValue(payload, 't'), 'true');
  assert.equal(claimHeaderValue(payload, 'o.a'), 'nested');
  assert.equal(claimHeaderValue(payload, 'o'), undefined);
  assert.equal(claimHeaderValue(payload, 'l'), undefined);
  assert.equal(claimHeaderValue(payload, 'e'), undefined);
  assert.equal(claimHeaderValue(payload, 'missing'), undefined);
  assert.equal(claimHeaderValue(payload, '__proto__'), undefined);
});

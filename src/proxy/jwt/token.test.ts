import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audienceChecker, checkTime, parseJwt, JwtError, type Jwt } from './token.js';
import { KeySet } from './jwks.js';
import { jwks, sign, signingKey } from './test-issuer.js';

const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = (header: unknown, payload: unknown, sig = 'c2ln') => `${enc(header)}.${enc(payload)}.${sig}`;

test('parse: Envoy\'s checks and texts, in its order', () => {
  const h = { alg: 'RS256' };
  const cases: [string, string, string][] = [
    ['four sections', 'a.b.c.d', JwtError.badFormat],
    ['empty section', `${enc(h)}..c2ln`, JwtError.badFormat],
    ['header not base64url', `${enc(h)}*.${enc({})}.c2ln`, JwtError.headerBadBase64],
    ['header not JSON', `${Buffer.from('{').toString('base64url')}.${enc({})}.c2ln`, JwtError.headerBadJson],
    ['header a list', token([1], {}), JwtError.headerBadJson],
    ['no alg', token({}, {}), JwtError.headerBadAlg],
    ['HS256 is implemented, RSA-OAEP is not', token({ alg: 'RSA-OAEP' }, {}), JwtError.algNotImplemented],
    ['kid a number', token({ alg: 'RS256', kid: 7 }, {}), JwtError.headerBadKid],
    ['iss a number', token(h, { iss: 1 }), JwtError.issNotString],
    ['sub a list', token(h, { sub: ['a'] }), JwtError.subNotString],
    ['negative exp', token(h, { exp: -1 }), JwtError.expOutOfRange],
    ['nbf a string', token(h, { nbf: '1' }), JwtError.nbfNotInteger],
    ['jti a number', token(h, { jti: 1 }), JwtError.jtiNotString],
    ['aud an object', token(h, { aud: { a: 1 } }), JwtError.audNotString],
    ['signature not base64url', token(h, {}, 'a+b/'), JwtError.signatureBadBase64],
  ];
  for (const [name, t, want] of cases) assert.equal(parseJwt(t), want, name);
  const ok = parseJwt(token({ alg: 'ES256', kid: 'k' }, { iss: 'i', sub: 's', aud: 'x', exp: 10.7, nbf: 3 })) as Jwt;
  assert.deepEqual([ok.alg, ok.kid, ok.iss, ok.sub, ok.audiences, ok.exp, ok.nbf], ['ES256', 'k', 'i', 's', ['x'], 10, 3]);
});

test('time: exp and nbf with the 60 s skew; exp 0 means none', () => {
  const jwt = (exp: number, nbf: number) => parseJwt(token({ alg: 'RS256' }, { exp, nbf })) as Jwt;
  assert.equal(checkTime(jwt(1000, 0), 1060), undefined);
  assert.equal(checkTime(jwt(1000, 0), 1061), JwtError.expired);
  assert.equal(checkTime(jwt(0, 1060), 1000), undefined);
  assert.equal(checkTime(jwt(0, 1061), 1000), JwtError.notYetValid);
  assert.equal(checkTime(jwt(0, 0), 4e9), undefined);
});

test('audiences: scheme and trailing slash ignored, any one of the token\'s may match', () => {
  const allowed = audienceChecker(['https://api.example.com/', 'mobile']);
  assert.ok(allowed(['http://api.example.com']));
  assert.ok(allowed(['web', 'mobile/']));
  assert.ok(!allowed(['web']));
  assert.ok(!allowed([]));
  assert.ok(audienceChecker([])([]));
});

test('key sets: unusable keys left out, private members never imported, empty sets refused', async () => {
  const key = await signingKey('k1', 'ES256');
  assert.deepEqual(KeySet.parse('{"keys":[{"kty":"RSA"},{"kty":"OKP","crv":"X25519","x":"AA"}]}'), { error: "Jwks doesn't have any valid public key" });
  assert.deepEqual(KeySet.parse('[]'), { error: 'Jwks is an invalid JSON' });
  const set = KeySet.parse(JSON.stringify({ keys: [{ kty: 'bogus' }, { ...key.jwk, d: 'AAAA' }] }));
  assert.ok(set instanceof KeySet);
  assert.equal(set.size, 1);
  const jwt = parseJwt(await sign(key, { iss: 'i' })) as Jwt;
  assert.equal(await set.verify(jwt), undefined, 'verified with the public members despite a bogus d');
  assert.equal(set.verify(jwt), undefined, 'the second time from the verified-token cache, synchronously');
  const bare = KeySet.parse(JSON.stringify(key.jwk));
  assert.ok(bare instanceof KeySet, 'a bare JWK is a set of one');
  assert.equal(KeySet.parse(jwks(key)) instanceof KeySet, true);
});

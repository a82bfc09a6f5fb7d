import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedPath } from '../../lib/repo.js';
import { loadResources, type LoadResult } from '../load.js';

function load(spec: string): LoadResult {
  return loadResources([{ file: 'ra.yaml', text: `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: foo
spec:
${spec}` }]);
}

function problems(r: LoadResult): string[] {
  return r.diagnostics.map((d) => `${d.location?.line} ${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

test("the seed's RequestAuthentication loads with its rule", () => {
  const file = sharedPath('seed-configs', '09-request-authentication.yaml');
  const r = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
  assert.deepEqual(problems(r), []);
  const [ra] = r.resources;
  assert.ok(ra?.kind === 'RequestAuthentication');
  assert.deepEqual(ra.spec.selector, { matchLabels: { app: 'application' } });
  assert.deepEqual(ra.spec.jwtRules, [{
    issuer: 'https://customer-prd.eu.auth0.com/',
    jwksUri: 'https://customer-prd.eu.auth0.com/.well-known/jwks.json',
    forwardOriginalToken: true,
  }]);
});

test('every JWT rule field loads; timeout in ms; jwks_uri is read as jwksUri', () => {
  const r = load(`  targetRefs:
    - kind: Gateway
      group: gateway.networking.k8s.io
      name: ingress
  jwtRules:
    - issuer: issuer-a
      audiences: [bookstore]
      jwks_uri: http://keys.example.com/a
      fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
      fromParams: [token]
      fromCookies: [session]
      outputPayloadToHeader: x-jwt-payload
      forwardOriginalToken: false
      outputClaimToHeaders: [{header: x-sub, claim: sub}]
      timeout: 1.5s
      spaceDelimitedClaims: [roles]
    - issuer: issuer-b
      jwks: '{"keys": [{"kty": "RSA", "e": "AQAB", "n": "abc"}]}'
`);
  assert.deepEqual(problems(r), []);
  const [ra] = r.resources;
  assert.ok(ra?.kind === 'RequestAuthentication');
  const rule = ra.spec.jwtRules?.[0];
  assert.equal(rule?.jwksUri, 'http://keys.example.com/a');
  assert.equal(rule?.timeout, 1500);
  assert.equal('jwks_uri' in (rule ?? {}), false);
  assert.deepEqual(rule?.fromHeaders, [{ name: 'x-jwt', prefix: 'Bearer ' }]);
});

test('issuer or jwksUri is required; empty strings are rejected', () => {
  assert.deepEqual(problems(load('  jwtRules:\n    - audiences: [a]\n')), ['8 Error spec.jwtRules[0]: issuer or jwksUri must be non-empty string']);
  assert.deepEqual(problems(load('  jwtRules:\n    - issuer: ""\n')), ['8 Error spec.jwtRules[0].issuer: issuer must not be empty']);
  assert.deepEqual(problems(load('  jwtRules:\n    - issuer: a\n      audiences: [""]\n')), ['9 Error spec.jwtRules[0].audiences[0]: audience must not be empty']);
  // Istio accepts a rule with only jwksUri: any issuer is then accepted.
  assert.deepEqual(problems(load('  jwtRules:\n    - jwksUri: https://k.example.com/jwks\n')), []);
});

test('jwksUri must be an http(s) URL', () => {
  assert.deepEqual(problems(load('  jwtRules:\n    - issuer: a\n      jwksUri: keys.example.com/jwks\n')), [
    '9 Error spec.jwtRules[0].jwksUri: url must have scheme http:// or https://, got "keys.example.com/jwks"',
  ]);
});

test('inline jwks must parse; private keys are a warning', () => {
  assert.deepEqual(problems(load(`  jwtRules:\n    - issuer: a\n      jwks: '{"keys": [{"n": "x"}]}'\n`)), [
    '9 Error spec.jwtRules[0].jwks: jwks parse error: key at index 0 must be an object with a "kty" field',
  ]);
  assert.deepEqual(problems(load(`  jwtRules:\n    - issuer: a\n      jwks: '{"kty": "oct", "k": "c2VjcmV0"}'\n`)), [
    '9 Warning spec.jwtRules[0].jwks: jwks key at index 0 contains private key material; only public keys are used for verification',
  ]);
});

test('duplicate issuers and unusable header names are warnings', () => {
  const r = load(`  jwtRules:
    - issuer: a
      fromHeaders: [{name: "x jwt"}]
    - issuer: a
`);
  assert.equal(r.ok, true);
  assert.deepEqual(problems(r), [
    '9 Warning spec.jwtRules[0].fromHeaders[0].name: "x jwt" is not a valid HTTP header name, so no request can carry a token in it',
    '10 Warning spec.jwtRules[1].issuer: issuer "a" is also used by jwtRules[0]; use one rule per issuer',
  ]);
});

test('targetRefs: allowed kinds only, same namespace, not with a selector', () => {
  assert.deepEqual(problems(load('  targetRef:\n    kind: Deployment\n    group: apps\n    name: web\n')), [
    '8 Error spec.targetRef.kind: targetRef must refer to a Gateway or GatewayClass (gateway.networking.k8s.io), a Service (core) or a ServiceEntry (networking.istio.io), but was apps/Deployment',
  ]);
  assert.deepEqual(problems(load('  targetRefs:\n    - kind: Service\n')), ['8 Error spec.targetRefs[0].name: missing required field "name"']);
  assert.deepEqual(problems(load('  selector: {}\n')), ['7 Warning spec.selector: workload selector specified without labels']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestMesh } from '../testkit.js';
import { requestAuthnRules } from './request-authn.js';

const policies = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: mesh, namespace: istio-system}
spec:
  jwtRules: [{issuer: "https://mesh", jwksUri: "https://mesh/keys"}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: root-selector, namespace: istio-system}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules: [{issuer: "https://root-reviews", jwksUri: "https://root/keys"}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: b-ns, namespace: default}
spec:
  jwtRules: [{issuer: "https://same", jwksUri: "https://b/keys"}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: a-ns, namespace: default}
spec:
  jwtRules: [{issuer: "https://same", jwksUri: "https://a/keys"}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: gw, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web}]
  jwtRules: [{issuer: "https://gateway", jwksUri: "https://gw/keys"}]
`;

const mesh = buildTestMesh([{ file: 'policies.yaml', text: policies }]);
const rulesOf = (ns: string, labels: Record<string, string>) => requestAuthnRules(mesh.snapshot, ns, labels).map((r) => r.jwksUri);

test('scope: root namespace for all (its selectors match in every namespace), own namespace, sorted by issuer, stable within one', () => {
  assert.deepEqual(mesh.errors, []);
  assert.deepEqual(rulesOf('default', { app: 'reviews' }), ['https://mesh/keys', 'https://root/keys', 'https://a/keys', 'https://b/keys']);
  assert.deepEqual(rulesOf('default', { app: 'ratings' }), ['https://mesh/keys', 'https://a/keys', 'https://b/keys']);
  assert.deepEqual(rulesOf('other', { app: 'ratings' }), ['https://mesh/keys']);
  assert.deepEqual(rulesOf('istio-system', { app: 'reviews' }), ['https://mesh/keys', 'https://root/keys']);
});

test('targetRefs: only the named Gateway API gateway\'s pods in the policy namespace', () => {
  const gatewayPod = { 'gateway.networking.k8s.io/gateway-name': 'web' };
  assert.deepEqual(rulesOf('default', gatewayPod), ['https://gw/keys', 'https://mesh/keys', 'https://a/keys', 'https://b/keys']);
  assert.deepEqual(rulesOf('other', gatewayPod), ['https://mesh/keys']);
  assert.ok(!rulesOf('default', { 'gateway.networking.k8s.io/gateway-name': 'api' }).includes('https://gw/keys'));
});

test('a rule without locations gets Envoy\'s defaults; inline jwks needs no fetch timeout', () => {
  const m = buildTestMesh([{
    file: 'inline.yaml',
    text: `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: inline, namespace: default}
spec:
  jwtRules:
  - issuer: "https://inline"
    jwks: '{"keys":[]}'
    fromCookies: [session]
`,
  }]);
  const [rule] = requestAuthnRules(m.snapshot, 'default', {});
  assert.deepEqual(
    { ...rule, source: undefined },
    { issuer: 'https://inline', audiences: [], jwks: '{"keys":[]}', fromHeaders: [], fromParams: [], fromCookies: ['session'], forwardOriginalToken: false, outputClaimToHeaders: [], source: undefined },
  );
  const [defaults] = requestAuthnRules(mesh.snapshot, 'other', {});
  assert.deepEqual(defaults?.fromHeaders, [{ name: 'Authorization', prefix: 'Bearer ' }]);
  assert.deepEqual(defaults?.fromParams, ['access_token']);
  assert.equal(defaults?.jwksFetchTimeoutMs, 5000);
});

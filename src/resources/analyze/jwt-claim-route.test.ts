import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { isRoutingClaim, jwtClaimRouteAnalyzer } from './jwt-claim-route.js';

const lineOf = (yaml: string, marker: string): number => yaml.split('\n').findIndex((l) => l.includes(marker)) + 1;
const summary = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name} ${d.message}`);

// Modelled on Istio's testdata/virtualservice_jwtclaimroute.yaml.
const GATEWAY_AND_ROUTE = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: foo-gateway, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [foo.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: foo, namespace: default }
spec:
  hosts: [foo.com]
  gateways: [foo-gateway]
  http:
  - match:
    - uri: { prefix: /api }
    - uri: { prefix: / }
      headers:
        "@request.auth.claims.foo":
          exact: foo # claim
    route:
    - destination: { host: istiod.istio-system.svc.cluster.local, port: { number: 15010 } }
`;

const message = 'The virtual service uses the JWT claim based routing (key: @request.auth.claims.foo) but found no request authentication for the gateway '
  + '(default/foo-gateway) pod (istio-ingressgateway). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing.';

test('claim routing at a gateway whose pods no RequestAuthentication selects is IST0149 (Istio: virtualServiceJWTClaimRoute)', () => {
  // The pod is the ingress gateway an install of the default profile creates.
  const ds = analyzeYaml(GATEWAY_AND_ROUTE, [jwtClaimRouteAnalyzer]);
  assert.deepEqual(summary(ds), [`IST0149 default/foo ${message}`]);
  assert.equal(ds[0]?.level, 'Error');
  assert.equal(ds[0]?.location?.path, 'spec.http[0].match[1].headers["@request.auth.claims.foo"]');
  assert.equal(ds[0]?.location?.line, lineOf(GATEWAY_AND_ROUTE, '# claim'));
});

function requestAuthn(namespace: string, selector: string): string {
  return `---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: ${namespace} }
spec:${selector}
  jwtRules: [{ issuer: https://issuer.example.com, jwksUri: https://issuer.example.com/jwks.json }]
`;
}

test('a RequestAuthentication in the root namespace or the pod namespace that selects the gateway pods satisfies it', () => {
  for (const ra of [
    requestAuthn('istio-system', '\n  selector: { matchLabels: { istio: ingressgateway } }'),
    requestAuthn('istio-system', ''),
    requestAuthn('istio-system', '\n  selector: { matchLabels: { app: istio-ingressgateway } }'),
  ]) {
    assert.deepEqual(summary(analyzeYaml(GATEWAY_AND_ROUTE + ra, [jwtClaimRouteAnalyzer])), []);
  }
});

test('a RequestAuthentication elsewhere or for other pods does not', () => {
  for (const ra of [
    requestAuthn('default', ''),
    requestAuthn('istio-system', '\n  selector: { matchLabels: { app: productpage } }'),
  ]) {
    assert.deepEqual(summary(analyzeYaml(GATEWAY_AND_ROUTE + ra, [jwtClaimRouteAnalyzer])), [`IST0149 default/foo ${message}`]);
  }
});

test('mesh-only routes, missing gateways and ordinary headers are not reported', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: mesh, namespace: default }
spec:
  hosts: [reviews]
  http:
  - match: [{ headers: { "@request.auth.claims.groups": { exact: admin } } }]
    route: [{ destination: { host: reviews } }]
  - route: [{ destination: { host: reviews } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: missing-gateway, namespace: default }
spec:
  hosts: [foo.com]
  gateways: [nowhere]
  http:
  - match: [{ headers: { "@request.auth.claims[groups]": { exact: admin } } }]
    route: [{ destination: { host: reviews } }]
---` + GATEWAY_AND_ROUTE.replace('"@request.auth.claims.foo"', 'x-user');
  assert.deepEqual(summary(analyzeYaml(yaml, [jwtClaimRouteAnalyzer])), []);
});

test('claim keys are recognised as Istio does', () => {
  assert.equal(isRoutingClaim('@request.auth.claims.sub'), true);
  assert.equal(isRoutingClaim('@request.auth.claims[nested][key]'), true);
  assert.equal(isRoutingClaim('@Request.Auth.Claims.sub'), true);
  assert.equal(isRoutingClaim('@request.auth.claims.'), false);
  assert.equal(isRoutingClaim('@request.auth.claims[]'), false);
  assert.equal(isRoutingClaim('x-request-auth'), false);
});

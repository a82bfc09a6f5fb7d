/**
 * CUSTOM providers and dry-run at compile time: which provider a workload's CUSTOM policies
 * call, Istio's rules for resolving its service, what happens when they fail (the policy carries
 * the reason and denies what it matches), TCP chains, and the `istio.io/dry-run` annotation.
 * The whole-config view is testdata/security/authz-custom-provider.in.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestMesh } from '../testkit.js';
import { chainAuthorization, type ChainAuthorization } from './authz.js';

const operator = (providers: string) => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: op
  namespace: istio-system
spec:
  meshConfig:
    extensionProviders:
${providers.replace(/^/gm, '    ')}
---
`;

const service = (name: string, namespace: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  ports:
  - name: http
    port: 8000
---
`;

const custom = (name: string, provider: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: shop
spec:
  action: CUSTOM
  provider:
    name: ${provider}
  rules:
  - to:
    - operation:
        paths: ["/api/*"]
---
`;

const HTTP_PROVIDER = '- name: authz\n  envoyExtAuthzHttp:\n    service: SERVICE\n    port: 8000\n';

function chain(yaml: string, protocol: 'http' | 'tcp' = 'http'): ChainAuthorization {
  const mesh = buildTestMesh([{ file: 'case.yaml', text: yaml }], []);
  assert.deepEqual(mesh.errors, []);
  return chainAuthorization({ snapshot: mesh.snapshot, namespace: 'shop', labels: {} }, protocol);
}

const withService = (svc: string) => operator(HTTP_PROVIDER.replace('SERVICE', svc));

test('an envoyExtAuthzHttp provider resolves to the outbound cluster of its service, with Istio\'s defaults', () => {
  const c = chain(withService('opa.shop.svc.cluster.local') + service('opa', 'shop') + custom('ext', 'authz'));
  assert.deepEqual(c.extAuthz, {
    provider: 'authz', cluster: 'outbound|8000||opa.shop.svc.cluster.local', timeoutMs: 600_000, pathPrefix: '', failOpen: false, statusOnError: 403,
    includeRequestHeaders: [], includeAdditionalHeaders: [], headersToUpstreamOnAllow: [], headersToDownstreamOnAllow: [], headersToDownstreamOnDeny: [],
  });
  assert.equal(c.policies[0]?.providerError, undefined);
  // The namespace form names the same service.
  assert.equal(chain(withService('shop/opa.shop.svc.cluster.local') + service('opa', 'shop') + custom('ext', 'authz')).extAuthz?.cluster, 'outbound|8000||opa.shop.svc.cluster.local');
});

test('a provider that cannot be used leaves no ext_authz service: the CUSTOM policy says why and denies what it matches', () => {
  const reason = (yaml: string) => {
    const c = chain(yaml);
    assert.equal(c.extAuthz, undefined);
    return c.policies.find((p) => p.action === 'CUSTOM')?.providerError;
  };
  assert.match(reason(withService('opa.shop.svc.cluster.local') + service('opa', 'shop') + custom('ext', 'missing')) ?? '', /extension provider missing not found/);
  assert.match(reason(withService('opa.shop.svc.cluster.local') + custom('ext', 'authz')) ?? '', /could not find service opa.shop.svc.cluster.local in Istio service registry/);
  assert.match(reason(withService('bank/opa.shop.svc.cluster.local') + service('opa', 'shop') + custom('ext', 'authz')) ?? '', /could not find service opa.shop.svc.cluster.local in namespace bank/);
  assert.match(reason(operator('- name: authz\n  envoyExtAuthzGrpc:\n    service: opa.shop.svc.cluster.local\n    port: 9000\n') + service('opa', 'shop') + custom('ext', 'authz')) ?? '', /envoyExtAuthzGrpc is not supported/);
  assert.match(reason(operator(`${HTTP_PROVIDER.replace('SERVICE', 'opa.shop.svc.cluster.local')}- name: other\n  envoyExtAuthzHttp:\n    service: opa.shop.svc.cluster.local\n    port: 8000\n`) + service('opa', 'shop') + custom('a', 'authz') + custom('b', 'other')) ?? '', /all extension providers must be the same/);
  assert.match(reason(operator(`${HTTP_PROVIDER.replace('SERVICE', 'opa.shop.svc.cluster.local')}    pathPrefix: check\n`) + service('opa', 'shop') + custom('ext', 'authz')) ?? '', /pathPrefix must begin with/);
});

test('TCP: a CUSTOM policy with a usable HTTP provider is ignored; with a bad one it still denies', () => {
  const good = chain(withService('opa.shop.svc.cluster.local') + service('opa', 'shop') + custom('ext', 'authz'), 'tcp');
  assert.deepEqual(good.policies, []);
  assert.equal(good.extAuthz, undefined);
  const bad = chain(withService('opa.shop.svc.cluster.local') + custom('ext', 'authz'), 'tcp');
  assert.equal(bad.policies[0]?.action, 'CUSTOM');
  assert.ok(bad.policies[0]?.providerError);
});

test('istio.io/dry-run: true (Go ParseBool spellings) marks ALLOW and DENY policies; false, and other actions, do not', () => {
  const policy = (action: string, value: string, i: number) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${action.toLowerCase()}-${i}
  namespace: shop
  annotations:
    istio.io/dry-run: "${value}"
spec:
  action: ${action}
  rules:
  - {}
---
`;
  const values = ['true', 'True', '1', 'false'];
  const c = chain(['DENY', 'ALLOW', 'AUDIT'].flatMap((a) => values.map((v, i) => policy(a, v, i))).join(''));
  const dry = Object.fromEntries(c.policies.map((p) => [p.name.replace(/^ns\[shop\]-policy\[(.*)\]$/, '$1'), p.dryRun ?? false]));
  assert.deepEqual(dry, {
    'deny-0': true, 'deny-1': true, 'deny-2': true, 'deny-3': false,
    'allow-0': true, 'allow-1': true, 'allow-2': true, 'allow-3': false,
    'audit-0': false, 'audit-1': false, 'audit-2': false, 'audit-3': false,
  });
});

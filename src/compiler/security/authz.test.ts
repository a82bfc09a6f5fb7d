/**
 * AuthorizationPolicy compilation, the parts a golden file shows less plainly: which policies
 * attach to a workload, Istio's handling of HTTP-only fields on TCP chains, `when` keys, and the
 * trust domain. The whole-config view is in testdata/security/authz-*.in.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthorizationPolicy } from '../../proxy-config/index.js';
import { buildTestMesh } from '../testkit.js';
import { chainAuthorization, workloadAuthorizationPolicies, type PolicyTarget } from './authz.js';

function target(yaml: string, namespace: string, labels: Record<string, string>, meshYaml = ''): PolicyTarget {
  const mesh = buildTestMesh([{ file: 'case.yaml', text: meshYaml + yaml }], []);
  assert.deepEqual(mesh.errors, []);
  return { snapshot: mesh.snapshot, namespace, labels };
}

const policy = (name: string, namespace: string, spec: string) => `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
${spec.replace(/^/gm, '  ')}
`;

const names = (t: PolicyTarget) => workloadAuthorizationPolicies(t).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

test('scope: root namespace for all, own namespace only, selectors narrow, targetRefs only for Gateway API gateways', () => {
  const yaml = [
    policy('mesh', 'istio-system', 'action: DENY\nrules:\n- to:\n  - operation:\n      paths: ["/x"]'),
    policy('mesh-web', 'istio-system', 'selector:\n  matchLabels:\n    app: web\nrules:\n- {}'),
    policy('ns', 'shop', 'rules:\n- {}'),
    policy('other-ns', 'bank', 'rules:\n- {}'),
    policy('web-only', 'shop', 'selector:\n  matchLabels:\n    app: web\nrules:\n- {}'),
    policy('gw', 'shop', 'targetRefs:\n- group: gateway.networking.k8s.io\n  kind: Gateway\n  name: edge\nrules:\n- {}'),
    policy('svc', 'shop', 'targetRefs:\n- kind: Service\n  name: web\nrules:\n- {}'),
  ].join('');
  assert.deepEqual(names(target(yaml, 'shop', { app: 'web' })), ['istio-system/mesh', 'istio-system/mesh-web', 'shop/ns', 'shop/web-only']);
  assert.deepEqual(names(target(yaml, 'shop', { app: 'db' })), ['istio-system/mesh', 'shop/ns']);
  assert.deepEqual(names(target(yaml, 'bank', { app: 'web' })), ['istio-system/mesh', 'istio-system/mesh-web', 'bank/other-ns']);
  // A Gateway API gateway takes policies that target it by name, in its namespace (same creation time: by name).
  assert.deepEqual(names(target(yaml, 'shop', { 'gateway.networking.k8s.io/gateway-name': 'edge' })), ['istio-system/mesh', 'shop/gw', 'shop/ns']);
  assert.deepEqual(names(target(yaml, 'istio-system', { app: 'web' })), ['istio-system/mesh', 'istio-system/mesh-web']);
});

function compiled(spec: string, protocol: 'http' | 'tcp', meshYaml = ''): AuthorizationPolicy {
  const [p] = chainAuthorization(target(policy('p', 'shop', spec), 'shop', {}, meshYaml), protocol).policies;
  assert.ok(p);
  return p;
}

test('TCP: an ALLOW rule with an HTTP-only field is dropped; the policy still applies (so it may allow nothing)', () => {
  const spec = 'rules:\n- to:\n  - operation:\n      methods: ["GET"]\n- from:\n  - source:\n      requestPrincipals: ["*"]\n- when:\n  - key: request.headers[x]\n    values: ["1"]\n- to:\n  - operation:\n      ports: ["5432"]';
  assert.deepEqual(compiled(spec, 'tcp').rules.map((r) => r.index), [3]);
  assert.deepEqual(compiled(spec, 'http').rules.map((r) => r.index), [0, 1, 2, 3]);
  const onlyHttp = compiled('rules:\n- to:\n  - operation:\n      paths: ["/a"]', 'tcp');
  assert.equal(onlyHttp.action, 'ALLOW');
  assert.deepEqual(onlyHttp.rules, []);
});

test('TCP: a DENY rule loses only its HTTP-only fields, so it denies more', () => {
  const p = compiled('action: DENY\nrules:\n- from:\n  - source:\n      requestPrincipals: ["*"]\n      namespaces: ["legacy"]\n  to:\n  - operation:\n      paths: ["/admin"]\n      ports: ["5432"]\n  when:\n  - key: request.auth.claims[role]\n    values: ["x"]\n  - key: source.ip\n    values: ["10.0.0.0/8"]', 'tcp');
  assert.deepEqual(p.rules, [{ index: 0, from: [{ namespaces: ['legacy'] }], to: [{ ports: [5432] }], when: [{ key: 'source.ip', values: ['10.0.0.0/8'] }] }]);
  // A source emptied of its fields matches any source: the entry is kept, not removed.
  const any = compiled('action: AUDIT\nrules:\n- from:\n  - source:\n      requestPrincipals: ["*"]\n  - source:\n      namespaces: ["a"]', 'tcp');
  assert.deepEqual(any.rules[0]?.from, [{}, { namespaces: ['a'] }]);
});

test('when keys: bracketed names split, header names lower-cased, serviceAccounts qualified', () => {
  const p = compiled('rules:\n- from:\n  - source:\n      serviceAccounts: ["sleep", "other/app"]\n  when:\n  - key: request.headers[X-Token]\n    values: ["a"]\n  - key: request.auth.claims[realm][role]\n    notValues: ["guest"]\n  - key: experimental.envoy.filters.network.mysql_proxy[db.table]\n    values: ["[update]"]', 'http');
  assert.deepEqual(p.rules[0], {
    index: 0,
    from: [{ serviceAccounts: ['shop/sleep', 'other/app'] }],
    to: [],
    when: [
      { key: 'request.headers', names: ['x-token'], values: ['a'] },
      { key: 'request.auth.claims', names: ['realm', 'role'], notValues: ['guest'] },
      { key: 'experimental.envoy.filters.network.mysql_proxy', names: ['db.table'], values: ['[update]'] },
    ],
  });
});

test('CUSTOM keeps its provider; names follow Istio (ns[<ns>]-policy[<name>])', () => {
  const p = compiled('action: CUSTOM\nprovider:\n  name: opa\nrules:\n- {}', 'http');
  assert.equal(p.name, 'ns[shop]-policy[p]');
  assert.equal(p.provider, 'opa');
  assert.deepEqual(p.source, { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'p' });
});

test('a principal in cluster.local means the mesh trust domain (Istio trust domain migration)', () => {
  const operator = 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: op\n  namespace: istio-system\nspec:\n  meshConfig:\n    trustDomain: corp.example\n';
  const p = compiled('rules:\n- from:\n  - source:\n      principals: ["cluster.local/ns/a/sa/b", "other.org/ns/a/sa/b", "*"]', 'http', operator);
  assert.deepEqual(p.rules[0]?.from[0]?.principals, ['corp.example/ns/a/sa/b', 'other.org/ns/a/sa/b', '*']);
});

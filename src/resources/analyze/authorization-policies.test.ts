import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { authorizationPolicyAnalyzer } from './authorization-policies.js';
import { analyzeYaml, deploymentYaml } from './test-helpers.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [authorizationPolicyAnalyzer]);
const brief = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name}`).sort();

const deployment = deploymentYaml;

const namespace = (name: string, labels: Record<string, string> = {}): string =>
  `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: ${JSON.stringify(labels)}}\n---\n`;

function policy(name: string, ns: string, selector: Record<string, string> | undefined, source = '{principals: ["cluster.local/ns/default/sa/sleep"]}'): string {
  const sel = selector ? `\n  selector:\n    matchLabels: ${JSON.stringify(selector)}` : '';
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: ${ns}
spec:${sel}
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/default/sa/sleep"]}
    - source: ${source}
    to:
    - operation: {methods: [GET], paths: ["/info*"]}
---
`;
}

const wildcards = '{%s: ["prod-*", "*-test", "*-bogus", "bogus-*", "*", "httpbin"]}';

// Modelled on Istio's testdata/authorizationpolicies.yaml, with Deployments in place of Pods.
const istioCase = [
  namespace('httpbin', { 'istio-injection': 'enabled' }),
  deployment('httpbin', 'httpbin', { app: 'httpbin', version: 'v1' }),
  policy('httpbin', 'httpbin', { app: 'httpbin', version: 'v1' }, '{namespaces: ["httpbin"]}'),
  'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: meshwide-httpbin, namespace: istio-system}\nspec: {}\n---\n',
  policy('meshwide-httpbin-v1', 'istio-system', { version: 'bogus-version' }),
  policy('httpbin-empty-namespace-wide', 'httpbin-empty', undefined, '{namespaces: ["httpbin"]}'),
  policy('httpbin-namespace-wide', 'httpbin', undefined, '{namespaces: ["httpbin"]}'),
  policy('httpbin-nopods', 'httpbin', { app: 'bogus-label', version: 'v1' }),
  namespace('prod-httpbin', { 'istio-injection': 'enabled' }),
  namespace('httpbin-test', { 'istio-injection': 'enabled' }),
  policy('httpbin-bogus-not-ns', 'httpbin', { app: 'httpbin', version: 'v1' }, wildcards.replace('%s', 'notNamespaces')),
  policy('httpbin-bogus-ns', 'httpbin', { app: 'httpbin', version: 'v1' }, wildcards.replace('%s', 'namespaces')),
  policy('no-workload', 'test-ambient', { app: 'httpbin', version: 'v1' }, '{namespaces: ["httpbin"]}'),
  policy('valid-policy', 'test-ambient', { app: 'sleep', version: 'v1' }, '{namespaces: ["httpbin"]}'),
  deployment('sleep', 'test-ambient', { app: 'sleep', version: 'v1' }, { 'ambient.istio.io/redirection': 'enabled' }),
].join('');

test('authorization policies: the messages Istio expects for authorizationpolicies.yaml', () => {
  assert.deepEqual(brief(run(istioCase)), [
    'IST0101 httpbin/httpbin-bogus-not-ns',
    'IST0101 httpbin/httpbin-bogus-not-ns',
    'IST0101 httpbin/httpbin-bogus-ns',
    'IST0101 httpbin/httpbin-bogus-ns',
    'IST0127 httpbin-empty/httpbin-empty-namespace-wide',
    'IST0127 httpbin/httpbin-nopods',
    'IST0127 istio-system/meshwide-httpbin-v1',
    'IST0127 test-ambient/no-workload',
  ]);
});

test('authorization policies: an unknown source namespace points at the entry', () => {
  const ds = run(istioCase).filter((d) => d.origin?.name === 'httpbin-bogus-ns');
  assert.deepEqual(ds.map((d) => [d.level, d.message, d.location?.path]), [
    ['Error', 'Referenced namespace not found: "*-bogus"', 'spec.rules[0].from[1].source.namespaces[2]'],
    ['Error', 'Referenced namespace not found: "bogus-*"', 'spec.rules[0].from[1].source.namespaces[3]'],
  ]);
  assert.equal(ds[0]?.location?.line, 124);
  const notNs = run(istioCase).filter((d) => d.origin?.name === 'httpbin-bogus-not-ns');
  assert.equal(notNs[0]?.location?.path, 'spec.rules[0].from[1].source.notNamespaces[2]');
});

test('authorization policies: no matching workloads names the selector, or nothing for a namespace-wide policy', () => {
  const ds = run(istioCase);
  const nopods = ds.find((d) => d.origin?.name === 'httpbin-nopods');
  assert.equal(nopods?.level, 'Warning');
  assert.equal(nopods?.message, 'No matching workloads for this resource with the following labels: app=bogus-label,version=v1');
  assert.equal(nopods?.location?.path, 'spec.selector');
  const wide = ds.find((d) => d.origin?.name === 'httpbin-empty-namespace-wide');
  assert.equal(wide?.message, 'No matching workloads for this resource with the following labels: ');
  assert.equal(wide?.location?.path, 'metadata.name');
  assert.equal(wide?.location?.line, 52);
});

test('authorization policies: only workloads that get a sidecar count', () => {
  const plain = deployment('api', 'shop', { app: 'api' }) + policy('api', 'shop', { app: 'api' });
  assert.deepEqual(brief(run(plain)), ['IST0127 shop/api']);
  const injectedNs = namespace('shop', { 'istio.io/rev': 'canary' }) + plain;
  assert.deepEqual(run(injectedNs), []);
  const injectedPod = deployment('api', 'shop', { app: 'api', 'sidecar.istio.io/inject': 'true' }) + policy('api', 'shop', { app: 'api' });
  assert.deepEqual(run(injectedPod), []);
  const disabledNs = namespace('shop', { 'istio-injection': 'disabled', 'istio.io/rev': 'canary' }) + plain;
  assert.deepEqual(brief(run(disabledNs)), ['IST0127 shop/api']);
  const optedOut = namespace('shop', { 'istio-injection': 'enabled' }) + deployment('api', 'shop', { app: 'api', 'sidecar.istio.io/inject': 'false' }) + policy('api', 'shop', { app: 'api' });
  assert.deepEqual(brief(run(optedOut)), ['IST0127 shop/api']);
});

test('authorization policies: the root namespace comes from the IstioOperator meshConfig', () => {
  const operator = 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: mesh, namespace: istio-system}\nspec: {meshConfig: {rootNamespace: mesh-root}}\n---\n';
  const yaml = operator + namespace('shop', { 'istio-injection': 'enabled' }) + deployment('api', 'shop', { app: 'api' }) + policy('api', 'mesh-root', { app: 'api' });
  assert.deepEqual(run(yaml), []);
});

test('authorization policies: a gateway policy in the install namespace matches the implied gateway', () => {
  assert.deepEqual(run(policy('ingress', 'istio-system', { istio: 'ingressgateway' })), []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { sidecarSelectorAnalyzer } from './sidecar-selectors.js';
import { analyzeYaml, deploymentYaml } from './test-helpers.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [sidecarSelectorAnalyzer]);
const brief = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name}`).sort();

const deployment = deploymentYaml;

function sidecar(name: string, namespace: string, labels?: Record<string, string>): string {
  const selector = labels ? `\n  workloadSelector:\n    labels: ${JSON.stringify(labels)}` : '';
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: ${name}
  namespace: ${namespace}
spec:${selector}
  egress:
  - hosts: ["./*"]
---
`;
}

// Modelled on Istio's testdata/sidecar-selector.yaml, with Deployments in place of Pods.
const selectorCase = [
  deployment('productpage', 'default', { app: 'productpage' }),
  deployment('productpage-other', 'other', { app: 'productpage' }),
  deployment('reviews', 'default', { app: 'reviews' }),
  deployment('ratings', 'default', { app: 'ratings-app', myapp: 'ratings-myapp' }),
  sidecar('maps-correctly-no-conflicts', 'default', { app: 'productpage' }),
  sidecar('maps-to-nonexistent', 'default', { app: 'bogus' }),
  sidecar('maps-to-different-ns', 'other', { app: 'reviews' }),
  sidecar('dupe-1', 'default', { app: 'reviews' }),
  sidecar('dupe-2', 'default', { app: 'reviews' }),
  sidecar('overlap-1', 'default', { app: 'ratings-app' }),
  sidecar('overlap-2', 'default', { myapp: 'ratings-myapp' }),
].join('');

test('sidecar selectors: the messages Istio expects for sidecar-selector.yaml', () => {
  assert.deepEqual(brief(run(selectorCase)), [
    'IST0101 default/maps-to-nonexistent',
    'IST0101 other/maps-to-different-ns',
    'IST0110 default/dupe-1',
    'IST0110 default/dupe-2',
    'IST0110 default/overlap-1',
    'IST0110 default/overlap-2',
  ]);
});

test('sidecar selectors: a selector that matches nothing points at its first label', () => {
  const d = run(selectorCase).find((x) => x.origin?.name === 'maps-to-nonexistent');
  assert.equal(d?.level, 'Error');
  assert.equal(d?.message, 'Referenced selector not found: "app=bogus"');
  assert.equal(d?.location?.path, 'spec.workloadSelector.labels.app');
  assert.equal(d?.location?.file, 'test.yaml');
  assert.equal(d?.location?.line, 55);
});

test('sidecar selectors: conflicting Sidecars name the workload and each other', () => {
  const d = run(selectorCase).find((x) => x.origin?.name === 'dupe-2');
  assert.equal(d?.level, 'Error');
  assert.equal(d?.message, 'The Sidecars [dupe-1 dupe-2] in namespace "default" select the same workload pod "reviews", which can lead to undefined behavior.');
  assert.equal(d?.location?.path, 'metadata.name');
});

test('sidecar selectors: one Sidecar per workload and one default Sidecar per namespace are clean', () => {
  const yaml = deployment('web', 'shop', { app: 'web' }) + sidecar('default', 'shop') + sidecar('web', 'shop', { app: 'web' }) + sidecar('default', 'other');
  assert.deepEqual(run(yaml), []);
});

test('sidecar selectors: a selector matches the gateways an install creates', () => {
  assert.deepEqual(run(sidecar('ingress', 'istio-system', { istio: 'ingressgateway' })), []);
});

// Modelled on Istio's testdata/sidecar-default-selector.yaml.
test('sidecar selectors: the messages Istio expects for sidecar-default-selector.yaml', () => {
  const ns = (name: string, labels: Record<string, string>): string => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: ${JSON.stringify(labels)}}\n---\n`;
  const yaml = [
    sidecar('no-selector', 'ns1'),
    sidecar('has-selector', 'ns1', { app: 'foo' }),
    sidecar('has-conflict-1', 'ns2'),
    sidecar('has-conflict-2', 'ns2'),
    ns('ns1', {}),
    ns('ns2', {}),
    deployment('random-pod', 'ns1', { app: 'foo' }),
    ns('ns-ambient', { 'istio.io/dataplane-mode': 'ambient' }),
    deployment('random-pod-ambient', 'ns-ambient', { app: 'ambient' }, { 'ambient.istio.io/redirection': 'enabled' }),
    sidecar('namespace-scoped', 'ns-ambient'),
    sidecar('pod-scoped', 'ns-ambient', { app: 'ambient' }),
    ns('ns-not-ambient', { 'istio.io/dataplane-mode': 'ambient', 'istio-injection': 'enabled' }),
    ns('ns-not-ambient-rev', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/rev': 'canary' }),
    sidecar('namespace-not-ambient', 'ns-not-ambient'),
    sidecar('namespace-not-ambient', 'ns-not-ambient-rev'),
  ].join('');
  const ds = run(yaml);
  assert.deepEqual(brief(ds), [
    'IST0111 ns2/has-conflict-1',
    'IST0111 ns2/has-conflict-2',
    'IST0167 ns-ambient/namespace-scoped',
    'IST0167 ns-ambient/pod-scoped',
  ]);
  const multiple = ds.find((d) => d.code === 'IST0111');
  assert.equal(multiple?.level, 'Error');
  assert.equal(multiple?.message, 'The Sidecars [has-conflict-1 has-conflict-2] in namespace "ns2" have no workload selector, which can lead to undefined behavior.');
  const ambient = ds.find((d) => d.origin?.name === 'pod-scoped');
  assert.equal(ambient?.level, 'Warning');
  assert.equal(ambient?.message, 'The policy has no impact: selected workload is in ambient mode, the policy has no impact.');
});

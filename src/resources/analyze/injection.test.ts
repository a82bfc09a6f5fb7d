import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { injectionAnalyzer } from './injection.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [injectionAnalyzer]);
const where = (d: Diagnostic): string => `${d.code} ${d.level} ${d.origin?.name} ${d.location?.path} line ${d.location?.line}`;

function namespace(name: string, labels: Record<string, string> = {}): string {
  const entries = Object.entries(labels);
  const block = entries.length === 0 ? '' : `  labels:\n${entries.map(([k, v]) => `    ${k}: "${v}"\n`).join('')}`;
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n${block}`;
}

test('a namespace without an injection label is IST0102 at its name (injection.yaml: bar)', () => {
  const diags = run(namespace('bar'));
  assert.deepEqual(diags.map(where), ['IST0102 Info bar metadata.name line 4']);
  assert.equal(diags[0]?.message,
    "The namespace is not enabled for Istio injection. Run 'kubectl label namespace bar istio-injection=enabled' to enable it, or 'kubectl label namespace bar istio-injection=disabled' to explicitly mark it as not needing injection.");
});

test('enabled, disabled, revision-labelled and ambient namespaces are not IST0102 (injection.yaml)', () => {
  const yaml = [
    namespace('default', { 'istio-injection': 'enabled' }),
    namespace('ambient', { 'istio.io/dataplane-mode': 'ambient' }),
    namespace('foo', { 'istio-injection': 'disabled' }),
    namespace('canary-test', { 'istio.io/rev': 'canary' }),
    namespace('pidgeon-test', { 'istio.io/rev': 'pidgeon' }),
  ].join('---\n');
  assert.deepEqual(run(yaml), []);
});

test('an empty istio-injection label counts as none', () => {
  assert.deepEqual(run(namespace('blank', { 'istio-injection': '' })).map((d) => d.code), ['IST0102']);
});

test('istio-system and the namespaces istioctl ignores are not checked', () => {
  const yaml = ['istio-system', 'kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'].map((n) => namespace(n)).join('---\n');
  assert.deepEqual(run(yaml), []);
});

test('more than one kind of injection label is IST0123 (injection.yaml: busted, multi-ns-*)', () => {
  const yaml = [
    namespace('busted', { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' }),
    namespace('multi-ns-1', { 'istio-injection': 'enabled', 'istio.io/rev': 'test' }),
    namespace('multi-ns-2', { 'istio-injection': 'enabled', 'istio.io/dataplane-mode': 'ambient' }),
    namespace('multi-ns-3', { 'istio.io/rev': 'test', 'istio.io/dataplane-mode': 'ambient' }),
  ].join('---\n');
  const diags = run(yaml);
  assert.deepEqual(diags.map(where), [
    'IST0123 Warning busted metadata.labels line 6',
    'IST0123 Warning multi-ns-1 metadata.labels line 14',
    'IST0123 Warning multi-ns-2 metadata.labels line 22',
    'IST0123 Warning multi-ns-3 metadata.labels line 30',
  ]);
  assert.equal(diags[0]?.message,
    'The namespace has more than one type of injection labels [istio-injection=enabled istio.io/rev=canary], which may lead to undefined behavior. Make sure only one injection label exists.');
  assert.match(diags[3]?.message ?? '', /\[istio\.io\/rev=test istio\.io\/dataplane-mode=ambient\]/);
});

test('a disabling istio-injection label next to a revision or ambient label is no conflict (not-conflict-ns-*)', () => {
  const yaml = [
    namespace('not-conflict-ns-1', { 'istio-injection': 'disabled', 'istio.io/dataplane-mode': 'ambient' }),
    namespace('not-conflict-ns-2', { 'istio-injection': 'disabled', 'istio.io/rev': 'test' }),
  ].join('---\n');
  assert.deepEqual(run(yaml), []);
});

test('with enableNamespacesByDefault Istio reports IST0148 instead of IST0102; Weft reports neither', () => {
  const operator = 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: cp\n  namespace: istio-system\nspec:\n  values:\n    sidecarInjectorWebhook:\n      enableNamespacesByDefault: true\n';
  assert.deepEqual(run(`${operator}---\n${namespace('bar')}`), []);
  // A revisioned control plane's injector is not the one unlabelled namespaces use.
  const revisioned = operator.replace('spec:\n', 'spec:\n  revision: canary\n');
  assert.deepEqual(run(`${revisioned}---\n${namespace('bar')}`).map((d) => d.code), ['IST0102']);
});

test('a Deployment that opts out of injection in an injected namespace is not IST0103 (Istio skips such pods)', () => {
  const deployment = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: legacy\n  namespace: maildev\nspec:\n  selector:\n    matchLabels: {app: legacy}\n' +
    '  template:\n    metadata:\n      labels: {app: legacy, sidecar.istio.io/inject: "false"}\n    spec:\n      containers:\n      - name: app\n        image: x\n';
  const plain = deployment.replace('name: legacy\n', 'name: plain\n').replace(', sidecar.istio.io/inject: "false"', '');
  assert.deepEqual(run([namespace('maildev', { 'istio-injection': 'enabled' }), deployment, plain].join('---\n')), []);
});

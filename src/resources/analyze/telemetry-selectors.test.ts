import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { telemetryAnalyzer } from './telemetry-selectors.js';
import { analyzeYaml, deploymentYaml } from './test-helpers.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [telemetryAnalyzer]);
const brief = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name}`).sort();

const deployment = deploymentYaml;

function telemetry(name: string, namespace: string, labels?: Record<string, string>, body = 'metrics: [{providers: [{name: prometheus}]}]'): string {
  const selector = labels ? `\n  selector:\n    matchLabels: ${JSON.stringify(labels)}` : '';
  return `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: ${name}
  namespace: ${namespace}
spec:${selector}
  ${body}
---
`;
}

const operator = (meshConfig: string): string =>
  `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: mesh, namespace: istio-system}\nspec:\n  meshConfig: ${meshConfig}\n---\n`;

// Modelled on Istio's testdata/telemetry-selector.yaml, with Deployments in place of Pods.
const selectorCase = [
  deployment('productpage', 'default', { app: 'productpage' }),
  deployment('productpage-other', 'other', { app: 'productpage' }),
  deployment('reviews', 'default', { app: 'reviews' }),
  deployment('ratings', 'default', { app: 'ratings-app', myapp: 'ratings-myapp' }),
  telemetry('maps-correctly-no-conflicts', 'default', { app: 'productpage' }),
  telemetry('maps-to-nonexistent', 'default', { app: 'bogus' }),
  telemetry('maps-to-different-ns', 'other', { app: 'reviews' }),
  telemetry('dupe-1', 'default', { app: 'reviews' }),
  telemetry('dupe-2', 'default', { app: 'reviews' }),
  telemetry('overlap-1', 'default', { app: 'ratings-app' }),
  telemetry('overlap-2', 'default', { myapp: 'ratings-myapp' }),
].join('');

test('telemetry: the messages Istio expects for telemetry-selector.yaml', () => {
  const ds = run(selectorCase);
  assert.deepEqual(brief(ds), [
    'IST0101 default/maps-to-nonexistent',
    'IST0101 other/maps-to-different-ns',
    'IST0159 default/dupe-1',
    'IST0159 default/dupe-2',
    'IST0159 default/overlap-1',
    'IST0159 default/overlap-2',
  ]);
  const missing = ds.find((d) => d.origin?.name === 'maps-to-nonexistent');
  assert.equal(missing?.level, 'Error');
  assert.equal(missing?.message, 'Referenced selector not found: "app=bogus"');
  assert.equal(missing?.location?.path, 'spec.selector.matchLabels.app');
  assert.equal(missing?.location?.line, 54);
  const overlap = ds.find((d) => d.origin?.name === 'overlap-1');
  assert.equal(overlap?.level, 'Error');
  assert.equal(overlap?.message, 'The Telemetries [overlap-1 overlap-2] in namespace "default" select the same workload pod "ratings", which can lead to undefined behavior.');
  assert.equal(overlap?.location?.path, 'metadata.name');
});

// Modelled on Istio's testdata/telemetry-default-selector.yaml.
test('telemetry: the messages Istio expects for telemetry-default-selector.yaml', () => {
  const yaml = telemetry('no-selector', 'ns1') + telemetry('has-selector', 'ns1', { app: 'foo' })
    + telemetry('has-conflict-1', 'ns2') + telemetry('has-conflict-2', 'ns2') + deployment('foo', 'ns1', { app: 'foo' });
  const ds = run(yaml);
  assert.deepEqual(brief(ds), ['IST0160 ns2/has-conflict-1', 'IST0160 ns2/has-conflict-2']);
  assert.equal(ds[0]?.level, 'Error');
  assert.equal(ds[0]?.message, 'The Telemetries [has-conflict-1 has-conflict-2] in namespace "ns2" have no workload selector, which can lead to undefined behavior.');
});

test('telemetry: an empty selector is neither checked for workloads nor a default Telemetry', () => {
  const yaml = telemetry('a', 'ns1', {}) + telemetry('b', 'ns1', {}) + telemetry('c', 'ns1');
  assert.deepEqual(run(yaml), []);
});

// Modelled on Istio's testdata/telemetry-invalid-provider.yaml and telemetry-disable-provider.yaml.
test('telemetry: access logging without providers when the mesh has no default (telemetry-invalid-provider)', () => {
  const body = 'accessLogging:\n  - providers: [{name: envoy}]\n  - filter: {expression: "response.code >= 400"}';
  const ds = run(telemetry('mesh-default', 'istio-system', undefined, body));
  assert.deepEqual(brief(ds), ['IST0157 istio-system/mesh-default']);
  assert.equal(ds[0]?.level, 'Warning');
  assert.equal(ds[0]?.message, 'The Telemetry mesh-default in namespace "istio-system" with empty providers will be ignored.');
  assert.equal(ds[0]?.location?.path, 'spec.accessLogging[1]');
  assert.equal(ds[0]?.location?.line, 9);
});

test('telemetry: disabled access logging and a meshConfig default provider are clean (telemetry-disable-provider)', () => {
  const disabled = telemetry('mesh-default', 'istio-system', undefined, 'accessLogging: [{providers: [{name: envoy}]}]')
    + telemetry('mesh-default', 'foo', undefined, 'accessLogging: [{disabled: true}]');
  assert.deepEqual(run(disabled), []);
  const withDefault = operator('{defaultProviders: {accessLogging: [envoy]}}') + telemetry('logs', 'foo', undefined, 'accessLogging: [{}]');
  assert.deepEqual(run(withDefault), []);
});

// Modelled on Istio's testdata/telemetry-lightstep.yaml with telemetry-lightstep-meshconfig.yaml.
test('telemetry: tracing through a Lightstep provider is deprecated (telemetry-lightstep)', () => {
  const mesh = '{extensionProviders: [{name: lightstep, lightstep: {service: lightstep.monitoring.svc.cluster.local, port: 443, accessToken: fake-token}}]}';
  const ds = run(operator(mesh) + telemetry('mesh-default', 'istio-system', undefined, 'tracing: [{providers: [{name: lightstep}]}]'));
  assert.deepEqual(brief(ds), ['IST0002 istio-system/mesh-default']);
  assert.equal(ds[0]?.level, 'Warning');
  assert.equal(ds[0]?.message, 'Deprecated: The Lightstep provider lightstep is deprecated, please migrate to OpenTelemetry provider.');
  assert.equal(ds[0]?.location?.path, 'spec.tracing[0].providers[0].name');
  assert.deepEqual(run(telemetry('mesh-default', 'istio-system', undefined, 'tracing: [{providers: [{name: lightstep}]}]')), []);
});

/**
 * Where the mesh's sampling percentage and span collector come from, in Istio's precedence:
 * Telemetry over defaultConfig.tracing.sampling over values.pilot.traceSampling over 1%.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../resources/index.js';
import { meshOptionsFrom } from './mesh-options.js';

function mesh(yaml: string) {
  const loaded = loadResources([{ file: 'mesh.yaml', text: yaml }]);
  assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
  return meshOptionsFrom(loaded.resources).tracing;
}

const operator = (spec: string) => `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: mesh, namespace: istio-system}\nspec:\n${spec}`;

test('defaults: 1%, no collector; values.pilot.traceSampling; defaultConfig.tracing.sampling wins over it', () => {
  assert.deepEqual(mesh(operator('  profile: default\n')), { samplingPercent: 1 });
  assert.deepEqual(mesh(operator('  values: {pilot: {traceSampling: 100}}\n')), { samplingPercent: 100 });
  assert.deepEqual(mesh(operator('  values: {pilot: {traceSampling: 100}}\n  meshConfig: {defaultConfig: {tracing: {sampling: 10, zipkin: {address: "zipkin.istio-system:9411"}}}}\n')), { samplingPercent: 10, zipkinAddress: 'zipkin.istio-system:9411' });
  assert.equal(mesh(operator('  meshConfig: {enableTracing: false}\n')), undefined);
});

test('defaultProviders.tracing names a zipkin extension provider; a mesh-wide Telemetry resource overrides both', () => {
  const providers = '  meshConfig:\n    extensionProviders:\n    - {name: zipkin, zipkin: {service: zipkin.istio-system.svc.cluster.local}}\n    - {name: store, zipkin: {service: weft-tracing.istio-system, port: 19411}}\n    defaultProviders: {tracing: [zipkin]}\n';
  assert.deepEqual(mesh(operator(providers)), { samplingPercent: 1, zipkinAddress: 'zipkin.istio-system.svc.cluster.local:9411' });
  const telemetry = `---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  tracing:
  - providers: [{name: store}]
    randomSamplingPercentage: 42
`;
  assert.deepEqual(mesh(operator(providers) + telemetry), { samplingPercent: 42, zipkinAddress: 'weft-tracing.istio-system:19411' });
  assert.deepEqual(mesh(operator('  meshConfig: {enableTracing: false}\n') + telemetry), { samplingPercent: 42 }, 'Telemetry turns tracing on; an unknown provider names no collector');
  assert.deepEqual(mesh(operator(providers) + telemetry.replace('randomSamplingPercentage: 42', 'disableSpanReporting: true')), { samplingPercent: 1 }, 'spans not reported, context still propagated');
  assert.deepEqual(mesh(operator(providers) + telemetry.replace('namespace: istio-system', 'namespace: shop')), { samplingPercent: 1, zipkinAddress: 'zipkin.istio-system.svc.cluster.local:9411' }, 'a namespace Telemetry is not mesh-wide');
});

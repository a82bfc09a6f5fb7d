/**
 * Telemetry metrics overrides merged as Istio's mergeMetrics does: mesh < namespace < workload,
 * per metric and side, ALL_METRICS expanded, tag overrides sorted, prometheus in or out of scope.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestMesh, nodeOf } from '../testkit.js';
import { metricsConfig } from './metrics.js';

function telemetry(name: string, namespace: string, body: string): string {
  return `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${body}`;
}

function metricsOf(workload: string, ...docs: string[]): ReturnType<typeof metricsConfig> {
  const mesh = buildTestMesh([{ file: 'case.yaml', text: docs.join('---\n') }]);
  assert.deepEqual(mesh.errors, []);
  return metricsConfig(mesh.snapshot, nodeOf(mesh.registry, 'sidecar', workload, 'default'));
}

test('no metrics rules: nothing changes', () => {
  assert.deepEqual(metricsOf('reviews-v1'), {});
});

test('mesh-wide tag overrides, a namespace disabling one metric on the client side, a workload removing a tag', () => {
  const mesh = telemetry('mesh', 'istio-system', `  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - match: {metric: REQUEST_COUNT}
      tagOverrides:
        request_host: {value: request.host}
        destination_port: {value: string(destination.port)}
`);
  const ns = telemetry('ns', 'default', '  metrics:\n  - overrides:\n    - match: {metric: REQUEST_DURATION, mode: CLIENT}\n      disabled: true\n');
  const wl = telemetry('reviews', 'default', '  selector: {matchLabels: {app: reviews}}\n  metrics:\n  - overrides:\n    - match: {metric: REQUEST_COUNT, mode: SERVER}\n      tagOverrides:\n        request_protocol: {operation: REMOVE}\n');
  const tags = [{ name: 'destination_port', value: 'string(destination.port)' }, { name: 'request_host', value: 'request.host' }];
  assert.deepEqual(metricsOf('productpage-v1', mesh, ns, wl), {
    metrics: { client: { REQUEST_COUNT: { tags }, REQUEST_DURATION: { disabled: true } }, server: { REQUEST_COUNT: { tags } } },
  });
  assert.deepEqual(metricsOf('reviews-v1', mesh, ns, wl).metrics?.server, {
    REQUEST_COUNT: { tags: [...tags, { name: 'request_protocol', remove: true }] },
  });
});

test('ALL_METRICS disabled turns every metric off; a later override brings the others back', () => {
  const off = telemetry('mesh', 'istio-system', '  metrics:\n  - overrides:\n    - match: {metric: ALL_METRICS}\n      disabled: true\n');
  const got = metricsOf('reviews-v1', off).metrics;
  assert.equal(got?.client?.REQUEST_COUNT?.disabled, true);
  assert.equal(got?.server?.TCP_SENT_BYTES?.disabled, true);
  const back = telemetry('ns', 'default', '  metrics:\n  - overrides:\n    - match: {metric: REQUEST_SIZE}\n      disabled: true\n');
  assert.deepEqual(metricsOf('reviews-v1', off, back), { metrics: { client: { REQUEST_SIZE: { disabled: true } }, server: { REQUEST_SIZE: { disabled: true } } } });
});

test('a provider list without prometheus turns the Prometheus metrics off', () => {
  const op = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig:
    extensionProviders:
    - {name: sd, stackdriver: {}}
`;
  const ns = telemetry('ns', 'default', '  metrics:\n  - providers: [{name: sd}]\n');
  assert.equal(metricsOf('reviews-v1', op, ns).metrics?.client?.REQUEST_COUNT?.disabled, true);
});

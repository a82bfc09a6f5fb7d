/**
 * Per-proxy tracing from Telemetry resources with Istio's precedence: mesh-wide < namespace <
 * workload, each rule overriding what it sets, per side (match.mode), providers resolved from
 * meshConfig.extensionProviders (zipkin, OTLP/HTTP), custom tags compiled for the proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestMesh, nodeOf } from '../testkit.js';
import { tracingConfig } from './tracing.js';

const OPERATOR = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  values: {pilot: {traceSampling: 5}}
  meshConfig:
    extensionProviders:
    - {name: zipkin, zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}}
    - name: otel
      opentelemetry:
        service: otel-collector.observability.svc.cluster.local
        port: 4318
        http: {path: /v1/traces, timeout: 2s, headers: [{name: x-tenant, value: shop}]}
    - {name: otel-grpc, opentelemetry: {service: otel-collector.observability.svc.cluster.local, port: 4317}}
`;

function telemetry(name: string, namespace: string, body: string): string {
  return `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${body}`;
}

function tracingOf(workload: string, namespace: string, ...docs: string[]): ReturnType<typeof tracingConfig> {
  const mesh = buildTestMesh([{ file: 'case.yaml', text: docs.join('---\n') }]);
  assert.deepEqual(mesh.errors, []);
  return tracingConfig(mesh.snapshot, nodeOf(mesh.registry, 'sidecar', workload, namespace));
}

test('no tracing rule and no default provider: the mesh-wide settings stand', () => {
  assert.deepEqual(tracingOf('reviews-v1', 'default', OPERATOR), { tracing: { samplingPercent: 5 } });
});

test('namespace over mesh, workload over namespace; the sampling falls back to traceSampling', () => {
  const mesh = telemetry('mesh', 'istio-system', '  tracing:\n  - providers: [{name: zipkin}]\n    randomSamplingPercentage: 10\n');
  const ns = telemetry('ns', 'default', '  tracing:\n  - randomSamplingPercentage: 50\n    customTags:\n      team: {literal: {value: bookstore}}\n');
  const wl = telemetry('reviews', 'default', '  selector: {matchLabels: {app: reviews}}\n  tracing:\n  - providers: [{name: otel}]\n    customTags:\n      pod: {environment: {name: POD_NAME, defaultValue: none}}\n      user: {header: {name: X-User}}\n      path: {formatter: {value: "%REQ(:PATH)%"}}\n');
  const zipkin = 'zipkin.istio-system.svc.cluster.local:9411';
  assert.deepEqual(tracingOf('productpage-v1', 'default', OPERATOR, mesh, ns, wl), {
    tracing: { samplingPercent: 50, zipkinAddress: zipkin, customTags: { team: { literal: 'bookstore' } } },
  });
  assert.deepEqual(tracingOf('reviews-v1', 'default', OPERATOR, mesh, ns, wl), {
    tracing: {
      samplingPercent: 50,
      otlp: { url: 'http://otel-collector.observability.svc.cluster.local:4318/v1/traces', timeoutMs: 2000, headers: [{ name: 'x-tenant', value: 'shop' }] },
      customTags: { path: { formatter: '%REQ(:PATH)%' }, pod: { environment: 'POD_NAME', defaultValue: 'none' }, user: { header: 'x-user' } },
    },
  }, 'customTags replace the namespace ones as a whole');
  assert.deepEqual(tracingOf('details-v1', 'default', OPERATOR, mesh), { tracing: { samplingPercent: 10, zipkinAddress: zipkin } });
});

test('match.mode gives the server side (inbound) its own settings; disableSpanReporting sends nothing', () => {
  const ns = telemetry('ns', 'default', '  tracing:\n  - providers: [{name: zipkin}]\n    randomSamplingPercentage: 100\n  - match: {mode: SERVER}\n    disableSpanReporting: true\n');
  assert.deepEqual(tracingOf('reviews-v1', 'default', OPERATOR, ns), {
    tracing: { samplingPercent: 100, zipkinAddress: 'zipkin.istio-system.svc.cluster.local:9411' },
    inboundTracing: { samplingPercent: 100 },
  });
});

test('defaultProviders.tracing applies without a Telemetry; a gRPC-only provider keeps the mesh collector', () => {
  const withDefault = OPERATOR.replace('  meshConfig:\n', '  meshConfig:\n    defaultProviders: {tracing: [otel]}\n    defaultConfig: {tracing: {sampling: 20, zipkin: {address: "legacy:9411"}}}\n');
  const got = tracingOf('reviews-v1', 'default', withDefault);
  assert.equal(got.tracing?.samplingPercent, 20);
  assert.equal(got.tracing?.otlp?.url, 'http://otel-collector.observability.svc.cluster.local:4318/v1/traces');
  const grpc = telemetry('ns', 'default', '  tracing:\n  - providers: [{name: otel-grpc}]\n');
  assert.deepEqual(tracingOf('reviews-v1', 'default', withDefault, grpc), { tracing: { samplingPercent: 20, zipkinAddress: 'legacy:9411' } });
});

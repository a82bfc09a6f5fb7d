/**
 * The Telemetry API from Istio's YAML to bytes on the wire, in one process: an IstioOperator with
 * an opentelemetry provider (OTLP/HTTP) and Telemetry resources at mesh, namespace and workload
 * level are compiled for productpage-v1's and reviews-v2's sidecars; two real sidecars run with
 * those settings; a request's spans arrive over OTLP in a real trace store with the workload's
 * custom tag, the metrics override shows in a scrape, and the access-log filter picks the lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { buildTestMesh, nodeOf } from '../compiler/testkit.js';
import { compileProxyConfig } from '../compiler/index.js';
import type { MeshRuntimeConfig } from '../proxy-config/index.js';
import { TraceServer, type Span } from '../telemetry/index.js';
import { send } from '../proxy/test-kit.js';
import { startTestMesh } from '../proxy/telemetry/test-mesh.js';
import { parseExposition, sum } from '../proxy/telemetry/parse.js';

const telemetryYaml = (otlpPort: number): string => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig:
    extensionProviders:
    - name: otel
      opentelemetry: {service: 127.0.0.1, port: ${otlpPort}, http: {path: /v1/traces, timeout: 5s}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  tracing:
  - providers: [{name: otel}]
    randomSamplingPercentage: 100
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: productpage, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  tracing:
  - customTags:
      team: {literal: {value: storefront}}
  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNT, mode: CLIENT}
      tagOverrides:
        request_path: {value: request.url_path}
  accessLogging:
  - providers: [{name: envoy}]
    filter: {expression: "response.code >= 500"}
`;

/** The Telemetry-driven part of a compiled sidecar's mesh settings. */
function telemetryOf(mesh: MeshRuntimeConfig): Partial<MeshRuntimeConfig> {
  const { tracing, inboundTracing, metrics, accessLogs } = mesh;
  return { tracing, ...(inboundTracing !== undefined ? { inboundTracing } : {}), ...(metrics ? { metrics } : {}), ...(accessLogs ? { accessLogs } : {}) };
}

test('Telemetry YAML -> compiled sidecar settings -> OTLP spans, overridden metrics and filtered access logs', async (t) => {
  const store = new TraceServer({ zipkinPort: 0, otlpPort: 0 });
  await store.start();
  t.after(() => store.close());
  const compiled = buildTestMesh([{ file: 'telemetry.yaml', text: telemetryYaml(store.ports.otlp) }]);
  assert.deepEqual(compiled.errors, []);
  const configFor = (workload: string) => compileProxyConfig(compiled.snapshot, nodeOf(compiled.registry, 'sidecar', workload, 'default')).mesh;
  const productpage = configFor('productpage-v1');
  const reviews = configFor('reviews-v2');
  assert.deepEqual(productpage.tracing?.customTags, { team: { literal: 'storefront' } });
  assert.equal(reviews.tracing?.customTags, undefined, 'the workload Telemetry selects productpage only');
  assert.equal(reviews.accessLogs, undefined);

  const mesh = await startTestMesh({ clientMesh: telemetryOf(productpage), serverMesh: telemetryOf(reviews) });
  t.after(() => mesh.close());
  let traceId = '';
  mesh.app.handle((req, res) => {
    traceId = String(req.headers['x-b3-traceid']);
    res.writeHead(req.url === '/boom' ? 503 : 200).end();
  });
  const port = mesh.client.port('outbound');
  assert.equal((await send(port, { path: 'http://reviews:9080/boom' })).status, 503);
  const failedTrace = traceId;
  assert.equal((await send(port, { path: 'http://reviews:9080/reviews/7' })).status, 200);

  let spans: Span[] = [];
  for (let i = 0; i < 300 && spans.length < 2; i++) {
    await Promise.all([mesh.client.proxy.tracer?.flush(), mesh.server.proxy.tracer?.flush()]);
    const res = await fetch(`http://127.0.0.1:${store.ports.zipkin}/api/v2/trace/${traceId}`);
    spans = res.status === 200 ? ((await res.json()) as Span[]) : [];
    if (spans.length < 2) await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(spans.map((s) => [s.localEndpoint?.serviceName, s.kind, s.tags?.team]), [['productpage.default', 'CLIENT', 'storefront'], ['reviews.default', 'SERVER', undefined]]);
  assert.notEqual(failedTrace, traceId);

  const scrape = async () => {
    const res = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: mesh.client.port('prometheus'), path: '/stats/prometheus', agent: false }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve(body));
      }).on('error', reject);
    });
    return parseExposition(res).samples;
  };
  let samples = await scrape();
  for (let i = 0; i < 300 && sum(samples, 'istio_requests_total') < 2; i++) samples = await scrape();
  assert.deepEqual(samples.filter((s) => s.name === 'istio_requests_total').map((s) => [s.labels.request_path, s.labels.response_code]).sort(), [['/boom', '503'], ['/reviews/7', '200']]);
  assert.deepEqual(mesh.clientLog.map((l) => l.split('"')[1]), ['GET /boom HTTP/1.1'], 'only the 5xx request is logged');
});

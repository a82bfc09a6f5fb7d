import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources, type LoadResult } from '../load.js';
import { celSyntaxProblem } from './telemetry.js';

function load(spec: string): LoadResult {
  return loadResources([{ file: 't.yaml', text: `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: t
  namespace: istio-system
spec:
${spec}` }]);
}

function problems(r: LoadResult): string[] {
  return r.diagnostics.map((d) => `${d.location?.line} ${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

test('tracing, metrics and access logging load with typed values', () => {
  const r = load(`  tracing:
    - match: {mode: SERVER}
      providers: [{name: zipkin}]
      randomSamplingPercentage: 12.5
      disableSpanReporting: false
      useRequestIdForTraceSampling: true
      enableIstioTags: true
      customTags:
        cluster: {literal: {value: east}}
        pod: {environment: {name: POD_NAME, defaultValue: unknown}}
        user: {header: {name: x-user}}
        path: {formatter: {value: "%REQ(:PATH)%"}}
  metrics:
    - providers: [{name: prometheus}]
      reportingInterval: 15s
      overrides:
        - match: {metric: REQUEST_COUNT, mode: CLIENT}
          tagOverrides:
            request_host: {value: request.host}
            response_flags: {operation: REMOVE}
        - match: {customMetric: my_metric}
          disabled: true
  accessLogging:
    - providers: [{name: envoy}]
      match: {mode: CLIENT_AND_SERVER}
      filter: {expression: "response.code >= 400 || xds.cluster_name == 'outbound|80||x.default.svc.cluster.local'"}
`);
  assert.deepEqual(problems(r), []);
  const [t] = r.resources;
  assert.ok(t?.kind === 'Telemetry');
  assert.equal(t.spec.metrics?.[0]?.reportingInterval, 15000);
  assert.equal(t.spec.tracing?.[0]?.randomSamplingPercentage, 12.5);
  assert.equal(t.spec.metrics?.[0]?.overrides?.[0]?.match?.metric, 'REQUEST_COUNT');
});

test('several tracing entries or providers are warnings (Istio uses the first)', () => {
  assert.deepEqual(problems(load('  tracing:\n    - providers: [{name: a}, {name: b}]\n    - providers: [{name: c}]\n')), [
    '8 Warning spec.tracing: multiple tracing is not currently supported',
    '8 Warning spec.tracing[0].providers: multiple providers is not currently supported',
  ]);
});

test('provider names, custom tags and tag overrides are checked', () => {
  assert.deepEqual(problems(load('  accessLogging:\n    - providers: [{name: ""}]\n')), ['8 Error spec.accessLogging[0].providers[0].name: providers.name may not be empty']);
  assert.deepEqual(problems(load('  tracing:\n    - customTags:\n        a: {literal: {value: x}, header: {name: y}}\n')), [
    '9 Error spec.tracing[0].customTags.a.header: only one of literal, environment, header, formatter may be set (found literal and header)',
  ]);
  assert.deepEqual(problems(load('  metrics:\n    - reportingInterval: 0s\n')), ['8 Error spec.metrics[0].reportingInterval: duration "0s" must be at least 1ms']);
});

test('celSyntaxProblem accepts CEL and rejects broken expressions', () => {
  for (const ok of ['response.code >= 400', "request.headers['x-debug'] == 'true' && !(response.code in [200, 204])", 'size(request.path) > 3u', 'a ? b : -1']) {
    assert.equal(celSyntaxProblem(ok), undefined, ok);
  }
  assert.equal(celSyntaxProblem(''), 'the expression is empty');
  assert.equal(celSyntaxProblem('response.code >= '), 'expression ends with ">="');
  assert.equal(celSyntaxProblem('(response.code == 200'), 'missing closing bracket for "("');
  assert.equal(celSyntaxProblem("request.path == 'x"), 'unterminated string at offset 16');
  assert.equal(celSyntaxProblem('response.code = 200'), 'unexpected character "=" at offset 14');
  assert.equal(celSyntaxProblem('a && || b'), 'unexpected "||" after "&&"');
});

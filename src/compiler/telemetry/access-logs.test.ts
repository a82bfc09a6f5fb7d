/**
 * Access-log selection from Telemetry resources, the cases the golden files do not show: the
 * meshConfig fallback when no Telemetry applies, providers that write no file log, provider names
 * compared case-insensitively, and the oldest Telemetry winning at one level.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestMesh, nodeOf } from '../testkit.js';
import { accessLogConfig } from './access-logs.js';

const OPERATOR = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: mesh
  namespace: istio-system
spec:
  meshConfig:
    accessLogFile: /dev/stderr
    accessLogEncoding: JSON
    extensionProviders:
    - name: Audit-File
      envoyFileAccessLog:
        path: /tmp/audit.log
        logFormat:
          text: '%REQ(:METHOD)% %RESPONSE_CODE%'
    - name: otel
      envoyOtelAls:
        service: otel.observability.svc.cluster.local
        port: 4317
`;

function telemetry(name: string, namespace: string, body: string, created?: string): string {
  return `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: ${name}
  namespace: ${namespace}
${created ? `  creationTimestamp: "${created}"\n` : ''}spec:
${body}`;
}

function accessLogsFor(...docs: string[]): ReturnType<typeof accessLogConfig> {
  const mesh = buildTestMesh([{ file: 'case.yaml', text: docs.join('---\n') }]);
  assert.deepEqual(mesh.errors, []);
  return accessLogConfig(mesh.snapshot, nodeOf(mesh.registry, 'sidecar', 'reviews-v1', 'default'));
}

test('no Telemetry and no default provider: the meshConfig access log, unchanged', () => {
  assert.deepEqual(accessLogsFor(OPERATOR), { accessLog: { encoding: 'JSON', file: '/dev/stderr' } });
});

test('a Telemetry without accessLogging leaves the meshConfig access log in charge', () => {
  assert.deepEqual(accessLogsFor(OPERATOR, telemetry('tracing-only', 'default', '  tracing:\n  - randomSamplingPercentage: 10\n')), { accessLog: { encoding: 'JSON', file: '/dev/stderr' } });
});

test('provider names compare case-insensitively; a provider that writes no file log gives none', () => {
  const got = accessLogsFor(OPERATOR, telemetry('both', 'default', '  accessLogging:\n  - providers:\n    - name: audit-file\n    - name: otel\n'));
  assert.deepEqual(got, { accessLogs: [{ encoding: 'TEXT', file: '/tmp/audit.log', format: '%REQ(:METHOD)% %RESPONSE_CODE%' }] });
});

test('an unknown provider name turns nothing on, and the meshConfig file is no longer used', () => {
  assert.deepEqual(accessLogsFor(OPERATOR, telemetry('typo', 'default', '  accessLogging:\n  - providers:\n    - name: envoyy\n')), { accessLogs: [] });
});

test('two namespace-wide Telemetries: the oldest applies', () => {
  const older = telemetry('older', 'default', '  accessLogging:\n  - providers:\n    - name: envoy\n', '2024-01-01T00:00:00Z');
  const newer = telemetry('newer', 'default', '  accessLogging:\n  - providers:\n    - name: envoy\n    disabled: true\n', '2024-06-01T00:00:00Z');
  assert.deepEqual(accessLogsFor(newer, older), { accessLogs: [{ encoding: 'TEXT', file: '/dev/stdout' }] });
});

test('a filter.expression goes with its provider; the last entry naming a provider gives it', () => {
  const mesh = telemetry('mesh', 'istio-system', '  accessLogging:\n  - providers:\n    - name: envoy\n    filter: {expression: "response.code >= 400"}\n');
  assert.deepEqual(accessLogsFor(OPERATOR, mesh), { accessLogs: [{ encoding: 'TEXT', file: '/dev/stdout', filter: 'response.code >= 400' }] });
  const ns = telemetry('ns', 'default', "  accessLogging:\n  - providers:\n    - name: envoy\n    filter: {expression: \"request.headers['x-debug'] == 'on'\"}\n");
  assert.deepEqual(accessLogsFor(OPERATOR, mesh, ns), { accessLogs: [{ encoding: 'TEXT', file: '/dev/stdout', filter: "request.headers['x-debug'] == 'on'" }] });
});

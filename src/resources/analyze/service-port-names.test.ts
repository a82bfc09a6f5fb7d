import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { servicePortNameAnalyzer } from './service-port-names.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [servicePortNameAnalyzer]);
const where = (d: Diagnostic): string => `${d.code} ${d.level} ${d.origin?.namespace}/${d.origin?.name} ${d.location?.path} line ${d.location?.line}`;

function service(name: string, namespace: string, ports: string, extra = ''): string {
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n${extra}spec:\n  selector:\n    app: ${name}\n  ports:\n${ports}`;
}

test('unnamed ports and names without a protocol prefix are IST0118 at the port (service-no-port-name)', () => {
  const yaml = `${service('my-service1', 'my-namespace1', '  - protocol: TCP\n    port: 8080\n    targetPort: 8080\n')}---\n` +
    service('my-service2', 'my-namespace2', '  - name: foo\n    protocol: TCP\n    port: 8080\n    targetPort: 9090\n');
  const diags = run(yaml);
  assert.deepEqual(diags.map(where), [
    'IST0118 Info my-namespace1/my-service1 spec.ports[0].port line 11',
    'IST0118 Info my-namespace2/my-service2 spec.ports[0].port line 25',
  ]);
  assert.equal(diags[0]?.message, "Port name  (port: 8080, targetPort: 8080) doesn't follow the naming convention of Istio port.");
  assert.equal(diags[1]?.message, "Port name foo (port: 8080, targetPort: 9090) doesn't follow the naming convention of Istio port.");
});

test('each badly named port of a Service is reported; an unset targetPort reads as the port', () => {
  const diags = run(service('web', 'apps', '  - {name: web, port: 80}\n  - {name: http-alt, port: 8080}\n  - {name: metrics, port: 9090}\n'));
  assert.deepEqual(diags.map((d) => d.location?.path), ['spec.ports[0].port', 'spec.ports[2].port']);
  assert.match(diags[1]?.message ?? '', /^Port name metrics \(port: 9090, targetPort: 9090\)/);
});

test('protocol prefixes, appProtocol, UDP and well-known ports follow the convention (service-port-name)', () => {
  const ports = [
    '  - {name: tcp-foo, port: 1}',
    '  - {name: upper, port: 2, appProtocol: HTTP-upper}',
    '  - {name: grpc-web-ui, port: 3}',
    '  - {name: http2, port: 4}',
    '  - {name: https, port: 5}',
    '  - {name: tls-x, port: 6}',
    '  - {name: mongo, port: 7}',
    '  - {name: redis-cache, port: 8}',
    '  - {name: mysql-db, port: 9}',
    '  - {name: proxy, port: 10, appProtocol: http_proxy}',
    '  - {name: grpc, port: 11}',
    '  - {name: anything, port: 12, appProtocol: http}',
    '  - {name: h2c, port: 13, appProtocol: kubernetes.io/h2c}',
    '  - {name: dns, port: 14, protocol: UDP}',
    '  - {name: db, port: 3306}',
    '  - {name: smtp, port: 25}',
    '  - {name: udp-x, port: 15}',
  ].join('\n');
  assert.deepEqual(run(service('ok', 'apps', `${ports}\n`)), []);
});

test('appProtocol takes precedence over the name', () => {
  const diags = run(service('app', 'apps', '  - {name: http-web, port: 80, appProtocol: foo}\n'));
  assert.deepEqual(diags.map((d) => `${d.code} ${d.location?.path}`), ['IST0118 spec.ports[0].port']);
});

test('Istio control plane, gateway-managed Services and ignored namespaces are skipped (service-no-port-name-system-namespace)', () => {
  const yaml = [
    service('my-service1', 'kube-system', '  - {port: 8080}\n'),
    service('my-service2', 'istio-system', '  - {name: foo, port: 8080}\n', '  labels:\n    istio: xxx\n'),
    service('my-service3', 'kube-public', '  - {name: bar, port: 8080}\n'),
    service('my-service4', 'istio-system', '  - {name: foo, port: 8080}\n', '  labels:\n    release: istio\n'),
    service('reviews-istio-waypoint', 'ambient', '  - {name: mesh, port: 15008, appProtocol: hbone}\n', '  labels:\n    gateway.istio.io/managed: istio.io-mesh-controller\n'),
    service('gateway-istio', 'istio-ingress', '  - {name: default, port: 80, appProtocol: hbone}\n', '  labels:\n    gateway.istio.io/managed: istio.io-gateway-controller\n'),
  ].join('---\n');
  assert.deepEqual(run(yaml), []);
});

function externalName(name: string, port: string): string {
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: nginx-ns\nspec:\n  type: ExternalName\n  externalName: nginx.example.com\n  ports:\n${port}`;
}

test('ExternalName Services get IST0150 for an unknown protocol and for a port named exactly tcp (incorrect-port-name-external-name-service-type)', () => {
  const yaml = [
    externalName('nginx', '  - {name: nginx, port: 443}\n'),
    externalName('nginx-svc2', '  - {port: 443}\n'),
    externalName('nginx-svc3', '  - {name: tcp, port: 443}\n'),
  ].join('---\n');
  const diags = run(yaml);
  assert.deepEqual(diags.map(where), [
    'IST0150 Warning nginx-ns/nginx spec.ports[0].port line 10',
    'IST0150 Warning nginx-ns/nginx-svc2 spec.ports[0].port line 21',
    'IST0150 Warning nginx-ns/nginx-svc3 spec.ports[0].port line 32',
  ]);
  assert.match(diags[0]?.message ?? '', /^Port name for ExternalName service is invalid\./);
});

test('ExternalName Services with a protocol-named port are fine (correct-port-name-external-name-service-type)', () => {
  assert.deepEqual(run(`${externalName('ok', '  - {name: https, port: 443}\n')}---\n${externalName('ok2', '  - {name: tcp-db, port: 5432}\n')}`), []);
});

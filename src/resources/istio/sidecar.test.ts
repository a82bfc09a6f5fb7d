import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../load.js';
import type { ResourceOf } from '../kinds.js';

function load(body: string) {
  const text = `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n  namespace: bookinfo\nspec:\n${body}`;
  return loadResources([{ file: 'sidecar.yaml', text }]);
}

function problems(body: string): string[] {
  return load(body).diagnostics.map((d) => `${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

function spec(body: string): ResourceOf<'Sidecar'>['spec'] {
  const result = load(body);
  assert.deepEqual(result.diagnostics, []);
  const r = result.resources[0];
  assert.ok(r && r.kind === 'Sidecar');
  return r.spec;
}

test('every field of a Sidecar loads', () => {
  const s = spec(`  workloadSelector:
    labels:
      app: ratings
  ingress:
  - port:
      number: 9080
      protocol: HTTP
      name: http
    bind: 0.0.0.0
    captureMode: IPTABLES
    defaultEndpoint: 127.0.0.1:8080
    connectionPool:
      http:
        http1MaxPendingRequests: 100
        idleTimeout: 30s
  - port:
      number: 9443
      protocol: HTTPS
      name: https
    defaultEndpoint: unix:///var/run/app.sock
    tls:
      mode: SIMPLE
      serverCertificate: /etc/certs/cert.pem
      privateKey: /etc/certs/key.pem
      minProtocolVersion: TLSV1_2
  egress:
  - port:
      number: 3306
      protocol: MYSQL
      name: mysql
    bind: 127.0.0.1
    hosts:
    - "*/mysql.foo.com"
  - port:
      number: 0
      protocol: HTTP
      name: uds
    bind: unix:///var/run/egress.sock
    captureMode: NONE
    hosts:
    - "istio-system/*"
  - hosts:
    - "./*"
    - "~istio-system/*"
  inboundConnectionPool:
    tcp:
      maxConnections: 50
  outboundTrafficPolicy:
    mode: ALLOW_ANY
    egressProxy:
      host: egress-proxy.istio-system.svc.cluster.local
      subset: v1
      port:
        number: 3128
`);
  assert.deepEqual(s.workloadSelector?.labels, { app: 'ratings' });
  assert.equal(s.ingress?.[0]?.captureMode, 'IPTABLES');
  assert.equal(s.ingress?.[0]?.connectionPool?.http?.idleTimeout, 30_000);
  assert.equal(s.ingress?.[1]?.tls?.mode, 'SIMPLE');
  assert.equal(s.egress?.[1]?.port?.number, 0);
  // Proto enum zero values are filled in.
  assert.equal(s.egress?.[0]?.captureMode, 'DEFAULT');
  assert.equal(s.outboundTrafficPolicy?.mode, 'ALLOW_ANY');
  assert.equal(s.inboundConnectionPool?.tcp?.maxConnections, 50);
});

test('an outboundTrafficPolicy alone is a valid Sidecar and defaults to REGISTRY_ONLY', () => {
  assert.equal(spec('  outboundTrafficPolicy: {}\n').outboundTrafficPolicy?.mode, 'REGISTRY_ONLY');
});

test('Istio\'s semantic checks', () => {
  const ingress = (extra: string) => `  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n${extra}`;
  const cases: [string, string[]][] = [
    ['  egress:\n  - hosts: []\n', ['Error spec.egress[0].hosts: sidecar: egress listener must contain at least one host']],
    ['  egress:\n  - hosts: ["/foo.com"]\n', ['Error spec.egress[0].hosts[0]: config namespace and dnsName in host entry cannot be empty']],
    ['  egress:\n  - hosts: ["Bad_NS/foo.com"]\n', ['Error spec.egress[0].hosts[0]: invalid namespace value "Bad_NS" in sidecar']],
    ['  egress:\n  - hosts: ["ns/foo*.com"]\n', ['Error spec.egress[0].hosts[0]: domain name "foo*.com" invalid (label "foo*" invalid)', 'Error spec.egress[0].hosts[0]: partial wildcard "foo*.com" not allowed']],
    ['  egress:\n  - hosts: ["ns/*", "ns/a.example.com"]\n', ['Warning spec.egress[0].hosts[1]: duplicated egress host: ns/a.example.com']],
    ['  egress:\n  - hosts: ["*/*", "ns/a.example.com"]\n', ['Warning spec.egress[0].hosts: `*/*` host select all resources, no other hosts can be added']],
    ['  egress:\n  - hosts: ["./*"]\n  - hosts: ["./*"]\n  - hosts: ["./*"]\n', [
      'Error spec.egress[0]: sidecar: the egress listener with empty port should be the last listener in the list',
      'Error spec.egress[1]: sidecar: the egress listener with empty port should be the last listener in the list',
    ]],
    ['  egress:\n  - port: {number: 0, name: uds}\n    bind: 127.0.0.1\n    hosts: ["./*"]\n', ['Error spec.egress[0].bind: sidecar: ports with 0 value must have a unix domain socket bind address']],
    ['  egress:\n  - port: {number: 0}\n    bind: unix:///a.sock\n    captureMode: IPTABLES\n    hosts: ["./*"]\n',
      ['Error spec.egress[0].captureMode: sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners']],
    ['  egress:\n  - port: {number: 0}\n    bind: unix:///a.sock\n    hosts: ["./*"]\n  - port: {number: 0}\n    bind: unix:///a.sock\n    hosts: ["./*"]\n',
      ['Error spec.egress[1].bind: sidecar: unix domain socket values for listeners must be unique']],
    ['  egress:\n  - port: {number: 80, protocol: HTTP, targetPort: 8080}\n    hosts: ["./*"]\n', ['Error spec.egress[0].port.targetPort: targetPort has no impact on Sidecars']],
    ['  egress:\n  - port: {number: 80, protocol: HTTP}\n    bind: localhost\n    hosts: ["./*"]\n', ['Error spec.egress[0].bind: localhost is not a valid IP']],
    [ingress('    defaultEndpoint: 127.0.0.1\n'), ['Error spec.ingress[0].defaultEndpoint: address 127.0.0.1: missing port in address']],
    [ingress('    defaultEndpoint: 127.0.0.1:http\n'), ['Error spec.ingress[0].defaultEndpoint: sidecar: defaultEndpoint port (http) is not a number']],
    [ingress('    defaultEndpoint: "[::1]:70000"\n'), ['Error spec.ingress[0].defaultEndpoint: port number 70000 must be in the range 1..65535']],
    [ingress('    defaultEndpoint: unix://relative.sock\n'), ['Error spec.ingress[0].defaultEndpoint: relative.sock is not an absolute path to a file']],
    ['  ingress:\n  - port: {number: 0, protocol: TCP}\n', ['Error spec.ingress[0].port.number: port number 0 must be in the range 1..65535']],
    ['  ingress:\n  - port: {number: 80, protocol: QUIC}\n', ['Error spec.ingress[0].port.protocol: unsupported protocol: QUIC']],
    ['  ingress:\n  - bind: 0.0.0.0\n', ['Error spec.ingress[0].port: missing required field "port"']],
    [ingress('    tls: {mode: SIMPLE, credentialName: my-cert}\n'), [
      'Error spec.ingress[0].tls.credentialName: sidecar: credentialName is not currently supported',
      'Error spec.ingress[0].tls: server cannot have TLS settings for non HTTPS/TLS ports',
    ]],
    ['  ingress:\n  - port: {number: 443, protocol: HTTPS}\n    tls: {mode: ISTIO_MUTUAL}\n', ['Error spec.ingress[0].tls.mode: configuration is invalid: cannot set mode to ISTIO_MUTUAL in sidecar ingress tls']],
    ['  ingress:\n  - port: {number: 443, protocol: HTTPS}\n    tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}\n',
      ['Error spec.ingress[0].tls: MUTUAL TLS requires a client CA bundle']],
    ['  ingress:\n  - port: {number: 3306, protocol: TCP, name: tcp}\n    connectionPool:\n      http: {maxRetries: 1}\n',
      ['Warning spec.ingress[0].connectionPool.http: sidecar: HTTP connection pool settings are configured for port 3306 ("tcp") but its protocol is not HTTP (TCP); only TCP settings will apply']],
    ['  inboundConnectionPool: {}\n', ['Error spec.inboundConnectionPool: connection pool must have at least one field']],
    ['  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy: {host: proxy.example.com}\n', ['Error spec.outboundTrafficPolicy.egressProxy: sidecar: egress_proxy port must be non-nil']],
    ['  outboundTrafficPolicy:\n    mode: ALLOW_ANY_DYNAMIC_DNS\n', ['Error spec.outboundTrafficPolicy.mode: unsupported value "ALLOW_ANY_DYNAMIC_DNS"; expected one of REGISTRY_ONLY, ALLOW_ANY']],
    ['  workloadSelector:\n    labels: {"": x}\n  egress:\n  - hosts: ["./*"]\n', ['Error spec.workloadSelector.labels[""]: empty key is not supported in selector: "=x"']],
    ['  workloadSelector: {}\n  egress:\n  - hosts: ["./*"]\n', ['Warning spec.workloadSelector: sidecar: workload selector specified without labels, will be applied to all services in namespace']],
  ];
  for (const [body, expected] of cases) assert.deepEqual(problems(body).sort(), [...expected].sort(), body);
});

test('errors point at the line of the offending host', () => {
  const result = load('  egress:\n  - hosts:\n    - "./*"\n    - "reviews"\n');
  const d = result.diagnostics[0];
  assert.equal(result.ok, false);
  assert.equal(d?.code, 'IST0106');
  assert.equal(d?.location?.path, 'spec.egress[0].hosts[1]');
  assert.equal(d?.location?.line, 10);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../load.js';
import type { ResourceOf } from '../kinds.js';

function load(text: string) {
  return loadResources([{ file: 'svc.yaml', text }]);
}

function service(text: string): ResourceOf<'Service'> {
  const r = load(text);
  assert.deepEqual(r.diagnostics, []);
  const svc = r.resources[0];
  assert.ok(svc?.kind === 'Service');
  return svc;
}

function errors(text: string): { path: string; line: number; message: string }[] {
  return load(text).diagnostics.map((d) => ({ path: d.location?.path ?? '', line: d.location?.line ?? 0, message: d.message.replace(/^Schema validation error: /, '') }));
}

test('Kubernetes defaults are applied: TCP, targetPort = port, ClusterIP, no affinity', () => {
  const svc = service(`apiVersion: v1
kind: Service
metadata:
  name: details
  labels:
    app: details
    service: details
spec:
  ports:
  - port: 9080
    name: http
  selector:
    app: details
`);
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.equal(svc.spec.sessionAffinity, 'None');
  assert.deepEqual(svc.spec.ports, [{ name: 'http', port: 9080, protocol: 'TCP', targetPort: 9080 }]);
  assert.deepEqual(svc.spec.selector, { app: 'details' });
});

test('named target ports, appProtocol and several ports', () => {
  const svc = service(`apiVersion: v1
kind: Service
metadata:
  name: httpbin
spec:
  ports:
  - name: http
    port: 8000
    targetPort: http-web
    appProtocol: http
  - name: grpc-api
    port: 9000
    targetPort: 0
    appProtocol: kubernetes.io/h2c
  - name: dns
    port: 53
    protocol: UDP
  selector:
    app: httpbin
`);
  const ports = svc.spec.ports ?? [];
  assert.equal(ports[0]?.targetPort, 'http-web');
  assert.equal(ports[1]?.targetPort, 9000);
  assert.equal(ports[1]?.appProtocol, 'kubernetes.io/h2c');
  assert.equal(ports[2]?.protocol, 'UDP');
});

test('kubectl get -o yaml output applies (clusterIPs, families, status, nulls)', () => {
  const svc = service(`apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  creationTimestamp: "2024-01-01T00:00:00Z"
spec:
  type: LoadBalancer
  allocateLoadBalancerNodePorts: true
  clusterIP: 10.96.12.34
  clusterIPs:
  - 10.96.12.34
  externalTrafficPolicy: Local
  healthCheckNodePort: 31999
  internalTrafficPolicy: Cluster
  ipFamilies:
  - IPv4
  ipFamilyPolicy: SingleStack
  loadBalancerSourceRanges:
  - 10.0.0.0/8
  - " 192.168.0.0/16"
  ports:
  - name: http2
    nodePort: 31380
    port: 80
    protocol: TCP
    targetPort: 8080
  - name: https
    nodePort: 31390
    port: 443
    targetPort: 8443
  selector:
    istio: ingressgateway
  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 10800
  trafficDistribution: PreferClose
status:
  loadBalancer:
    ingress:
    - ip: 172.18.0.10
      ipMode: VIP
`);
  assert.equal(svc.spec.type, 'LoadBalancer');
  assert.equal(svc.spec.ports?.[1]?.nodePort, 31390);
  assert.equal(svc.spec.externalTrafficPolicy, 'Local');
});

test('headless and ExternalName services need no ports', () => {
  const headless = service(`apiVersion: v1
kind: Service
metadata:
  name: ratings-db
spec:
  clusterIP: None
  selector:
    app: ratings-db
  publishNotReadyAddresses: true
`);
  assert.equal(headless.spec.clusterIP, 'None');
  const external = service(`apiVersion: v1
kind: Service
metadata:
  name: mail
spec:
  type: ExternalName
  externalName: smtp.example.com.
`);
  assert.equal(external.spec.externalName, 'smtp.example.com.');
});

test('a service without ports is rejected where the API server rejects it', () => {
  assert.deepEqual(errors(`apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  selector:
    app: reviews
`), [{ path: 'spec.ports', line: 6, message: 'missing required field "ports": a Service needs at least one port unless it is headless (clusterIP: None) or of type ExternalName' }]);
});

test('port names: required with several ports, unique, DNS labels', () => {
  assert.deepEqual(errors(`apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - port: 9080
  - name: http
    port: 9081
  - name: http
    port: 9082
  - name: HTTP_Admin
    port: 9083
`).map((e) => `${e.line} ${e.path}`), [
    '7 spec.ports[0].name',
    '10 spec.ports[2].name',
    '12 spec.ports[3].name',
  ]);
});

test('port numbers and named target ports are range- and IANA-checked', () => {
  const found = errors(`apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - name: http
    port: 70000
    targetPort: a-very-long-port-name
  - name: tcp
    port: 9000
    targetPort: "9000"
`);
  assert.deepEqual(found, [
    { path: 'spec.ports[0].port', line: 8, message: 'invalid value 70000: must be between 1 and 65535, inclusive' },
    { path: 'spec.ports[0].targetPort', line: 9, message: 'invalid port name "a-very-long-port-name": must be no more than 15 characters' },
    { path: 'spec.ports[1].targetPort', line: 12, message: 'invalid port name "9000": must contain at least one letter (a-z)' },
  ]);
});

test('ExternalName needs externalName; type-specific fields are checked', () => {
  assert.deepEqual(errors(`apiVersion: v1
kind: Service
metadata:
  name: mail
spec:
  type: ExternalName
`).map((e) => e.path), ['spec.externalName']);
  assert.deepEqual(errors(`apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  externalTrafficPolicy: Local
  ports:
  - port: 80
    nodePort: 30080
`).map((e) => `${e.path}: ${e.message}`), [
    "spec.ports[0].nodePort: may not be used when `type` is 'ClusterIP'",
    'spec.externalTrafficPolicy: may only be set for externally-accessible services',
  ]);
});

test('duplicate port/protocol pairs and bad IPs', () => {
  assert.deepEqual(errors(`apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.0.0.300
  ports:
  - name: a
    port: 80
  - name: b
    port: 80
  - name: c
    port: 80
    protocol: UDP
`).map((e) => e.path), ['spec.ports[1]', 'spec.clusterIP']);
});

test('service names are DNS-1035 labels: they may not start with a digit', () => {
  const found = errors(`apiVersion: v1
kind: Service
metadata:
  name: 1-reviews
spec:
  ports:
  - port: 80
`);
  assert.equal(found[0]?.path, 'metadata.name');
  assert.match(found[0]?.message ?? '', /DNS-1035/);
});

test('unknown fields and bad enums', () => {
  assert.deepEqual(errors(`apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: Internal
  ports:
  - port: 80
    proto: TCP
`), [
    { path: 'spec.type', line: 6, message: 'unsupported value "Internal"; expected one of ClusterIP, NodePort, LoadBalancer, ExternalName' },
    { path: 'spec.ports[0].proto', line: 9, message: 'unknown field "proto"' },
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../resources/index.js';
import { buildRegistry } from './registry.js';
import { instancesFromDeployments } from './instances.js';
import { defaultMeshOptions } from './mesh-options.js';
import { kubePortProtocol } from './protocol.js';

const YAML = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, annotations: {networking.istio.io/exportTo: "."}}
spec:
  selector: {app: web}
  ports:
  - {name: http-web, port: 80, targetPort: web}
  - {name: db, port: 3306}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-v1, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, version: v1}}
    spec:
      containers:
      - name: web
        image: web
        ports: [{name: web, containerPort: 8080}, {containerPort: 3306}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: https, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm, namespace: shop}
spec:
  address: 192.0.2.7
  labels: {app: web}
  ports: {http-web: 9090}
`;

function registry() {
  const { resources, ok, diagnostics } = loadResources([{ file: 'mesh.yaml', text: YAML }]);
  assert.ok(ok, JSON.stringify(diagnostics));
  return buildRegistry(resources, instancesFromDeployments(resources), defaultMeshOptions());
}

test('Service ports: protocol from the name, endpoints from selected pods with targetPort resolved by name', () => {
  const r = registry();
  const web = r.lookup('web.shop.svc.cluster.local', 'shop');
  assert.ok(web);
  assert.deepEqual(web.ports.map((p) => p.protocol), ['HTTP', 'TCP']);
  assert.match(web.vip ?? '', /^10\.(9[6-9]|10[0-9]|11[01])\./);
  const eps = r.endpoints(web, 80);
  assert.deepEqual(eps.map((e) => `${e.address}:${e.port}:${e.tlsMode}`), ['10.244.0.10:8080:istio', '10.244.0.11:8080:istio', '192.0.2.7:9090:disabled']);
  assert.equal(r.serviceTargets(r.instances[0]!).length, 2);
});

test('exportTo "." hides a service from other namespaces', () => {
  const r = registry();
  assert.equal(r.lookup('web.shop.svc.cluster.local', 'other'), undefined);
});

test('DNS names resolve as the Kubernetes search path does', () => {
  const r = registry();
  for (const name of ['web', 'web.shop', 'web.shop.svc', 'web.shop.svc.cluster.local']) {
    assert.equal(r.resolveDnsName(name, 'shop')?.hostname, 'web.shop.svc.cluster.local', name);
  }
  assert.equal(r.resolveDnsName('api.example.com', 'shop')?.autoAllocatedVip?.startsWith('240.240.'), true);
});

test('ServiceEntry with DNS resolution and no endpoints resolves its own host', () => {
  const r = registry();
  const ext = r.lookup('api.example.com', 'shop');
  assert.equal(ext?.resolution, 'DNS');
  assert.deepEqual(r.endpoints(ext!, 443).map((e) => `${e.address}:${e.port}`), ['api.example.com:443']);
});

test('protocol selection follows Istio: appProtocol first, grpc-web, well-known ports, sniffing', () => {
  assert.equal(kubePortProtocol({ port: 80, name: 'http', appProtocol: 'kubernetes.io/h2c' }), 'HTTP2');
  assert.equal(kubePortProtocol({ port: 80, name: 'grpc-web-x' }), 'GRPC-Web');
  assert.equal(kubePortProtocol({ port: 3306, name: 'db' }), 'TCP');
  assert.equal(kubePortProtocol({ port: 8080, name: 'web' }), 'Unsupported');
  assert.equal(kubePortProtocol({ port: 53, protocol: 'UDP' }), 'UDP');
});

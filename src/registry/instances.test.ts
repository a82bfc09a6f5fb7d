import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../resources/index.js';
import { instancesFromPods, workloadInstances } from './instances.js';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1}
spec:
  replicas: 2
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews}}
    spec:
      containers: [{name: reviews, image: x, ports: [{containerPort: 9080}]}]
`;

function pod(name: string, ip: string, ready: boolean, sidecar: boolean): string {
  return `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: default
  labels: {app: reviews, version: v1${sidecar ? ', security.istio.io/tlsMode: istio' : ''}}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: reviews-v1-5d9f8b7c6d, uid: u, controller: true}]
spec:
  serviceAccountName: bookinfo-reviews
  containers:
  - {name: reviews, image: x, ports: [{name: http, containerPort: 9080}]}
${sidecar ? '  - {name: istio-proxy, image: weft/proxy}\n' : ''}status:
  phase: Running
  podIP: ${ip}
  conditions: [{type: Ready, status: "${ready ? 'True' : 'False'}"}]
`;
}

function load(text: string) {
  const r = loadResources([{ file: 'pods.yaml', text }]);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.resources;
}

test('with Pods in the set, the instances are the running pods (ready or not), not the Deployments', () => {
  const resources = load(DEPLOYMENT + pod('reviews-v1-5d9f8b7c6d-aaaaa', '127.5.0.1', true, true) + pod('reviews-v1-5d9f8b7c6d-bbbbb', '127.5.0.2', false, false));
  const instances = workloadInstances(resources);
  assert.deepEqual(instances, [{
    name: 'reviews-v1-5d9f8b7c6d-aaaaa', namespace: 'default', labels: { app: 'reviews', version: 'v1', 'security.istio.io/tlsMode': 'istio' }, ip: '127.5.0.1',
    serviceAccount: 'bookinfo-reviews', ports: [{ name: 'http', containerPort: 9080, protocol: 'TCP' }], hasSidecar: true, tlsMode: 'istio', workload: 'reviews-v1', ready: true,
  }, {
    name: 'reviews-v1-5d9f8b7c6d-bbbbb', namespace: 'default', labels: { app: 'reviews', version: 'v1' }, ip: '127.5.0.2',
    serviceAccount: 'bookinfo-reviews', ports: [{ name: 'http', containerPort: 9080, protocol: 'TCP' }], hasSidecar: false, tlsMode: 'disabled', workload: 'reviews-v1', ready: false,
  }]);
  assert.deepEqual(instancesFromPods(load(DEPLOYMENT)), []);
  // Without any Pod, instances are still derived from Deployments (goldens, tests, benchmarks).
  assert.deepEqual(workloadInstances(load(DEPLOYMENT)).map((i) => i.name), ['reviews-v1-0', 'reviews-v1-1']);
});

test('a terminating or unready pod leaves the endpoints but keeps its own service targets', async () => {
  const { buildRegistry, meshOptionsFrom } = await import('./index.js');
  const service = `---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
`;
  const terminating = pod('reviews-v1-5d9f8b7c6d-ccccc', '127.5.0.3', true, true).replace('  namespace: default\n', '  namespace: default\n  deletionTimestamp: "2026-01-01T00:00:00Z"\n');
  const resources = load(DEPLOYMENT + service + pod('reviews-v1-5d9f8b7c6d-aaaaa', '127.5.0.1', true, true) + pod('reviews-v1-5d9f8b7c6d-bbbbb', '127.5.0.2', false, true) + terminating);
  const instances = workloadInstances(resources);
  const registry = buildRegistry(resources, instances, meshOptionsFrom(resources));
  const svc = registry.services.find((s) => s.name === 'reviews');
  assert.ok(svc);
  assert.deepEqual(registry.endpoints(svc, 9080).map((e) => e.address), ['127.5.0.1']);
  for (const inst of instances) assert.deepEqual(registry.serviceTargets(inst).map((t) => `${t.service.name}:${t.port}->${t.targetPort}`), ['reviews:9080->9080'], inst.name);
});

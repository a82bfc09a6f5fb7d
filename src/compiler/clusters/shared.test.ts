/**
 * Clusters, load assignments and default virtual hosts are built once per snapshot and shared by
 * the proxies that would build them alike (shared.ts, routes/shared-hosts.ts): shared objects,
 * frozen, and the same output as a compile that shares nothing. Distribution's serialise-once
 * cache relies on this sharing; a proxy a rule treats differently must not get another's objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyNode } from '../../proxy-config/index.js';
import { loadResources } from '../../resources/index.js';
import { buildRegistry, instancesFromPods, meshOptionsFrom } from '../../registry/index.js';
import { buildSnapshot } from '../snapshot.js';
import { compileProxyConfig } from '../compile.js';

const MESH = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-1, namespace: default, labels: {app: reviews, version: v1}}
spec:
  containers:
  - {name: app, image: app, ports: [{containerPort: 9080}]}
status:
  phase: Running
  podIP: 10.0.0.5
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-canary, namespace: default}
spec:
  host: reviews
  workloadSelector: {matchLabels: {canary: "true"}}
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
`;

function snapshot() {
  const loaded = loadResources([{ file: 'mesh.yaml', text: MESH }]);
  assert.ok(loaded.ok);
  const mesh = meshOptionsFrom(loaded.resources);
  return buildSnapshot(loaded.resources, buildRegistry(loaded.resources, instancesFromPods(loaded.resources), mesh), mesh);
}

const proxy = (name: string, labels: Record<string, string> = {}): ProxyNode =>
  ({ id: `${name}.default`, role: 'sidecar', namespace: 'default', workload: name, labels, serviceAccount: 'default', ip: `10.0.1.${name.length}`, revision: '' });

test('proxies alike share frozen clusters, endpoints and default hosts; a rule selecting one proxy gives it its own', () => {
  const shared = snapshot();
  const a = compileProxyConfig(shared, proxy('a'));
  const b = compileProxyConfig(shared, proxy('bb'));
  const canary = compileProxyConfig(shared, proxy('ccc', { canary: 'true' }));
  const name = 'outbound|9080||reviews.default.svc.cluster.local';
  const cluster = (c: typeof a) => c.clusters.find((x) => x.name === name);
  const host = (c: typeof a) => c.routes.find((r) => r.name === '9080')?.virtualHosts.find((h) => h.name.startsWith('reviews.'));

  assert.ok(cluster(a) && cluster(a) === cluster(b), 'one cluster object for both');
  assert.ok(Object.isFrozen(cluster(a)) && Object.isFrozen(cluster(a)?.service));
  assert.equal(a.endpoints.find((e) => e.cluster === name), b.endpoints.find((e) => e.cluster === name));
  assert.ok(host(a) && host(a) === host(b) && Object.isFrozen(host(a)));
  assert.notEqual(cluster(canary), cluster(a), 'the canary DestinationRule applies to this proxy only');
  assert.equal(cluster(canary)?.loadBalancer.policy, 'RANDOM');
  assert.notEqual(cluster(a)?.loadBalancer.policy, 'RANDOM');

  // Sharing changes nothing: each proxy's config equals one compiled from a snapshot of its own.
  for (const [node, config] of [[proxy('a'), a], [proxy('ccc', { canary: 'true' }), canary]] as const) {
    assert.deepEqual(config, compileProxyConfig(snapshot(), node));
  }
});

const GEO = `apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  selector: {app: echo}
  ports:
  - {name: http, port: 8080}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo
  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}}
${['us-east.a', 'eu-west.a'].map((locality, i) => `---
apiVersion: v1
kind: Pod
metadata: {name: echo-${i}, namespace: default, labels: {app: echo, istio-locality: ${locality}}}
spec:
  containers:
  - {name: app, image: app, ports: [{containerPort: 8080}]}
status:
  phase: Running
  podIP: 10.0.2.${i + 1}
  conditions: [{type: Ready, status: "True"}]
`).join('')}`;

test('locality-weighted endpoints are shared by proxies of one locality only', () => {
  const loaded = loadResources([{ file: 'geo.yaml', text: GEO }]);
  assert.ok(loaded.ok);
  const build = () => {
    const mesh = meshOptionsFrom(loaded.resources);
    return buildSnapshot(loaded.resources, buildRegistry(loaded.resources, instancesFromPods(loaded.resources), mesh), mesh);
  };
  const shared = build();
  const at = (name: string, locality: string): ProxyNode => ({ ...proxy(name), locality });
  const name = 'outbound|8080||echo.default.svc.cluster.local';
  const assignment = (node: ProxyNode) => compileProxyConfig(shared, node).endpoints.find((e) => e.cluster === name);
  const east1 = assignment(at('a', 'us-east/a'));
  const east2 = assignment(at('bb', 'us-east/a'));
  const west = assignment(at('ccc', 'eu-west/a'));
  assert.ok(east1 && east1 === east2, 'one locality, one object');
  assert.notEqual(west, east1);
  const priority = (a: typeof west, address: string) => a?.endpoints.find((e) => e.address === address)?.priority ?? 0;
  assert.deepEqual([priority(east1, '10.0.2.1'), priority(west, '10.0.2.1')], [0, 1], 'each proxy prefers its own locality');
  for (const node of [at('a', 'us-east/a'), at('ccc', 'eu-west/a')]) {
    assert.deepEqual(compileProxyConfig(shared, node), compileProxyConfig(build(), node));
  }
});

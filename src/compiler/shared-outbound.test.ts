/**
 * A sidecar's outbound side is built once per outbound scope and shared (shared-outbound.ts). The
 * sharing must never change a config: random meshes (Sidecars with egress and workload selectors,
 * exportTo, VirtualServices with sourceLabels and sourceNamespace, DestinationRules with workload
 * selectors, subsets and locality load balancing with failoverPriority, proxies in several
 * localities) are compiled for many proxies in a random order, with and without sharing, and
 * compared whole; and proxies alike must get the very same frozen lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyNode } from '../proxy-config/index.js';
import { loadResources } from '../resources/index.js';
import { buildRegistry, instancesFromPods, meshOptionsFrom } from '../registry/index.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';
import { compileProxyConfig } from './compile.js';
import { proxyNodeFor } from './proxy-node.js';
import { seededRandom as random } from '../lib/random.js';

const NAMESPACES = ['ns-a', 'ns-b', 'ns-c'];
const LOCALITIES = ['us-east.a', 'us-east.b', 'eu-west.a'];
const PORTS = ['{name: http, port: 9080}', '{name: tcp, port: 9000}', '{name: grpc, port: 7070}', '{name: web, port: 8000}'];

function meshYaml(seed: number): string {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const chance = (p: number) => r() < p;
  const docs: string[] = [];
  let ip = 1;
  const pod = (name: string, ns: string, labels: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {${labels}}}
spec:
  containers:
  - {name: app, image: app, ports: [{containerPort: 9080}]}
status:
  phase: Running
  podIP: 10.1.0.${ip++}
  conditions: [{type: Ready, status: "True"}]
`;
  for (let i = 0; i < 8; i++) {
    const ns = pick(NAMESPACES);
    const name = `svc-${i}`;
    const ports = [...new Set([pick(PORTS), pick(PORTS)])];
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}${chance(0.2) ? ', annotations: {networking.istio.io/exportTo: "."}' : ''}}
spec:
  selector: {app: ${name}}
  ports: [${ports.join(', ')}]
`);
    for (const version of ['v1', 'v2']) docs.push(pod(`${name}-${version}`, ns, `app: ${name}, version: ${version}, team: ${pick(['red', 'blue'])}, istio-locality: ${pick(LOCALITIES)}`));
    if (chance(0.6)) {
      const selector = chance(0.3) ? `\n  workloadSelector: {matchLabels: {tier: gold}}` : '';
      const lb = pick([
        '',
        '\n    loadBalancer: {localityLbSetting: {enabled: true, failoverPriority: [team]}}\n    outlierDetection: {consecutive5xxErrors: 1}',
        '\n    loadBalancer: {localityLbSetting: {enabled: true}}\n    outlierDetection: {consecutive5xxErrors: 2}',
        '\n    loadBalancer: {consistentHash: {httpHeaderName: x-user}}',
      ]);
      docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}-${seed}, namespace: ${chance(0.5) ? ns : pick(NAMESPACES)}}
spec:
  host: ${name}.${ns}.svc.cluster.local${selector}
  exportTo: ["${selector || chance(0.2) ? '.' : '*'}"]
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: ${1 + Math.floor(r() * 50)}}}${lb}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`);
    }
    if (chance(0.6)) {
      const host = `${name}.${ns}.svc.cluster.local`;
      const source = pick(['sourceLabels: {role: canary}', 'sourceLabels: {team: red}', `sourceNamespace: ${pick(NAMESPACES)}`, 'sourceLabels: {role: canary, team: blue}']);
      docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}-vs, namespace: ${pick(NAMESPACES)}}
spec:
  hosts: [${host}]
  exportTo: ["${chance(0.8) ? '*' : '.'}"]
  http:
  - match: [{${source}}]
    route: [{destination: {host: ${host}, subset: v2}}]
  - route: [{destination: {host: ${host}, subset: v1}, weight: 70}, {destination: {host: ${host}}, weight: 30}]
  tcp:
  - match: [{${source}}]
    route: [{destination: {host: ${host}, subset: v2}}]
  - route: [{destination: {host: ${host}}}]
`);
    }
  }
  for (const ns of NAMESPACES) {
    if (chance(0.4)) {
      docs.push(`apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: ${ns}}
spec:
  egress:
  - hosts: ["./*", "${pick(NAMESPACES)}/*"]${chance(0.3) ? '\n  outboundTrafficPolicy: {mode: REGISTRY_ONLY}' : ''}
`);
    }
    if (chance(0.4)) {
      docs.push(`apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: canary, namespace: ${ns}}
spec:
  workloadSelector: {labels: {egress: wide}}
  egress:
  - port: {number: 9080, protocol: HTTP, name: http}
    hosts: ["*/*"]
`);
    }
  }
  for (let i = 0; i < 6; i++) docs.push(pod(`client-${i}`, pick(NAMESPACES), `app: client, role: ${pick(['canary', 'stable'])}, team: ${pick(['red', 'blue'])}, tier: ${pick(['gold', 'tin'])}, egress: ${pick(['wide', 'narrow'])}, istio-locality: ${pick(LOCALITIES)}`));
  return docs.join('---\n');
}

function build(seed: number): Snapshot {
  const loaded = loadResources([{ file: `mesh-${seed}.yaml`, text: meshYaml(seed) }]);
  assert.ok(loaded.ok, `seed ${seed}: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
  const mesh = meshOptionsFrom(loaded.resources);
  return buildSnapshot(loaded.resources, buildRegistry(loaded.resources, instancesFromPods(loaded.resources), mesh), mesh);
}

/** The mesh's pods, plus pods the registry does not know, with labels and localities of their own. */
function proxies(snapshot: Snapshot, seed: number): ProxyNode[] {
  const r = random(seed * 7 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const nodes: ProxyNode[] = snapshot.registry.instances.map((i) => ({ ...proxyNodeFor(i), role: 'sidecar' }));
  for (let i = 0; i < 24; i++) {
    const labels: Record<string, string> = { app: `extra-${i % 3}`, ...(r() < 0.5 ? { role: pick(['canary', 'stable']) } : {}), ...(r() < 0.5 ? { team: pick(['red', 'blue']) } : {}), ...(r() < 0.5 ? { tier: 'gold' } : {}), ...(r() < 0.5 ? { egress: 'wide' } : {}) };
    const locality = r() < 0.7 ? { locality: pick(LOCALITIES).replace('.', '/') } : {};
    nodes.push({ id: `extra-${i}.x`, role: 'sidecar', namespace: pick(NAMESPACES), workload: `extra-${i}`, labels, serviceAccount: 'default', ip: `10.9.0.${i + 1}`, revision: '', ...locality });
  }
  // A random order, so a proxy of every kind is sometimes the first of its scope.
  return nodes.map((n) => ({ n, k: r() })).sort((a, b) => a.k - b.k).map(({ n }) => n);
}

test('sharing the outbound side changes no config (random meshes, every proxy, with and without)', () => {
  let compared = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const snapshot = build(seed);
    // A snapshot of its own, so no outbound side built with sharing can leak into the reference.
    const reference = build(seed);
    for (const node of proxies(snapshot, seed)) {
      const shared = compileProxyConfig(snapshot, node);
      const alone = compileProxyConfig(reference, node, { shareOutbound: false });
      assert.deepEqual(shared, alone, `seed ${seed}, proxy ${node.id}`);
      compared++;
    }
  }
  assert.ok(compared > 400, `compared ${compared} configs`);
});

test('proxies of one outbound scope get the same frozen lists; a sourceLabels match or a locality splits them', () => {
  const loaded = loadResources([{ file: 'mesh.yaml', text: `apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo, namespace: default}
spec:
  hosts: [echo]
  http:
  - match: [{sourceLabels: {role: canary}}]
    route: [{destination: {host: echo, subset: v2}}]
  - route: [{destination: {host: echo}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo
  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}}
  subsets: [{name: v2, labels: {version: v2}}]
` }]);
  assert.ok(loaded.ok);
  const mesh = meshOptionsFrom(loaded.resources);
  const snapshot = buildSnapshot(loaded.resources, buildRegistry(loaded.resources, instancesFromPods(loaded.resources), mesh), mesh);
  const node = (name: string, labels: Record<string, string>, locality = 'us-east/a'): ProxyNode =>
    ({ id: `${name}.default`, role: 'sidecar', namespace: 'default', workload: name, labels, serviceAccount: 'default', ip: `10.0.1.${name.length}`, revision: '', locality });
  const a = compileProxyConfig(snapshot, node('a', { app: 'a' }), { version: false });
  const b = compileProxyConfig(snapshot, node('bb', { app: 'b' }), { version: false });
  const canary = compileProxyConfig(snapshot, node('ccc', { app: 'c', role: 'canary' }), { version: false });
  const west = compileProxyConfig(snapshot, node('dddd', { app: 'd' }), { version: false });
  const elsewhere = compileProxyConfig(snapshot, node('eeeee', { app: 'e' }, 'eu-west/a'), { version: false });

  assert.equal(a.clusters, b.clusters, 'one cluster list (no inbound side of their own)');
  assert.equal(a.endpoints, b.endpoints);
  assert.ok(Object.isFrozen(a.clusters) && Object.isFrozen(a.routes[0]) && Object.isFrozen(a.listeners[0]));
  assert.equal(a.routes[0], b.routes[0], 'one route table object');
  assert.notEqual(canary.routes[0], a.routes[0], 'the canary sees its own route first');
  assert.equal(canary.routes[0]?.virtualHosts[0]?.routes.length, 2);
  assert.equal(a.routes[0]?.virtualHosts[0]?.routes.length, 1);
  assert.equal(west.clusters, a.clusters, 'locality not set apart: same as a');
  assert.notEqual(elsewhere.endpoints, a.endpoints, 'locality load balancing is relative to the proxy: another locality, other endpoints');
  assert.equal(elsewhere.clusters.find((c) => c.name.startsWith('outbound|8080||')), a.clusters.find((c) => c.name.startsWith('outbound|8080||')), 'the clusters themselves still shared');
});

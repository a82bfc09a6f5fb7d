/**
 * proxyAffected must never miss a proxy whose config changes. The safety net is the randomised
 * equivalence test: over bookinfo, the seed's apps, the seed configs, Istio's bookinfo samples
 * and testdata/dependencies (namespaces scoped by Sidecars, exportTo, delegates, gateways,
 * policies, ServiceEntries, WorkloadEntries), random changes (resources added, edited, removed;
 * pods going ready, unready, relabelled, away) are applied step by step; each proxy keeps its
 * config unless proxyAffected says otherwise, and after every step every kept config must equal a
 * full recompile. The unit tests pin that it also scopes (a change does not recompile the mesh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { loadResources, type AnyResource, type SourceText } from '../resources/index.js';
import { buildRegistry, meshOptionsFrom, workloadInstances, type WorkloadInstance } from '../registry/index.js';
import type { ProxyNode } from '../proxy-config/index.js';
import { repoPath, sharedPath } from '../lib/repo.js';
import { seededRandom } from '../lib/random.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';
import { compileProxyConfig } from './compile.js';
import { proxyNodeFor } from './proxy-node.js';
import { platformSources } from './testkit.js';
import { describeChange, isEmptyChange, proxyAffected } from './dependencies.js';

const testdata = (name: string): SourceText => {
  const file = repoPath('src', 'compiler', 'testdata', 'dependencies', name);
  return { file, text: readFileSync(file, 'utf8') };
};

function load(sources: readonly SourceText[]): AnyResource[] {
  const loaded = loadResources(sources, { duplicates: 'last-wins' });
  const errors = loaded.diagnostics.filter((d) => d.level === 'Error');
  assert.deepEqual(errors, [], 'test inputs load without errors');
  return loaded.resources;
}

const keyOf = (r: AnyResource) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;

interface State {
  resources: AnyResource[];
  instances: WorkloadInstance[];
  snapshot: Snapshot;
}

function state(resources: AnyResource[], instances: WorkloadInstance[]): State {
  const mesh = meshOptionsFrom(resources);
  return { resources, instances, snapshot: buildSnapshot(resources, buildRegistry(resources, instances, mesh), mesh) };
}

function basePlatform(): { resources: AnyResource[]; instances: WorkloadInstance[]; nodes: ProxyNode[] } {
  const resources = load([...platformSources({ seedApps: true }), testdata('platform.yaml')]);
  const instances = workloadInstances(resources);
  const nodes = instances.filter((i) => i.hasSidecar).map((i) => proxyNodeFor(i));
  return { resources, instances, nodes };
}

/** Every document a change may add: the seed configs, Istio's bookinfo samples, and testdata/dependencies/variants.yaml, one candidate each. */
function candidates(): AnyResource[] {
  const files: SourceText[] = [];
  for (const dir of [sharedPath('seed-configs'), sharedPath('istio-samples', 'bookinfo-networking')]) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) files.push({ file: `${dir}/${f}`, text: readFileSync(`${dir}/${f}`, 'utf8') });
  }
  files.push(testdata('variants.yaml'));
  // Loaded one file at a time: several files define the same resource differently, and each is a variant.
  return files.flatMap((f) => loadResources([f]).resources);
}

function compileAll(s: State, nodes: readonly ProxyNode[]): Map<string, string> {
  return new Map(nodes.map((n) => [n.id, versionOf(s.snapshot, n)]));
}

function versionOf(snapshot: Snapshot, node: ProxyNode): string {
  try {
    return compileProxyConfig(snapshot, node).version;
  } catch (error) {
    return `error: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function affectedIds(prev: State, next: State, nodes: readonly ProxyNode[]): string[] {
  const change = describeChange(prev.snapshot, next.snapshot, prev.resources, next.resources);
  return nodes.filter((n) => proxyAffected(change, n)).map((n) => n.id).sort();
}

function withResources(s: State, add: readonly AnyResource[], remove: readonly string[] = []): State {
  const gone = new Set([...remove, ...add.map(keyOf)]);
  return state([...s.resources.filter((r) => !gone.has(keyOf(r))), ...add], s.instances);
}

for (const seed of [20261125, 5]) test(`randomised changes (seed ${seed}): recompiling only affected proxies equals a full recompile`, () => {
  const { resources, instances, nodes } = basePlatform();
  const pool = candidates();
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  let current = state(resources, instances);
  const kept = compileAll(current, nodes);
  let skipped = 0;
  let recompiled = 0;
  const history: string[] = [];

  for (let step = 0; step < 120; step++) {
    let nextResources = [...current.resources];
    let nextInstances = current.instances.map((i) => ({ ...i, labels: { ...i.labels } }));
    const edits = 1 + Math.floor(random() * 3);
    const described: string[] = [];
    for (let e = 0; e < edits; e++) {
      const roll = random();
      if (roll < 0.6) {
        const candidate = pick(pool);
        const key = keyOf(candidate);
        const existing = nextResources.find((r) => keyOf(r) === key);
        nextResources = nextResources.filter((r) => keyOf(r) !== key);
        if (existing === candidate) described.push(`remove ${key}`);
        else {
          nextResources.push(candidate);
          described.push(`${existing ? 'replace' : 'add'} ${key}`);
        }
      } else if (roll < 0.75) {
        // A resource of the base platform goes away (a Service, a Deployment's Sidecar...).
        const victims = nextResources.filter((r) => r.kind === 'Service' || r.kind === 'Sidecar');
        if (victims.length === 0) continue;
        const victim = pick(victims);
        nextResources = nextResources.filter((r) => r !== victim);
        described.push(`remove ${keyOf(victim)}`);
      } else {
        const i = pick(nextInstances);
        const what = random();
        if (what < 0.5) {
          i.ready = !i.ready;
          described.push(`${i.name} ready=${i.ready}`);
        } else if (what < 0.8) {
          i.labels.version = i.labels.version === 'v2' ? 'v1' : 'v2';
          described.push(`${i.name} version=${i.labels.version}`);
        } else {
          nextInstances = nextInstances.filter((x) => x !== i);
          described.push(`${i.name} gone`);
        }
      }
    }
    // A removed instance comes back now and then, so pods leave and return.
    if (nextInstances.length < instances.length && random() < 0.3) {
      const back = instances.find((i) => !nextInstances.some((x) => x.name === i.name && x.namespace === i.namespace));
      if (back) {
        nextInstances.push({ ...back, labels: { ...back.labels } });
        described.push(`${back.name} back`);
      }
    }
    history.push(`step ${step}: ${described.join(', ')}`);
    const next = state(nextResources, nextInstances);
    const change = describeChange(current.snapshot, next.snapshot, current.resources, next.resources);
    for (const node of nodes) {
      const full = versionOf(next.snapshot, node);
      if (proxyAffected(change, node)) {
        kept.set(node.id, full);
        recompiled++;
      } else {
        skipped++;
        assert.equal(kept.get(node.id), full, `proxy ${node.id} kept a stale config after:\n${history.slice(-5).join('\n')}`);
      }
    }
    current = next;
  }
  // The net is only worth something if it also scopes: most proxies skip most changes here.
  assert.ok(skipped > recompiled / 2, `skipped ${skipped}, recompiled ${recompiled}`);
});

test('a VirtualService exported to its own namespace recompiles only that namespace', () => {
  const { resources, instances, nodes } = basePlatform();
  const base = state(resources, instances);
  const [vs] = load([{ file: 'vs.yaml', text: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: svc-a, namespace: team-a}\nspec:\n  hosts: [svc-a]\n  exportTo: ["."]\n  http:\n  - route:\n    - destination: {host: svc-a}\n    timeout: 2s\n' }]);
  const affected = affectedIds(base, withResources(base, [vs as AnyResource]), nodes);
  assert.deepEqual(affected, nodes.filter((n) => n.namespace === 'team-a').map((n) => n.id).sort());
});

test('a pod going unready recompiles who sees its service and the pod itself, not namespaces scoped away', () => {
  const { resources, instances, nodes } = basePlatform();
  const base = state(resources, instances);
  const flipped = instances.map((i) => (i.name === 'svc-a-0' ? { ...i, ready: false } : i));
  const affected = affectedIds(base, state(resources, flipped), nodes);
  assert.ok(affected.includes('svc-a-0.team-a'), 'its own proxy');
  assert.ok(affected.includes('productpage-v1-0.default'), 'a sidecar that sees svc-a');
  assert.ok(affected.includes('istio-ingressgateway-0.istio-system'), 'gateways see every exported service');
  assert.ok(!affected.some((id) => id.endsWith('.team-b')), `team-b's Sidecar does not admit team-a: ${affected.join(', ')}`);
});

test('a Gateway recompiles the gateway pods it selects, no sidecar', () => {
  const { resources, instances, nodes } = basePlatform();
  const base = state(resources, instances);
  const [gw] = load([{ file: 'gw.yaml', text: 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: team-a}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 8081, name: http, protocol: HTTP}\n    hosts: ["a.example.com"]\n' }]);
  assert.deepEqual(affectedIds(base, withResources(base, [gw as AnyResource]), nodes), ['istio-ingressgateway-0.istio-system']);
});

test('a policy with a selector recompiles the workloads it selects; in the root namespace without one, every proxy', () => {
  const { resources, instances, nodes } = basePlatform();
  const base = state(resources, instances);
  const [deny, strict] = load([{ file: 'p.yaml', text: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: r, namespace: default}\nspec:\n  selector: {matchLabels: {app: ratings}}\n  action: DENY\n  rules: [{}]\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec:\n  mtls: {mode: STRICT}\n' }]);
  assert.deepEqual(affectedIds(base, withResources(base, [deny as AnyResource]), nodes), nodes.filter((n) => n.labels.app === 'ratings').map((n) => n.id).sort());
  assert.deepEqual(affectedIds(base, withResources(base, [strict as AnyResource]), nodes), nodes.map((n) => n.id).sort());
});

test('an unchanged reload (every resource re-read) affects no proxy; a meshConfig change affects all', () => {
  const { resources, instances, nodes } = basePlatform();
  const base = state(resources, instances);
  const reread = basePlatform();
  const again = state(reread.resources, reread.instances);
  assert.ok(isEmptyChange(describeChange(base.snapshot, again.snapshot, base.resources, again.resources)));
  assert.deepEqual(affectedIds(base, again, nodes), []);
  const [operator] = load([{ file: 'iop.yaml', text: 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x, namespace: istio-system}\nspec:\n  meshConfig:\n    accessLogFile: /dev/stdout\n' }]);
  assert.deepEqual(affectedIds(base, withResources(base, [operator as AnyResource]), nodes), nodes.map((n) => n.id).sort());
});

test('a service no proxy here can see still recompiles those whose VirtualService host it now names', () => {
  const { resources, instances, nodes } = basePlatform();
  const [vs, hidden] = load([{ file: 'ghost.yaml', text: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ghost, namespace: team-a}\nspec:\n  hosts: [ghost.example.com]\n  http:\n  - route: [{destination: {host: svc-a}}]\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ghost-hidden, namespace: team-b}\nspec:\n  hosts: [ghost.example.com]\n  exportTo: ["."]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n' }]);
  const base = withResources(state(resources, instances), [vs as AnyResource]);
  const next = withResources(base, [hidden as AnyResource]);
  const productpage = nodes.find((n) => n.id === 'productpage-v1-0.default') as ProxyNode;
  // sidecar-routes.ts gives a VirtualService host its own virtual host only while no service has that name.
  assert.notEqual(versionOf(base.snapshot, productpage), versionOf(next.snapshot, productpage));
  assert.ok(affectedIds(base, next, nodes).includes(productpage.id));
});

test('a namespace PeerAuthentication recompiles the clients of its services too (auto mTLS)', () => {
  const { resources, instances, nodes } = basePlatform();
  const base = state(resources, instances);
  const [disable] = load([{ file: 'pa.yaml', text: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: team-a}\nspec:\n  mtls: {mode: DISABLE}\n' }]);
  const next = withResources(base, [disable as AnyResource]);
  const productpage = nodes.find((n) => n.id === 'productpage-v1-0.default') as ProxyNode;
  assert.notEqual(versionOf(base.snapshot, productpage), versionOf(next.snapshot, productpage), 'productpage calls svc-a without mTLS now');
  const affected = affectedIds(base, next, nodes);
  assert.ok(affected.includes(productpage.id));
  assert.ok(!affected.some((id) => id.endsWith('.team-b')), `team-b does not see team-a: ${affected.join(', ')}`);
});

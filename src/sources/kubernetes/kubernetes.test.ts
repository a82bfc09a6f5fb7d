/** The Kubernetes source against a fake API server over real HTTPS: list, watch, batching, 410, drops, version fallback. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceEvent } from '../source.js';
import { formatDiagnostic } from '../../lib/diagnostic.js';
import { FakeApiServer, type FakeApiServerOptions } from './fake-api-server.js';
import { KubernetesSource, type KubernetesSourceOptions } from './kubernetes.js';
import type { Connection } from './connection.js';

const TOKEN = 'test-token-123';

const virtualService = (name: string, subset: string, apiVersion = 'networking.istio.io/v1') => ({
  apiVersion, kind: 'VirtualService',
  metadata: { name, namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset } }] }] },
  status: { observedGeneration: 1, conditions: [{ type: 'Reconciled', status: 'True' }] },
});

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'default' }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }], clusterIP: '10.96.0.12', clusterIPs: ['10.96.0.12'], someFutureField: true } };

const pod = (name: string, ip: string) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'reviews', version: 'v1' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'reviews-v1-5d9f8b7c6d', controller: true }] },
  spec: { serviceAccountName: 'bookinfo-reviews', containers: [{ name: 'reviews', image: 'reviews:1', ports: [{ containerPort: 9080 }], resizePolicy: [], volumeMounts: [{ name: 'x', mountPath: '/x' }] }], volumes: [{ name: 'x', emptyDir: {} }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }], containerStatuses: [{ name: 'reviews', ready: true, restartCount: 0, allocatedResources: {} }], nominatedNodeName: 'n' },
});

const meshConfigMap = (mesh: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh } });

/** A fake API server seeded with `seed` and a started source watching it; `sourceOptions` override the source's (fast) defaults. */
async function setup(t: TestContext, options: Partial<FakeApiServerOptions> = {}, seed: Record<string, unknown>[] = [], sourceOptions: Partial<KubernetesSourceOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'weft-kube-'));
  const api = new FakeApiServer(dir, { token: TOKEN, ...options });
  for (const o of seed) api.put(o);
  const server = await api.listen();
  const connection: Connection = { server, ca: api.ca, insecureSkipTlsVerify: false, namespace: 'default', describe: 'test', credentials: () => Promise.resolve({ token: TOKEN }), invalidate: () => {} };
  const source = new KubernetesSource({ connection, debounceMs: 20, backoff: { initialMs: 20, maxMs: 100 }, ...sourceOptions });
  const events: SourceEvent[] = [];
  t.after(async () => {
    source.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await source.start((e) => events.push(e));
  return { api, source, events };
}

/** Waits until an accepted event satisfies `check`; returns it. */
async function accepted(events: SourceEvent[], check: (names: string[]) => boolean, what: string): Promise<Extract<SourceEvent, { type: 'accepted' }>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = events.find((e): e is Extract<SourceEvent, { type: 'accepted' }> => e.type === 'accepted' && check(names(e)));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no accepted set where ${what}; saw ${JSON.stringify(events.map((e) => (e.type === 'accepted' ? names(e) : e.errors.map(formatDiagnostic))))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function names(e: Extract<SourceEvent, { type: 'accepted' }>): string[] {
  return e.resources.map((r) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`);
}

test('the initial list is one accepted set, server-set fields trimmed, meshConfig from the istio ConfigMap', async (t) => {
  const { events, source } = await setup(t, {}, [virtualService('reviews', 'v1'), service, pod('reviews-v1-abc', '10.244.0.5'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'istio-injection': 'enabled' } }, status: { phase: 'Active' } },
    meshConfigMap('trustDomain: example.org\noutboundTrafficPolicy: {mode: REGISTRY_ONLY}\ndefaultConfig: {discoveryAddress: istiod.istio-system.svc:15012}\n')]);
  assert.equal(events.length, 1, 'one set before start() resolves');
  const [first] = events;
  assert.ok(first?.type === 'accepted');
  assert.deepEqual(names(first), ['IstioOperator/istio-system/installed-state', 'Namespace//default', 'Pod/default/reviews-v1-abc', 'Service/default/reviews', 'VirtualService/default/reviews']);
  const vs = first.resources.find((r) => r.kind === 'VirtualService');
  assert.equal(vs?.apiVersion, 'networking.istio.io/v1');
  assert.equal(vs?.metadata.managedFields, undefined);
  assert.equal(vs?.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  const op = first.resources.find((r) => r.kind === 'IstioOperator');
  assert.ok(op?.kind === 'IstioOperator');
  assert.equal(op.spec.meshConfig?.trustDomain, 'example.org');
  const p = first.resources.find((r) => r.kind === 'Pod');
  assert.deepEqual((p?.raw.status as { podIP?: string }).podIP, '10.244.0.5');
  assert.deepEqual(source.current(), first.resources);
  assert.match(source.name, /^kubernetes:https:\/\/127\.0\.0\.1:\d+$/);
});

test('watch events: a burst is one set; modify and delete change it', async (t) => {
  // One window (200 ms) is far longer than three events written at once on one stream take to arrive.
  const { api, events } = await setup(t, {}, [service], { debounceMs: 200 });
  api.put(virtualService('a', 'v1'));
  api.put(virtualService('b', 'v1'));
  api.put(virtualService('c', 'v1'));
  await accepted(events, (n) => n.includes('VirtualService/default/c'), 'the burst arrived');
  assert.equal(events.length, 2, 'the burst of three is one set');
  api.put(virtualService('a', 'v2'));
  const modified = await accepted(events, (n) => n.length === 4 && events.length === 3, 'the modification arrived').then(() => events[2]);
  assert.ok(modified?.type === 'accepted');
  const a = modified.resources.find((r) => r.kind === 'VirtualService' && r.metadata.name === 'a');
  assert.ok(a?.kind === 'VirtualService');
  assert.equal(a.spec.http?.[0]?.route?.[0]?.destination.subset, 'v2');
  api.delete('VirtualService', 'default', 'b');
  await accepted(events, (n) => !n.includes('VirtualService/default/b') && n.includes('VirtualService/default/a'), 'b is gone');
});

test('an invalid object is reported with its API path and field path and left out; the rest stay', async (t) => {
  const broken = virtualService('broken', 'v1');
  (broken.spec.http[0] as Record<string, unknown>).route = [{ destination: { host: 'reviews' }, weight: -5 }];
  const { api, events, source } = await setup(t, {}, [service, virtualService('good', 'v1'), broken]);
  assert.deepEqual(events.map((e) => e.type), ['accepted', 'rejected']);
  const first = events[0];
  assert.ok(first?.type === 'accepted');
  assert.deepEqual(names(first), ['Service/default/reviews', 'VirtualService/default/good']);
  const rejected = events[1];
  assert.ok(rejected?.type === 'rejected');
  const [error] = rejected.errors;
  assert.equal(error?.location?.file, '/apis/networking.istio.io/v1/namespaces/default/virtualservices/broken');
  assert.equal(error?.location?.path, 'spec.http[0].route[0].weight');
  assert.match(formatDiagnostic(error ?? { code: '', level: 'Error', message: '' }), /\(VirtualService default\/broken \/apis\/networking\.istio\.io\/v1\/namespaces\/default\/virtualservices\/broken\) spec\.http\[0\]\.route\[0\]\.weight: /);
  // A valid object modified into an invalid one keeps its last valid version.
  const bad = virtualService('good', 'v2');
  (bad.spec.http[0] as Record<string, unknown>).timeout = 'soon';
  api.put(bad);
  await new Promise((r) => setTimeout(r, 20));
  const deadline = Date.now() + 5_000;
  while (!events.slice(2).some((e) => e.type === 'rejected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const good = source.current().find((r) => r.metadata.name === 'good');
  assert.ok(good?.kind === 'VirtualService');
  assert.equal(good.spec.http?.[0]?.route?.[0]?.destination.subset, 'v1');
  assert.deepEqual(source.invalidObjects().map((o) => o.path).sort(), ['/apis/networking.istio.io/v1/namespaces/default/virtualservices/broken', '/apis/networking.istio.io/v1/namespaces/default/virtualservices/good']);
  api.delete('VirtualService', 'default', 'broken');
  await accepted(events, (n) => n.length === 2 && source.invalidObjects().length === 1, 'the broken one is deleted');
});

test('410 Gone: the collection is listed again and replaced whole', async (t) => {
  const { api, events } = await setup(t, {}, [service, virtualService('a', 'v1')]);
  const lists = () => api.requests.filter((u) => u.startsWith('/apis/networking.istio.io/v1/virtualservices?') && !u.includes('watch=1')).length;
  assert.equal(lists(), 1);
  // While the source is cut off, history is compacted: its resourceVersion is gone.
  api.dropWatches();
  api.put(virtualService('b', 'v1'));
  api.delete('VirtualService', 'default', 'a');
  api.compact();
  await accepted(events, (n) => n.includes('VirtualService/default/b') && !n.includes('VirtualService/default/a'), 'the relist replaced the set');
  assert.ok(lists() >= 2, `listed again: ${api.requests.join('\n')}`);
});

test('a dropped watch reconnects from its last resourceVersion (bookmarks advance it) without listing again', async (t) => {
  const { api, events } = await setup(t, {}, [service]);
  const waitWatches = async (n: number) => {
    while (api.watchCount() < n) await new Promise((r) => setTimeout(r, 10));
  };
  await waitWatches(14);
  // A change elsewhere moves the global version; only the bookmark tells the VirtualService watch.
  api.put({ ...service, metadata: { name: 'other', namespace: 'default' } });
  api.bookmark();
  await new Promise((r) => setTimeout(r, 50));
  api.dropWatches();
  api.put(virtualService('after-drop', 'v1'));
  await accepted(events, (n) => n.includes('VirtualService/default/after-drop'), 'the event after the drop arrived');
  const vsRequests = api.requests.filter((u) => u.startsWith('/apis/networking.istio.io/v1/virtualservices?'));
  assert.equal(vsRequests.filter((u) => !u.includes('watch=1')).length, 1, 'no relist');
  const watches = vsRequests.filter((u) => u.includes('watch=1'));
  assert.ok(watches.length >= 2);
  assert.match(watches[1] ?? '', /allowWatchBookmarks=true/);
  assert.match(watches[1] ?? '', /resourceVersion=102\b/, 'resumed from the bookmark, not the list');
});

test('a cluster without the v1 CRD versions is read in v1beta1; a group it lacks is skipped', async (t) => {
  const { events } = await setup(t, { groupVersions: { 'networking.istio.io': ['v1beta1', 'v1alpha3'], 'security.istio.io': ['v1beta1'] } }, [virtualService('reviews', 'v1', 'networking.istio.io/v1beta1')]);
  const first = await accepted(events, (n) => n.includes('VirtualService/default/reviews'), 'the VirtualService is listed');
  assert.equal(first.resources.find((r) => r.kind === 'VirtualService')?.apiVersion, 'networking.istio.io/v1beta1');
});

test('meshConfig: a revision reads istio-<revision>; an invalid mesh is reported at data.mesh and the last valid one stays', async (t) => {
  const { api, source, events } = await setup(t, {}, [
    meshConfigMap('trustDomain: default.example'),
    { ...meshConfigMap('trustDomain: canary.example'), metadata: { name: 'istio-canary', namespace: 'mesh-system' } },
  ], { namespace: 'mesh-system', revision: 'canary' });
  const operator = () => source.current().find((r) => r.kind === 'IstioOperator');
  const first = operator();
  assert.ok(first?.kind === 'IstioOperator');
  assert.deepEqual([first.metadata.name, first.spec.revision, first.spec.meshConfig?.trustDomain], ['installed-state-canary', 'canary', 'canary.example']);
  api.put({ ...meshConfigMap('trustDomain: canary.example\noutboundTrafficPolicy: {mode: SOMETIMES}'), metadata: { name: 'istio-canary', namespace: 'mesh-system' } });
  const deadline = Date.now() + 5_000;
  while (!events.some((e) => e.type === 'rejected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const rejected = events.find((e) => e.type === 'rejected');
  assert.ok(rejected?.type === 'rejected', 'the invalid mesh is reported');
  assert.equal(rejected.errors[0]?.location?.file, '/api/v1/namespaces/mesh-system/configmaps/istio-canary');
  assert.equal(rejected.errors[0]?.location?.path, 'data.mesh.outboundTrafficPolicy.mode');
  const kept = operator();
  assert.ok(kept?.kind === 'IstioOperator');
  assert.equal(kept.spec.meshConfig?.trustDomain, 'canary.example');
});

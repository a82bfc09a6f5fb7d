import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { destinationRuleHostAnalyzer } from './destination-rule-hosts.js';
import { analyzeYaml, deploymentYaml } from './test-helpers.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [destinationRuleHostAnalyzer]);
const brief = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.message.split(' ')[2] ?? ''}`);

const deployment = deploymentYaml;

const service = (name: string, ns: string, annotations: Record<string, string> = {}): string =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}, annotations: ${JSON.stringify(annotations)}}\nspec: {selector: {app: ${name}}, ports: [{name: http, port: 8000}]}\n---\n`;

/** A DestinationRule with subsets given as name -> labels, and a VirtualService routing to each subset. */
function rule(name: string, ns: string, host: string, subsets: Record<string, Record<string, string>> = {}): string {
  const list = Object.entries(subsets).map(([n, l]) => `\n  - name: ${n}\n    labels: ${JSON.stringify(l)}`).join('');
  const routes = Object.keys(subsets).map((n) => `\n  - route: [{destination: {host: "${host}", subset: ${n}}}]`).join('');
  const dr = `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  host: "${host}"${list ? `\n  subsets:${list}` : ''}\n---\n`;
  const vs = routes ? `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  hosts: ["${host}"]\n  http:${routes}\n---\n` : '';
  return dr + vs;
}

test('destination rule hosts: a host that matches no service (destinationrule-with-fake-host)', () => {
  const [d, ...rest] = run(rule('fake-host', 'default', 'fake-svc.default.svc.cluster.local'));
  assert.equal(rest.length, 0);
  assert.equal(d?.code, 'IST0174');
  assert.equal(d?.level, 'Warning');
  assert.equal(d?.message, 'The host fake-svc.default.svc.cluster.local defined in the DestinationRule does not match any services in the mesh.');
  assert.equal(d?.location?.path, 'spec.host');
  assert.equal(d?.location?.line, 7);
});

test('destination rule hosts: a subset that selects no workload (destinationrule-subsets-not-select-pods)', () => {
  const ds = run(service('httpbin', 'default') + rule('subsets-not-select-pods', 'default', 'httpbin.default.svc.cluster.local', { fake: { version: 'v3' } }));
  assert.equal(ds.length, 1);
  assert.equal(ds[0]?.code, 'IST0173');
  assert.equal(ds[0]?.level, 'Error');
  assert.equal(ds[0]?.message, 'The Subset fake defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).');
  assert.equal(ds[0]?.location?.path, 'spec.subsets[0].name');
  assert.equal(ds[0]?.location?.line, 14);
});

test('destination rule hosts: a subset is checked whether or not a VirtualService routes to it, as Istio does', () => {
  const dr = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: httpbin}\nspec:\n  host: httpbin\n  subsets: [{name: fake, labels: {version: v3}}]\n';
  assert.deepEqual(brief(run(service('httpbin', 'default') + dr)), ['IST0173 fake']);
});

test('destination rule hosts: node topology labels are not known from files (destinationrule-subsets-with-topology-labels)', () => {
  const yaml = service('httpbin', 'default') + deployment('httpbin', 'default', { app: 'httpbin', version: 'v1' }) + rule('topology', 'default', 'httpbin.default.svc.cluster.local', {
    'region-us-west': { 'topology.kubernetes.io/region': 'us-west-1' },
    'zone-us-west-1a': { 'topology.kubernetes.io/zone': 'us-west-1a' },
    'app-v1': { version: 'v1' },
    'mixed-labels': { version: 'v1', 'topology.kubernetes.io/region': 'us-west-1' },
  });
  assert.deepEqual(run(yaml), []);
});

test('destination rule hosts: an empty topology label never matches (destinationrule-empty-topology-labels)', () => {
  const yaml = service('httpbin', 'default') + deployment('httpbin', 'default', { app: 'httpbin', version: 'v1' }) + rule('empty-topology-labels', 'default', 'httpbin.default.svc.cluster.local', {
    'empty-region': { 'topology.kubernetes.io/region': '' },
    'app-v1': { version: 'v1' },
  });
  assert.deepEqual(brief(run(yaml)), ['IST0173 empty-region']);
});

test('destination rule hosts: short names resolve in the rule namespace; Service exportTo limits visibility', () => {
  assert.deepEqual(run(service('reviews', 'default') + rule('reviews', 'default', 'reviews')), []);
  assert.deepEqual(brief(run(service('reviews', 'default') + rule('reviews', 'other', 'reviews'))), ['IST0174 reviews']);
  assert.deepEqual(run(service('reviews', 'default') + rule('reviews', 'other', 'reviews.default.svc.cluster.local')), []);
  const local = service('reviews', 'default', { 'networking.istio.io/exportTo': '.' });
  assert.deepEqual(brief(run(local + rule('reviews', 'other', 'reviews.default.svc.cluster.local'))), ['IST0174 reviews.default.svc.cluster.local']);
  assert.deepEqual(run(local + rule('reviews', 'default', 'reviews.default.svc.cluster.local')), []);
});

test('destination rule hosts: ServiceEntry hosts, wildcards and exportTo', () => {
  const se = (ns: string, host: string, exportTo = '["*"]'): string =>
    `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: ${ns}}\nspec: {hosts: ["${host}"], exportTo: ${exportTo}, ports: [{number: 443, name: https, protocol: HTTPS}], resolution: NONE}\n---\n`;
  assert.deepEqual(run(se('egress', 'api.example.com') + rule('api', 'default', 'api.example.com')), []);
  assert.deepEqual(run(se('egress', '*.example.com') + rule('api', 'default', 'api.example.com')), []);
  assert.deepEqual(brief(run(se('egress', 'api.example.com', '["."]') + rule('api', 'default', 'api.example.com'))), ['IST0174 api.example.com']);
  assert.deepEqual(run(se('egress', 'api.example.com', '["default"]') + rule('api', 'default', 'api.example.com')), []);
  assert.deepEqual(brief(run(se('egress', 'api.example.com') + rule('api', 'default', '*.example.com'))), ['IST0174 *.example.com']);
});

test('destination rule hosts: a ServiceEntry selector narrows subsets; a Service selector does not', () => {
  const se = 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db, namespace: data}\nspec: {hosts: [db.internal], location: MESH_INTERNAL, resolution: STATIC, workloadSelector: {labels: {app: db}}, ports: [{number: 5432, name: tcp, protocol: TCP}]}\n---\n';
  const we = 'apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: db-vm, namespace: data}\nspec: {address: 10.0.0.5, labels: {app: db, version: v1}, locality: us-east/us-east-1a}\n---\n';
  const other = deployment('cache', 'data', { app: 'cache', version: 'v2' });
  const yaml = se + we + other + rule('db', 'data', 'db.internal', { v1: { version: 'v1' }, v2: { version: 'v2' }, east: { 'topology.kubernetes.io/zone': 'us-east-1a' }, west: { 'topology.kubernetes.io/zone': 'us-west-1a' } });
  assert.deepEqual(brief(run(yaml)), ['IST0173 v2', 'IST0173 west']);
  // Istio gives a Kubernetes Service no selector here, so any workload with the labels counts.
  assert.deepEqual(run(service('reviews', 'default') + other + rule('reviews', 'default', 'reviews', { v2: { version: 'v2' } })), []);
});

test('destination rule hosts: the gateway Services an install creates are known', () => {
  assert.deepEqual(run(rule('ingress', 'istio-system', 'istio-ingressgateway.istio-system.svc.cluster.local')), []);
});

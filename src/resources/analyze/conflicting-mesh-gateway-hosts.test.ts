import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { conflictingMeshGatewayHostsAnalyzer } from './conflicting-mesh-gateway-hosts.js';

const summary = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name} ${d.message}`);
const conflict = (names: string, host: string): string =>
  `The VirtualServices ${names} associated with mesh gateway define the same host ${host} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`;

function vs(name: string, namespace: string, hosts: string[], extra = ''): string {
  return `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  hosts: ${JSON.stringify(hosts)}${extra}
  http:
  - route: [{ destination: { host: ratings } }]
`;
}

test('two mesh VirtualServices for one host conflict, each reported once at its name (Istio: virtualServiceConflictingMeshGatewayHosts)', () => {
  const yaml = vs('productpage', 'foo', ['productpage'])
    + vs('bogus-productpage', 'foo', ['productpage'])
    + vs('reviews', 'foo', ['reviews'])
    + vs('reviews', 'bar', ['reviews.foo.svc.cluster.local'], '\n  gateways: [istio-ingressgateway]')
    + vs('ratings', 'foo', ['ratings'], '\n  gateways: [mesh]')
    + vs('ratings', 'bar', ['ratings.foo.svc.cluster.local', 'google.com'], '\n  gateways: [istio-ingressgateway, mesh]')
    + vs('ratings', 'team1', ['ratings'], '\n  gateways: [mesh]\n  exportTo: ["."]')
    + vs('ratings', 'team2', ['ratings.team1.svc.cluster.local', 'google.com'], '\n  gateways: [mesh]\n  exportTo: ["."]')
    + vs('ratings', 'team3', ['ratings'], '\n  exportTo: ["*"]')
    + vs('ratings', 'team4', ['ratings.team3.svc.cluster.local'], '\n  gateways: [istio-ingressgateway, mesh]');
  const ds = analyzeYaml(yaml, [conflictingMeshGatewayHostsAnalyzer]);
  assert.deepEqual(summary(ds), [
    `IST0109 foo/productpage ${conflict('foo/bogus-productpage,foo/productpage', '*/productpage.foo.svc.cluster.local')}`,
    `IST0109 foo/bogus-productpage ${conflict('foo/bogus-productpage,foo/productpage', '*/productpage.foo.svc.cluster.local')}`,
    `IST0109 foo/ratings ${conflict('bar/ratings,foo/ratings', '*/ratings.foo.svc.cluster.local')}`,
    `IST0109 bar/ratings ${conflict('bar/ratings,foo/ratings', '*/ratings.foo.svc.cluster.local')}`,
    `IST0109 team2/ratings ${conflict('bar/ratings,team2/ratings', 'team2/google.com')}`,
    `IST0109 team3/ratings ${conflict('team3/ratings,team4/ratings', '*/ratings.team3.svc.cluster.local')}`,
    `IST0109 team4/ratings ${conflict('team3/ratings,team4/ratings', '*/ratings.team3.svc.cluster.local')}`,
  ]);
  assert.equal(ds[0]?.level, 'Error');
  assert.equal(ds[0]?.location?.path, 'metadata.name');
  assert.equal(ds[0]?.location?.line, 5);
});

test('exportTo scopes the conflict; a scoped wildcard host meets overlapping hosts exported to all (Istio: ...WithExportTo)', () => {
  const yaml = vs('productpage', 'foo', ['*.productpage'])
    + vs('productpage', 'bar', ['*.productpage'])
    + vs('productpage-b', 'foo', ['*.productpage.b'], '\n  exportTo: [foo]')
    + vs('productpage-b', 'bar', ['*.productpage.b'], '\n  exportTo: ["."]')
    + vs('productpage-c', 'foo', ['*.productpage.c'], '\n  exportTo: [foo]')
    + vs('productpage-c', 'bar', ['*.productpage.c'], '\n  exportTo: ["*"]')
    + vs('productpage-d', 'foo', ['*.productpage.d'], '\n  exportTo: ["."]')
    + vs('productpage-d', 'bar', ['*.d'], '\n  exportTo: ["*"]');
  assert.deepEqual(summary(analyzeYaml(yaml, [conflictingMeshGatewayHostsAnalyzer])).map((s) => s.split(' The')[0]), [
    'IST0109 foo/productpage',
    'IST0109 bar/productpage',
    'IST0109 foo/productpage-c',
    'IST0109 bar/productpage-c',
    'IST0109 foo/productpage-d',
    'IST0109 bar/productpage-d',
  ]);
});

test('one VirtualService per host, or different hosts, is clean', () => {
  const yaml = vs('a', 'default', ['a', 'a.example.com']) + vs('b', 'default', ['b']) + vs('c', 'other', ['a'])
    + vs('wild', 'default', ['*.example.com']);
  assert.deepEqual(summary(analyzeYaml(yaml, [conflictingMeshGatewayHostsAnalyzer])), []);
});

/**
 * Simulation tests (Istio's pilot/pkg/simulation idea): compile for one proxy, then ask where a
 * described request goes, by listener, route and cluster, with Istio's names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedPath } from '../lib/repo.js';
import type { SourceText } from '../resources/index.js';
import { buildTestMesh, nodeOf, platformSources } from './testkit.js';
import { compileProxyConfig } from './compile.js';
import { simulate } from './simulate.js';
import type { ProxyRole } from '../proxy-config/index.js';

function sample(name: string): SourceText {
  const file = sharedPath('istio-samples', 'bookinfo-networking', name);
  return { file, text: readFileSync(file, 'utf8') };
}

function config(sources: SourceText[], role: ProxyRole, workload: string, ns: string, seedApps = false) {
  const mesh = buildTestMesh(sources, platformSources({ seedApps }));
  assert.deepEqual(mesh.errors, []);
  return compileProxyConfig(mesh.snapshot, nodeOf(mesh.registry, role, workload, ns));
}

const REVIEWS = 'reviews.default.svc.cluster.local';

test('jason goes to reviews v2, everyone else to v1 (seed 05 with destination-rule-all)', () => {
  const file = sharedPath('seed-configs', '05-reviews-request-routing.yaml');
  const c = config([sample('destination-rule-all.yaml'), { file, text: readFileSync(file, 'utf8') }], 'sidecar', 'productpage-v1', 'default');
  const jason = simulate(c, { port: 9080, host: 'reviews:9080', path: '/reviews/0', headers: { 'end-user': 'jason' } });
  assert.equal(jason.listener, '0.0.0.0_9080');
  assert.equal(jason.routeConfig, '9080');
  assert.equal(jason.virtualHost, `${REVIEWS}:9080`);
  assert.equal(jason.cluster, `outbound|9080|v2|${REVIEWS}`);
  const other = simulate(c, { port: 9080, host: 'reviews', path: '/reviews/0' });
  assert.equal(other.cluster, `outbound|9080|v1|${REVIEWS}`);
});

test('a subset no DestinationRule defines answers 503 NC instead of vanishing', () => {
  const c = config([sample('virtual-service-reviews-test-v2.yaml')], 'sidecar', 'productpage-v1', 'default');
  const r = simulate(c, { port: 9080, host: 'reviews.default.svc.cluster.local', path: '/' });
  assert.equal(r.outcome, 'cluster-not-found');
  assert.equal(r.status, 503);
  assert.equal(r.cluster, `outbound|9080|v1|${REVIEWS}`);
});

test('an unknown host goes to PassthroughCluster under ALLOW_ANY', () => {
  const c = config([], 'sidecar', 'productpage-v1', 'default');
  const r = simulate(c, { port: 9080, host: 'unknown.example.com', path: '/' });
  assert.equal(r.virtualHost, 'allow_any');
  assert.equal(r.cluster, 'PassthroughCluster');
});

test('REGISTRY_ONLY: unknown HTTP hosts get block_all 502, unknown TCP goes to BlackHoleCluster', () => {
  const sidecar: SourceText = { file: 'sidecar.yaml', text: 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default}\nspec:\n  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n' };
  const c = config([sidecar], 'sidecar', 'productpage-v1', 'default');
  const http = simulate(c, { port: 9080, host: 'unknown.example.com', path: '/' });
  assert.equal(http.virtualHost, 'block_all');
  assert.equal(http.status, 502);
  const tcp = simulate(c, { port: 5432, address: '192.0.2.1' });
  assert.equal(tcp.listener, 'virtualOutbound');
  assert.equal(tcp.cluster, 'BlackHoleCluster');
});

test('the ingress gateway routes bookinfo paths to productpage and 404s the rest', () => {
  const c = config([sample('bookinfo-gateway.yaml')], 'ingress-gateway', 'istio-ingressgateway', 'istio-system');
  const page = simulate(c, { port: 80, host: 'bookinfo.example.com', path: '/productpage' });
  assert.equal(page.routeConfig, 'http.80');
  assert.equal(page.virtualHost, '*:80');
  assert.equal(page.cluster, 'outbound|9080||productpage.default.svc.cluster.local');
  assert.equal(simulate(c, { port: 80, host: 'x', path: '/api/v1/products/1' }).cluster, 'outbound|9080||productpage.default.svc.cluster.local');
  const miss = simulate(c, { port: 80, host: 'x', path: '/admin' });
  assert.equal(miss.outcome, 'no-route');
  assert.equal(miss.status, 404);
});

test('fault abort for jason keeps the route; jason and others both reach ratings v1', () => {
  const file = sharedPath('seed-configs', '08-ratings-fault-abort.yaml');
  const c = config([sample('destination-rule-all.yaml'), { file, text: readFileSync(file, 'utf8') }], 'sidecar', 'reviews-v2', 'default');
  const r = simulate(c, { port: 9080, host: 'ratings:9080', path: '/ratings/0', headers: { 'end-user': 'jason' } });
  assert.equal(r.cluster, 'outbound|9080|v1|ratings.default.svc.cluster.local');
  const route = c.routes.find((x) => x.name === '9080')?.virtualHosts.find((v) => v.name.startsWith('ratings'))?.routes[0];
  assert.deepEqual(route?.fault, { abort: { httpStatus: 500, percent: 100 } });
});

test('claim routing: groups=application-users reaches /v1/, other tokens find no route', () => {
  const file = sharedPath('seed-configs', '10-virtualservice-claims.yaml');
  const c = config([{ file, text: readFileSync(file, 'utf8') }], 'sidecar', 'productpage-v1', 'default', true);
  const ok = simulate(c, { port: 80, host: 'application.application', path: '/v1/x', claims: { groups: ['application-users'] } });
  assert.equal(ok.cluster, 'outbound|80||application.application.svc.cluster.local');
  const denied = simulate(c, { port: 80, host: 'application.application', path: '/v1/x', claims: { groups: ['others'] } });
  assert.equal(denied.outcome, 'no-route');
});

test('weights: 80/20 between v1 and v2', () => {
  const c = config([sample('destination-rule-all.yaml'), sample('virtual-service-reviews-80-20.yaml')], 'sidecar', 'productpage-v1', 'default');
  const r = simulate(c, { port: 9080, host: 'reviews', path: '/' });
  assert.deepEqual(r.clusters?.map((w) => [w.cluster, w.weight]), [[`outbound|9080|v1|${REVIEWS}`, 80], [`outbound|9080|v2|${REVIEWS}`, 20]]);
});

test('compiling twice gives the same config and version', () => {
  const mesh = buildTestMesh([sample('destination-rule-all.yaml'), sample('virtual-service-all-v1.yaml')]);
  const node = nodeOf(mesh.registry, 'sidecar', 'productpage-v1', 'default');
  const a = compileProxyConfig(mesh.snapshot, node);
  const b = compileProxyConfig(mesh.snapshot, node);
  assert.deepEqual(a, b);
  assert.match(a.version, /^[0-9a-f]{16}$/);
  const other = compileProxyConfig(buildTestMesh([sample('destination-rule-all.yaml')]).snapshot, node);
  assert.notEqual(other.version, a.version);
});

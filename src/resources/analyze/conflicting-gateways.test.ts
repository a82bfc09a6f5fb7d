import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { conflictingGatewayAnalyzer } from './conflicting-gateways.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [conflictingGatewayAnalyzer]);
const where = (d: Diagnostic): string => `${d.code} ${d.level} ${d.origin?.name} ${d.location?.path} line ${d.location?.line}`;

interface ServerSpec { port: number; hosts: string[]; bind?: string }

function gateway(name: string, selector: Record<string, string>, servers: ServerSpec[], namespace = 'default'): string {
  const labels = Object.entries(selector).map(([k, v]) => `    ${k}: ${v}\n`).join('');
  const body = servers.map((s, i) => `  - port: {number: ${s.port}, name: p${s.port}-${i}, protocol: HTTP}\n` +
    `    hosts: [${s.hosts.map((h) => JSON.stringify(h)).join(', ')}]\n${s.bind ? `    bind: ${s.bind}\n` : ''}`).join('');
  return `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  selector:\n${labels}  servers:\n${body}`;
}

const INGRESS = { istio: 'ingressgateway' };

test('two Gateways on the same selector, port and host conflict, each naming the other (conflicting-gateways)', () => {
  const diags = run(`${gateway('beta', INGRESS, [{ port: 80, hosts: ['foo.bar'] }])}---\n${gateway('alpha', INGRESS, [{ port: 80, hosts: ['foo.bar'] }])}`);
  assert.deepEqual(diags.map(where), ['IST0145 Error beta spec.servers[0] line 10', 'IST0145 Error alpha spec.servers[0] line 22']);
  assert.equal(diags[0]?.message, 'Conflict with gateways default/alpha (workload selector istio=ingressgateway, port 80, hosts foo.bar).');
  assert.equal(diags[1]?.message, 'Conflict with gateways default/beta (workload selector istio=ingressgateway, port 80, hosts foo.bar).');
});

test('the same hosts on different ports do not conflict (gateway-different-port)', () => {
  assert.deepEqual(run(`${gateway('beta', INGRESS, [{ port: 443, hosts: ['foo.bar'] }])}---\n${gateway('alpha', INGRESS, [{ port: 80, hosts: ['foo.bar'] }])}`), []);
});

test('only the servers on the shared port are reported (conflicting-gateways-multiple-ports)', () => {
  const yaml = `${gateway('beta', INGRESS, [{ port: 80, hosts: ['foo.bar'] }, { port: 90, hosts: ['foo.bar'] }])}---\n` +
    gateway('alpha', INGRESS, [{ port: 70, hosts: ['foo.bar'] }, { port: 90, hosts: ['foo.bar'] }]);
  assert.deepEqual(run(yaml).map((d) => `${d.origin?.name} ${d.location?.path}`), ['beta spec.servers[1]', 'alpha spec.servers[1]']);
});

const SUB = { istio: 'ingressgateway', cusKey: 'cusValue' };
const FULL = { istio: 'ingressgateway', app: 'istio-ingressgateway', cusKey: 'cusValue' };
const pods = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: my-ingressgateway\n  namespace: istio-system\nspec:\n  selector:\n    matchLabels: {cusKey: cusValue}\n' +
  '  template:\n    metadata:\n      labels: {istio: ingressgateway, app: istio-ingressgateway, cusKey: cusValue}\n    spec:\n      containers:\n      - name: istio-proxy\n        image: proxy\n';

test('a sub-selector conflicts when some gateway pod matches both selectors (conflicting-gateways-subSelector)', () => {
  const yaml = `${gateway('beta', FULL, [{ port: 80, hosts: ['foo.bar'] }])}---\n${gateway('alpha', SUB, [{ port: 80, hosts: ['foo.bar'] }])}`;
  const diags = run(`${yaml}---\n${pods}`);
  assert.deepEqual(diags.map((d) => d.origin?.name), ['beta', 'alpha']);
  assert.equal(diags[0]?.message, 'Conflict with gateways default/alpha (workload selector app=istio-ingressgateway,cusKey=cusValue,istio=ingressgateway, port 80, hosts foo.bar).');
  // Without a pod carrying all the labels the two selectors pick different pods.
  assert.deepEqual(run(yaml), []);
});

test('different hosts, a different bind, or a wildcard next to a name are not duplicates (CheckDuplicates compares strings)', () => {
  assert.deepEqual(run(`${gateway('a', INGRESS, [{ port: 80, hosts: ['foo.bar'] }])}---\n${gateway('b', INGRESS, [{ port: 80, hosts: ['bar.bar'] }])}`), []);
  assert.deepEqual(run(`${gateway('a', INGRESS, [{ port: 80, hosts: ['foo.bar'], bind: '10.0.0.1' }])}---\n${gateway('b', INGRESS, [{ port: 80, hosts: ['foo.bar'] }])}`), []);
  assert.deepEqual(run(`${gateway('a', INGRESS, [{ port: 80, hosts: ['*'] }])}---\n${gateway('b', INGRESS, [{ port: 80, hosts: ['foo.bar'] }])}`), []);
  const sameBind = run(`${gateway('a', INGRESS, [{ port: 80, hosts: ['foo.bar'], bind: '10.0.0.1' }])}---\n${gateway('b', INGRESS, [{ port: 80, hosts: ['x.example', 'foo.bar'], bind: '10.0.0.1' }])}`);
  assert.deepEqual(sameBind.map((d) => d.message.replace(/ \(.*$/, '')), ['Conflict with gateways default/b', 'Conflict with gateways default/a']);
  assert.match(sameBind[1]?.message ?? '', /hosts x\.example,foo\.bar\)\.$/);
});

test('different selectors do not conflict; every conflicting Gateway is named, across namespaces, sorted', () => {
  assert.deepEqual(run(`${gateway('a', INGRESS, [{ port: 80, hosts: ['foo.bar'] }])}---\n${gateway('b', { istio: 'egressgateway' }, [{ port: 80, hosts: ['foo.bar'] }])}`), []);
  const yaml = [
    gateway('main', INGRESS, [{ port: 80, hosts: ['foo.bar'] }], 'web'),
    gateway('zeta', INGRESS, [{ port: 80, hosts: ['foo.bar'] }], 'apps'),
    gateway('beta', INGRESS, [{ port: 80, hosts: ['foo.bar'] }], 'apps'),
  ].join('---\n');
  const main = run(yaml).find((d) => d.origin?.name === 'main');
  assert.equal(main?.message, 'Conflict with gateways apps/beta,apps/zeta (workload selector istio=ingressgateway, port 80, hosts foo.bar).');
});

test('a Gateway never conflicts with itself, even with two servers sharing a host and port', () => {
  assert.deepEqual(run(gateway('solo', INGRESS, [{ port: 80, hosts: ['foo.bar'] }, { port: 80, hosts: ['foo.bar'] }])), []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedPath } from '../../lib/repo.js';
import { loadResources, type LoadResult } from '../load.js';
import { ipProblem, pathTemplateProblem } from './authorization-policy.js';

function load(spec: string): LoadResult {
  return loadResources([{ file: 'ap.yaml', text: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ap
  namespace: foo
spec:
${spec}` }]);
}

function problems(r: LoadResult): string[] {
  return r.diagnostics.map((d) => `${d.location?.line} ${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

test("the seed's DENY policy loads, with Istio's warning that HTTP-only DENY rules deny TCP", () => {
  const file = sharedPath('seed-configs', '11-authorization-deny-path.yaml');
  const r = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
  assert.equal(r.ok, true);
  assert.deepEqual(r.diagnostics.map((d) => `${d.code} ${d.location?.path}`), ['IST0133 spec.rules[0]']);
  const [ap] = r.resources;
  assert.ok(ap?.kind === 'AuthorizationPolicy');
  assert.equal(ap.spec.action, 'DENY');
  assert.deepEqual(ap.spec.rules?.[0]?.to?.[0]?.operation?.paths, ['/v1/services/elasticsearch/clear*']);
});

test('action defaults to ALLOW; `spec: {}` (allow nothing) and `rules: [{}]` (allow all) load', () => {
  const nothing = loadResources([{ file: 'ap.yaml', text: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow-nothing, namespace: foo}\nspec: {}\n' }]);
  assert.deepEqual(problems(nothing), []);
  assert.deepEqual(nothing.resources[0]?.spec, { action: 'ALLOW' });
  const all = load('  rules:\n    - {}\n');
  assert.deepEqual(problems(all), []);
});

test('every source, operation and condition field loads', () => {
  const r = load(`  selector: {matchLabels: {app: web}}
  action: ALLOW
  rules:
    - from:
        - source:
            principals: ["cluster.local/ns/default/sa/sleep", "*/ns/prod/*"]
            notPrincipals: ["*"]
            requestPrincipals: ["issuer/subject"]
            notRequestPrincipals: ["bad/*"]
            ipBlocks: ["10.0.0.0/8", "2001:db8::/32", "192.168.1.1"]
            notIpBlocks: ["10.1.0.0/16"]
            remoteIpBlocks: ["1.2.3.4"]
            notRemoteIpBlocks: ["5.6.7.0/24"]
            trustDomains: ["cluster.local", "*.example.com"]
            notTrustDomains: ["bad.local"]
        - source:
            serviceAccounts: ["prod/sleep", "curl"]
            notServiceAccounts: ["prod/bad"]
      to:
        - operation:
            hosts: ["example.com", "example.com:*"]
            notHosts: ["*.internal"]
            ports: ["8080"]
            notPorts: ["9090"]
            methods: ["GET", "POST"]
            notMethods: ["DELETE"]
            paths: ["/api/*", "/items/{*}/detail", "/files/{**}"]
            notPaths: ["/admin*"]
      when:
        - key: request.auth.claims[groups]
          values: ["admins"]
        - key: request.headers[x-version]
          notValues: ["v0"]
        - key: source.ip
          values: ["10.0.0.0/8"]
        - key: destination.port
          values: ["8080"]
        - key: experimental.envoy.filters.network.mysql_proxy[db.table]
          values: ["[update]"]
`);
  assert.deepEqual(problems(r), []);
});

test('CUSTOM needs rules and a provider name, and cannot use identity fields', () => {
  assert.deepEqual(problems(load('  action: CUSTOM\n  provider: {name: ext}\n')), [
    '7 Error spec.action: CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request',
  ]);
  assert.deepEqual(problems(load(`  action: CUSTOM
  provider: {name: ext}
  rules:
    - from: [{source: {namespaces: [foo]}}]
      when: [{key: request.auth.principal, values: [x]}]
`)), [
    '10 Error spec.rules[0].from[0].source.namespaces: namespaces is currently not supported with CUSTOM action',
    '11 Error spec.rules[0].when[0].key: request.auth.principal is currently not supported with CUSTOM action',
  ]);
});

test('condition values are checked by attribute', () => {
  assert.deepEqual(problems(load(`  rules:
    - when:
        - key: source.ip
          values: ["10.0.0.1/40"]
        - key: destination.port
          notValues: ["99999"]
        - key: destination.namespace
          values: [foo]
`)), [
    '10 Error spec.rules[0].when[0].values[0]: invalid `value` for `key` source.ip: bad CIDR range (10.0.0.1/40): bad bits after slash: "40"',
    '12 Error spec.rules[0].when[1].notValues[0]: invalid `notValue` for `key` destination.port: bad port (99999): must be a number in 0..65535',
    '13 Error spec.rules[0].when[2].key: attribute destination.namespace is replaced by the metadata.namespace',
  ]);
});

test('a wildcard in the middle of a value is literal: a warning', () => {
  assert.deepEqual(problems(load('  rules:\n    - from: [{source: {principals: ["cluster.local/ns/*/sa/web"]}}]\n')), [
    '8 Warning spec.rules[0].from[0].source.principals[0]: "*" is a wildcard only at the start or end of a value; in "cluster.local/ns/*/sa/web" the inner "*" matches a literal "*"',
  ]);
});

test('empty values, empty from/to lists and missing source/operation', () => {
  assert.deepEqual(problems(load('  rules:\n    - from: []\n      to: [{}]\n      when: [{key: source.namespace, values: [""]}]\n')), [
    '8 Warning spec.rules[0].from: an empty `from` list is the same as no `from`: the rule matches requests from any source',
    '9 Error spec.rules[0].to[0]: `to.operation` must not be nil',
    '10 Error spec.rules[0].when[0].values[0]: invalid `value` for `key` source.namespace: empty value not allowed, found in source.namespace',
  ]);
});

test('ipProblem follows Go netip', () => {
  assert.equal(ipProblem('10.0.0.1'), undefined);
  assert.equal(ipProblem('::1'), undefined);
  assert.equal(ipProblem('10.0.0.0/8'), undefined);
  assert.equal(ipProblem('2001:db8::/129'), 'bad CIDR range (2001:db8::/129): bad bits after slash: "129"');
  assert.equal(ipProblem('010.0.0.1'), 'bad IP address (010.0.0.1)');
  assert.equal(ipProblem('fe80::1%eth0/64'), 'bad CIDR range (fe80::1%eth0/64): "fe80::1%eth0" is not an IP address');
});

test('pathTemplateProblem follows CheckValidPathTemplate', () => {
  assert.equal(pathTemplateProblem('/foo/{*}/bar/{**}', 'paths'), undefined);
  assert.equal(pathTemplateProblem('/foo/*/bar', 'paths'), undefined);
  assert.match(pathTemplateProblem('/foo/{**}/{*}', 'paths') ?? '', /\{\*\*\} is not the last operator/);
  assert.match(pathTemplateProblem('/foo/{*}/b*r', 'paths') ?? '', /Contains segment b\*r with invalid string literal/);
  assert.match(pathTemplateProblem('/foo/{id}', 'paths') ?? '', /Contains '\{' or '\}' beyond a supported path template/);
});

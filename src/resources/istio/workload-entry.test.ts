import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../load.js';
import type { ResourceOf } from '../kinds.js';

function load(body: string) {
  const text = `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm-1\n  namespace: shop\nspec:\n${body}`;
  return loadResources([{ file: 'we.yaml', text }]);
}

function problems(body: string): string[] {
  return load(body).diagnostics.map((d) => `${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

function spec(body: string): ResourceOf<'WorkloadEntry'>['spec'] {
  const result = load(body);
  assert.deepEqual(result.diagnostics, []);
  const r = result.resources[0];
  assert.ok(r && r.kind === 'WorkloadEntry');
  return r.spec;
}

test('every field of a WorkloadEntry loads', () => {
  const s = spec(`  address: 2001:db8::7
  ports:
    http: 8080
    grpc-api: 9090
  labels:
    app: details
    version: v1
  network: vm-network
  locality: us-east1/zone-b/rack-3
  weight: 10
  serviceAccount: details-legacy
`);
  assert.equal(s.address, '2001:db8::7');
  assert.deepEqual(s.ports, { http: 8080, 'grpc-api': 9090 });
  assert.equal(s.weight, 10);
  assert.equal(s.serviceAccount, 'details-legacy');
});

test('a standalone WorkloadEntry may use a host name or a unix socket', () => {
  assert.equal(spec('  address: vm1.corp.example.com\n').address, 'vm1.corp.example.com');
  assert.equal(spec('  address: unix:///var/run/app.sock\n').address, 'unix:///var/run/app.sock');
  assert.equal(spec('  address: unix://@abstract\n').address, 'unix://@abstract');
});

test('Istio\'s semantic checks', () => {
  const cases: [string, string[]][] = [
    ['  labels: {app: a}\n', ['Error spec: address is required']],
    ['  network: remote\n', ['Warning spec: address is unset with network "remote"']],
    ['  address: unix://var/run/app.sock\n', ['Error spec.address: var/run/app.sock is not an absolute path to a file']],
    ['  address: unix:///var/run/\n', ['Error spec.address: /var/run/ is not an absolute path to a file']],
    ['  address: not_a_host\n', ['Error spec.address: endpoint address "not_a_host" is not a valid FQDN or an IP address']],
    ['  address: 10.0.0.1\n  ports:\n    Bad_Name: 80\n', ['Error spec.ports.Bad_Name: invalid port name: Bad_Name']],
    ['  address: 10.0.0.1\n  ports:\n    http: 0\n', ['Error spec.ports.http: port number must be in 1..65535']],
    ['  address: 10.0.0.1\n  weight: -1\n', ['Error spec.weight: value must be at least 0, got number -1']],
    ['  address: 10.0.0.1\n  labels:\n    app: "a b"\n', ['Error spec.labels.app: invalid label value "a b": must be 63 characters or less, alphanumeric, \'-\', \'_\' or \'.\'']],
    ['  address: 10.0.0.1\n  serviceaccount: x\n', ['Error spec.serviceaccount: unknown field "serviceaccount"']],
  ];
  for (const [body, expected] of cases) assert.deepEqual(problems(body), expected, body);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadResources } from '../load.js';
import { repoPath } from '../../lib/repo.js';
import type { ResourceOf } from '../kinds.js';

function load(body: string) {
  const text = `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: se\n  namespace: shop\nspec:\n${body}`;
  return loadResources([{ file: 'se.yaml', text }]);
}

function problems(body: string): string[] {
  return load(body).diagnostics.map((d) => `${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

function spec(body: string): ResourceOf<'ServiceEntry'>['spec'] {
  const result = load(body);
  assert.deepEqual(result.diagnostics, []);
  const r = result.resources[0];
  assert.ok(r && r.kind === 'ServiceEntry');
  return r.spec;
}

test('every field of a ServiceEntry loads', () => {
  const s = spec(`  hosts: [mydb.example.com]
  addresses: [192.0.2.10, 2001:db8::/64]
  ports:
  - number: 5432
    name: tcp-postgres
    protocol: TCP
    targetPort: 15432
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 10.0.0.1
    ports:
      tcp-postgres: 6432
    labels:
      role: primary
    network: net1
    locality: us-east/zone1
    weight: 3
    serviceAccount: db
  - address: unix:///var/run/db.sock
  exportTo: ["~"]
  subjectAltNames: ["spiffe://cluster.local/ns/shop/sa/db"]
`);
  assert.equal(s.location, 'MESH_INTERNAL');
  assert.equal(s.resolution, 'STATIC');
  assert.equal(s.ports?.[0]?.targetPort, 15432);
  assert.deepEqual(s.endpoints?.[0]?.ports, { 'tcp-postgres': 6432 });
  assert.equal(s.endpoints?.[0]?.weight, 3);
});

test('location and resolution default to Istio\'s zero values', () => {
  const s = spec('  hosts: [api.example.com]\n  ports:\n  - number: 443\n    name: tls\n    protocol: TLS\n');
  assert.equal(s.location, 'MESH_EXTERNAL');
  assert.equal(s.resolution, 'NONE');
});

test('the bookinfo egress ServiceEntry loads (protocol names are case-insensitive)', () => {
  const file = repoPath('..', 'shared', 'istio-samples', 'bookinfo-networking', 'egress-rule-google-apis.yaml');
  const result = loadResources([{ file: 'egress-rule-google-apis.yaml', text: readFileSync(file, 'utf8') }]);
  assert.deepEqual(result.diagnostics.filter((d) => d.origin?.kind === 'ServiceEntry'), []);
  assert.equal(result.resources.filter((r) => r.kind === 'ServiceEntry').length, 1);
});

test('a workload selector (networking/v1alpha3 shape: labels) can replace endpoints', () => {
  const s = spec('  hosts: [vm.example.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  resolution: STATIC\n  workloadSelector:\n    labels:\n      app: vm\n');
  assert.deepEqual(s.workloadSelector?.labels, { app: 'vm' });
});

test('Istio\'s semantic checks', () => {
  const http = '  ports:\n  - {number: 80, name: http, protocol: HTTP}\n';
  const cases: [string, string[]][] = [
    ['  hosts: []\n', ['Error spec.hosts: service entry must have at least one host']],
    ['  hosts: ["*"]\n', ['Error spec.hosts[0]: invalid host *']],
    ['  hosts: ["*foo.example.com"]\n', ['Warning spec.hosts[0]: partial wildcard "*foo.example.com" not allowed']],
    ['  hosts: [a.example.com]\n  addresses: [10.0.0.300]\n', ['Error spec.addresses[0]: 10.0.0.300 is not a valid IP']],
    ['  hosts: [a.example.com]\n  addresses: [10.0.0.0/33]\n', ['Error spec.addresses[0]: 10.0.0.0/33 is not a valid CIDR block']],
    [`  hosts: [a.example.com]\n${http}  - {number: 81, name: http, protocol: HTTP}\n`, ['Error spec.ports[1].name: service entry port name "http" already defined']],
    ['  hosts: [a.example.com]\n  ports:\n  - {number: 80, name: Http_1}\n', ['Error spec.ports[0].name: invalid port name: Http_1']],
    ['  hosts: [a.example.com]\n  ports:\n  - {number: 0, name: http}\n', ['Error spec.ports[0].number: port number must be in 1..65535']],
    ['  hosts: [a.example.com]\n  ports:\n  - {number: 80}\n', ['Error spec.ports[0].name: missing required field "name"']],
    [`  hosts: [a.example.com]\n${http}  endpoints:\n  - address: 10.0.0.1\n`, ['Error spec.endpoints: no endpoints should be provided for resolution type none']],
    [`  hosts: [a.example.com]\n${http}  resolution: STATIC\n  endpoints:\n  - address: 10.0.0.1\n    ports: {grpc: 9000}\n`,
      ['Error spec.endpoints[0].ports.grpc: endpoint port 9000 is not defined by the service entry']],
    [`  hosts: [a.example.com]\n${http}  resolution: STATIC\n  endpoints:\n  - network: remote\n`, ['Warning spec.endpoints[0]: address is unset with network "remote"']],
    [`  hosts: [a.example.com]\n${http}  - {number: 81, name: http2, protocol: HTTP}\n  resolution: STATIC\n  endpoints:\n  - address: unix:///sock\n`,
      ['Error spec.endpoints[0]: exactly 1 service port required for unix endpoints']],
    [`  hosts: [a.example.com]\n${http}  resolution: DNS_ROUND_ROBIN\n  endpoints:\n  - address: a1.example.com\n  - address: a2.example.com\n`,
      ['Error spec.endpoints: there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN']],
    [`  hosts: [a.example.com]\n${http}  resolution: DNS\n  endpoints:\n  - address: bad_host\n`,
      ['Error spec.endpoints[0].address: endpoint address "bad_host" is not a valid FQDN or an IP address']],
    [`  hosts: [api.example.com]\n${http}  resolution: DYNAMIC_DNS\n`, ['Error spec.hosts[0]: host must be wildcarded for resolution mode DYNAMIC_DNS']],
    ['  hosts: ["*.example.com"]\n  ports:\n  - {number: 5432, name: tcp, protocol: TCP}\n  resolution: DYNAMIC_DNS\n',
      ['Error spec.ports[0].protocol: only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type DYNAMIC_DNS']],
    ['  hosts: [a.example.com]\n  workloadSelector:\n    labels: {app: "*"}\n', ['Error spec.workloadSelector.labels.app: wildcard is not supported in selector: "app=*"']],
    ['  hosts: [a.example.com]\n  workloadSelector: {}\n', [
      'Warning spec.workloadSelector: service entry: workload selector specified without labels, will be applied to all services in namespace',
      'Warning spec.workloadSelector: workloadSelector should not be set when resolution mode is NONE',
    ]],
    ['  hosts: [a.example.com]\n  exportTo: ["~", "*"]\n', [
      'Error spec.exportTo: cannot have both public (*) and non-public exportTo values for a resource',
      'Error spec.exportTo: cannot export service entry to no one (~) and someone',
    ]],
  ];
  for (const [body, expected] of cases) assert.deepEqual(problems(body).sort(), [...expected].sort(), body);
});

test('several hosts with HTTP or TLS ports are fine; addresses with TCP and several hosts warn under DNS', () => {
  assert.deepEqual(problems('  hosts: [a.example.com, b.example.com]\n  ports:\n  - {number: 443, name: tls, protocol: TLS}\n  resolution: DNS\n'), []);
  assert.deepEqual(problems('  hosts: [a.example.com, b.example.com]\n  addresses: [10.1.1.1]\n  ports:\n  - {number: 443, name: https, protocol: HTTPS}\n  resolution: DNS\n'),
    ['Warning spec.hosts: service entry can not have more than one host specified simultaneously with address and tcp port']);
});

test('a schema error names the line of the bad field', () => {
  const result = load('  hosts: [a.example.com]\n  location: OUTSIDE\n');
  assert.equal(result.ok, false);
  const d = result.diagnostics[0];
  assert.equal(d?.code, 'IST0106');
  assert.equal(d?.location?.path, 'spec.location');
  assert.equal(d?.location?.line, 8);
  assert.match(d?.message ?? '', /MESH_EXTERNAL, MESH_INTERNAL/);
});

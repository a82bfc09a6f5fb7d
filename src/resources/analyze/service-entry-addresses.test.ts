import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { serviceEntryAddressesAnalyzer } from './service-entry-addresses.js';
import { analyzeYaml } from './test-helpers.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [serviceEntryAddressesAnalyzer]);
const names = (ds: Diagnostic[]): string[] => ds.map((d) => d.origin?.name ?? '');

function entry(name: string, port: string, addresses = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${name}
  namespace: default
spec:
  hosts: [istio.io]
  exportTo: ["."]${addresses ? `\n  addresses: [${addresses}]` : ''}
  ports:
  - ${port}
  location: MESH_EXTERNAL
  resolution: DNS
---
`;
}

// Modelled on Istio's testdata/serviceentry-missing-addresses-protocol.yaml.
const missing = [
  entry('service-entry-test-01', '{number: 443, name: https, protocol: HTTPS}'),
  entry('service-entry-test-02', '{number: 443, name: https, protocol: HTTPS}', '10.0.0.1'),
  entry('service-entry-test-03', '{number: 443, name: https}'),
  entry('service-entry-test-04', '{number: 443, name: https, protocol: ""}'),
  entry('service-entry-test-05', '{number: 443, name: https, protocol: HTTPS}'),
  entry('service-entry-test-06', '{number: 443, name: https, protocol: TCP}', '10.0.0.1'),
  entry('service-entry-test-07', '{number: 443, name: https, protocol: TCP}'),
].join('');

const operator = (metadata: Record<string, string>): string =>
  `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: mesh, namespace: istio-system}\nspec: {meshConfig: {defaultConfig: {proxyMetadata: ${JSON.stringify(metadata)}}}}\n---\n`;

test('service entry addresses: TCP and unset protocols without addresses (serviceentry-missing-addresses-protocol)', () => {
  const ds = run(missing);
  assert.deepEqual(names(ds), ['service-entry-test-03', 'service-entry-test-04', 'service-entry-test-07']);
  const [d] = ds;
  assert.equal(d?.code, 'IST0134');
  assert.equal(d?.level, 'Warning');
  assert.equal(d?.message, 'ServiceEntry addresses are required for this protocol.');
  assert.equal(d?.location?.path, 'spec.ports[0].name');
  assert.equal(d?.location?.line, 37);
});

test('service entry addresses: DNS capture with auto allocation exempts every entry (mesh-cfg case)', () => {
  assert.deepEqual(run(operator({ ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' }) + missing), []);
  assert.deepEqual(run(operator({ ISTIO_META_DNS_CAPTURE: 'true', PILOT_ENABLE_IP_AUTOALLOCATE: 'true' }) + missing), []);
});

test('service entry addresses: DNS capture alone, or auto allocation alone, is not enough', () => {
  assert.equal(run(operator({ ISTIO_META_DNS_CAPTURE: 'true' }) + missing).length, 3);
  assert.equal(run(operator({ ISTIO_META_DNS_AUTO_ALLOCATE: 'true' }) + missing).length, 3);
});

test('service entry addresses: the protocol is compared case-insensitively (address-required-lowercase/uppercase)', () => {
  assert.deepEqual(names(run(entry('address-missing-lowercase', '{number: 22, name: tcp, protocol: tcp}'))), ['address-missing-lowercase']);
  assert.deepEqual(names(run(entry('address-missing-uppercase', '{number: 22, name: tcp, protocol: TCP}'))), ['address-missing-uppercase']);
});

test('service entry addresses: each TCP port is reported', () => {
  const yaml = 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db}\nspec: {hosts: [db.example.com], resolution: DNS, ports: [{number: 5432, name: pg, protocol: TCP}, {number: 80, name: http, protocol: HTTP}, {number: 6379, name: redis}]}\n';
  assert.deepEqual(run(yaml).map((d) => d.location?.path), ['spec.ports[0].name', 'spec.ports[2].name']);
});

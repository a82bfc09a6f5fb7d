import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { serviceEntryProtocolAnalyzer } from './service-entry-protocols.js';
import { analyzeYaml } from './test-helpers.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [serviceEntryProtocolAnalyzer]);
const brief = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name}`).sort();

function entry(name: string, ns: string, host: string, port: string, exportTo?: string): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  hosts: [${host}]
  ports: [${port}]
  resolution: DNS
  location: MESH_EXTERNAL${exportTo ? `\n  exportTo: ${exportTo}` : ''}
---
`;
}

// Modelled on Istio's testdata/serviceentry-conflicting-protocol.yaml.
const conflicting = [
  entry('se-https', 'default', 'example.com', '{name: https-13835, number: 13835, protocol: HTTPS}'),
  entry('se-http', 'default', 'example.com', '{name: http-13835, number: 13835, protocol: HTTP}'),
  entry('se-no-conflict', 'default', 'other.com', '{name: https-443, number: 443, protocol: HTTPS}'),
].join('');

test('service entry protocols: one host and port with two protocols (serviceentry-conflicting-protocol)', () => {
  const ds = run(conflicting);
  assert.deepEqual(brief(ds), ['IST0177 default/se-http', 'IST0177 default/se-https']);
  const d = ds.find((x) => x.origin?.name === 'se-http');
  assert.equal(d?.level, 'Warning');
  assert.equal(d?.message, 'Multiple ServiceEntries (default/se-http, default/se-https) define the same host "example.com" and port 13835 with conflicting protocols (HTTP, HTTPS).');
  assert.equal(d?.location?.path, 'metadata.name');
  assert.equal(d?.location?.line, 15);
});

test('service entry protocols: the same protocol is no conflict (serviceentry-no-conflict-protocol)', () => {
  const yaml = entry('se-https-only', 'default', 'example.com', '{name: https-443, number: 443, protocol: HTTPS}')
    + entry('se-https-only-2', 'default', 'example.com', '{name: https-443-2, number: 443, protocol: https}');
  assert.deepEqual(run(yaml), []);
});

test('service entry protocols: entries exported to different namespaces do not meet (serviceentry-conflicting-exportto)', () => {
  const yaml = entry('se-ns1', 'ns1', 'example.com', '{name: http-8080, number: 8080, protocol: HTTP}', '["."]')
    + entry('se-ns2', 'ns2', 'example.com', '{name: https-8080, number: 8080, protocol: HTTPS}', '["."]');
  assert.deepEqual(run(yaml), []);
});

test('service entry protocols: an entry exported to all meets one exported to a namespace', () => {
  const yaml = entry('se-ns1', 'ns1', 'example.com', '{name: http-8080, number: 8080, protocol: HTTP}', '["."]')
    + entry('se-all', 'ns2', 'example.com', '{name: tcp-8080, number: 8080, protocol: TCP}');
  const ds = run(yaml);
  assert.deepEqual(brief(ds), ['IST0177 ns1/se-ns1', 'IST0177 ns2/se-all']);
  assert.match(ds[0]?.message ?? '', /\(ns1\/se-ns1, ns2\/se-all\) define the same host "example.com" and port 8080 with conflicting protocols \(HTTP, TCP\)/);
});

test('service entry protocols: an unset protocol differs from a set one', () => {
  const yaml = entry('a', 'default', 'db.example.com', '{name: db, number: 5432}') + entry('b', 'default', 'db.example.com', '{name: tcp-db, number: 5432, protocol: TCP}');
  const ds = run(yaml);
  assert.equal(ds.length, 2);
  assert.match(ds[0]?.message ?? '', /conflicting protocols \(, TCP\)/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../load.js';

function load(text: string) {
  return loadResources([{ file: 'ns.yaml', text }]);
}

test('a namespace with injection labels and no spec loads, cluster-scoped', () => {
  const r = load(`apiVersion: v1
kind: Namespace
metadata:
  name: maildev
  namespace: ignored
  labels:
    istio-injection: enabled
`);
  assert.deepEqual(r.diagnostics, []);
  const ns = r.resources[0];
  assert.equal(ns?.kind, 'Namespace');
  assert.equal(ns?.metadata.namespace, '');
  assert.equal(ns?.metadata.labels?.['istio-injection'], 'enabled');
  assert.deepEqual(ns?.spec, {});
});

test('kubectl get -o yaml output (spec.finalizers, status) applies', () => {
  const r = load(`apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  creationTimestamp: "2024-01-01T00:00:00Z"
  resourceVersion: "42"
  uid: 0b7c3f1e-0000-4000-8000-000000000000
spec:
  finalizers:
  - kubernetes
status:
  phase: Active
`);
  assert.deepEqual(r.diagnostics, []);
  const ns = r.resources[0];
  assert.ok(ns?.kind === 'Namespace');
  assert.deepEqual(ns.spec.finalizers, ['kubernetes']);
});

test('namespace names are DNS labels: no dots', () => {
  const r = load(`apiVersion: v1
kind: Namespace
metadata:
  name: team.payments
`);
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0]?.code, 'IST0106');
  assert.equal(r.diagnostics[0]?.location?.path, 'metadata.name');
  assert.match(r.diagnostics[0]?.message ?? '', /RFC 1123 label/);
});

test('a finalizer without a domain must be a standard one', () => {
  const r = load(`apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
spec:
  finalizers:
  - kubernetes
  - cleanup
  - example.com/cleanup
`);
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0]?.location?.path, 'spec.finalizers[1]');
  assert.equal(r.diagnostics[0]?.location?.line, 8);
  assert.match(r.diagnostics[0]?.message ?? '', /neither a standard finalizer name nor is it fully qualified/);
});

test('unknown status fields are errors', () => {
  const r = load(`apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
status:
  phase: Active
  ready: true
`);
  assert.equal(r.diagnostics[0]?.location?.path, 'status.ready');
  assert.equal(r.diagnostics[0]?.message, 'Schema validation error: unknown field "ready"');
});

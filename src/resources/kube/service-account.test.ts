import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../load.js';

function load(text: string) {
  return loadResources([{ file: 'sa.yaml', text }]);
}

test('a bookinfo service account loads, in the default namespace', () => {
  const r = load(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: bookinfo-details
  labels:
    account: details
`);
  assert.deepEqual(r.diagnostics, []);
  const sa = r.resources[0];
  assert.ok(sa?.kind === 'ServiceAccount');
  assert.equal(sa.metadata.namespace, 'default');
  assert.deepEqual(sa.spec, {});
});

test('top-level fields become the typed body', () => {
  const r = load(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
  namespace: ci
automountServiceAccountToken: false
imagePullSecrets:
- name: registry-credentials
secrets:
- name: builder-token
  kind: Secret
`);
  assert.deepEqual(r.diagnostics, []);
  const sa = r.resources[0];
  assert.ok(sa?.kind === 'ServiceAccount');
  assert.equal(sa.spec.automountServiceAccountToken, false);
  assert.deepEqual(sa.spec.imagePullSecrets, [{ name: 'registry-credentials' }]);
  assert.equal(sa.spec.secrets?.[0]?.name, 'builder-token');
});

test('a spec block is an unknown field: service accounts have none', () => {
  const r = load(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
spec:
  automountServiceAccountToken: false
`);
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0]?.location?.path, 'spec');
  assert.equal(r.diagnostics[0]?.location?.line, 5);
  assert.equal(r.diagnostics[0]?.message, 'Schema validation error: unknown field "spec"');
});

test('automountServiceAccountToken must be a boolean', () => {
  const r = load(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
automountServiceAccountToken: "no"
`);
  assert.equal(r.diagnostics[0]?.location?.path, 'automountServiceAccountToken');
  assert.match(r.diagnostics[0]?.message ?? '', /expected a boolean, got string "no"/);
});

test('an image pull secret no Secret could be named is a warning, not an error', () => {
  const r = load(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
imagePullSecrets:
- name: Registry_Credentials
`);
  assert.equal(r.ok, true);
  assert.equal(r.diagnostics[0]?.level, 'Warning');
  assert.equal(r.diagnostics[0]?.location?.path, 'imagePullSecrets[0].name');
  assert.equal(r.diagnostics[0]?.location?.line, 6);
});

/** The proxy fills the mesh secrets the compiler names; material written in a config file is kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyConfig } from '../test-config.js';
import { withWorkloadSecrets } from './join.js';

const material = { certificateChain: 'CHAIN', privateKey: 'KEY', trustBundle: 'ROOTS', notAfter: 0 };

test('default and ROOTCA are filled from the workload certificate, and added where the config names neither (auto mTLS needs them)', () => {
  const named = { ...proxyConfig({ listeners: [], routes: [], clusters: [], endpoints: [] }), secrets: [{ name: 'default' }, { name: 'ROOTCA' }, { name: 'gateway-cred', certificateChain: 'G', privateKey: 'GK' }] };
  assert.deepEqual(withWorkloadSecrets(named, material).secrets, [
    { name: 'gateway-cred', certificateChain: 'G', privateKey: 'GK' },
    { name: 'default', certificateChain: 'CHAIN', privateKey: 'KEY' },
    { name: 'ROOTCA', trustedCa: 'ROOTS' },
  ]);
  assert.deepEqual(withWorkloadSecrets({ ...named, secrets: [] }, material).secrets.map((s) => s.name), ['default', 'ROOTCA']);
});

test('material already in the config (a proxy started from a file) wins; without a certificate nothing changes', () => {
  const fromFile = { ...proxyConfig({ listeners: [], routes: [], clusters: [], endpoints: [] }), secrets: [{ name: 'default', certificateChain: 'FILE', privateKey: 'FK' }, { name: 'ROOTCA', trustedCa: 'FILE-ROOTS' }] };
  assert.deepEqual(withWorkloadSecrets(fromFile, material).secrets, fromFile.secrets);
  assert.equal(withWorkloadSecrets(fromFile, undefined), fromFile);
});

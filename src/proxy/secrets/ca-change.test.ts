/** When the proxy replaces its certificate at once: the mesh CA moved on from it. Certificates made by openssl. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyConfig } from '../../proxy-config/index.js';
import { caMovedOn, controlPlaneRoots } from './ca-change.js';
import type { WorkloadMaterial } from './workload-certificate.js';

function pki(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'weft-ca-change-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const root = (name: string) => {
    // Same subject for both roots, as two self-signed mesh roots have: only the key tells them apart.
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '30',
      '-subj', '/O=cluster.local', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign');
    return readFileSync(join(dir, `${name}.pem`), 'utf8');
  };
  const leaf = (name: string, issuer: string): WorkloadMaterial => {
    openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', '/O=leaf');
    writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=URI:spiffe://cluster.local/ns/default/sa/sleep\nauthorityKeyIdentifier=keyid\n');
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}-key.pem`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', 'leaf.ext');
    return { certificateChain: readFileSync(join(dir, `${name}.pem`), 'utf8'), privateKey: readFileSync(join(dir, `${name}-key.pem`), 'utf8'), trustBundle: '', notAfter: Date.now() + 86_400_000 };
  };
  return { dir, root, leaf };
}

const withRoot = (root: { trustedCa?: string; signingCa?: string } | undefined): ProxyConfig =>
  ({ secrets: [{ name: 'default' }, ...(root ? [{ name: 'ROOTCA', ...root }] : [])] }) as unknown as ProxyConfig;

test('caMovedOn: same signer no; another signer, or a bundle without its root, yes; nothing to compare, no', (t) => {
  const { root, leaf } = pki(t);
  const oldRoot = root('old');
  const newRoot = root('new');
  const held = leaf('held', 'old');
  assert.equal(caMovedOn(withRoot({ trustedCa: oldRoot, signingCa: oldRoot }), held), undefined);
  assert.equal(caMovedOn(withRoot({ trustedCa: newRoot + oldRoot, signingCa: oldRoot }), held), undefined, 'the bundle still holds its root');
  assert.match(caMovedOn(withRoot({ trustedCa: newRoot + oldRoot, signingCa: newRoot }), held) ?? '', /the mesh CA now signs with O=cluster\.local/);
  assert.match(caMovedOn(withRoot({ trustedCa: newRoot }), held) ?? '', /no root in the trust bundle verifies/);
  assert.equal(caMovedOn(withRoot({ trustedCa: newRoot, signingCa: newRoot }), leaf('renewed', 'new')), undefined);
  assert.equal(caMovedOn(withRoot(undefined), held), undefined, 'a config without ROOTCA material (a file config)');
  assert.equal(caMovedOn(withRoot({ trustedCa: newRoot }), undefined), undefined, 'no certificate yet');
});

test('controlPlaneRoots: the mounted file as it is now plus the pushed bundle, without duplicates; the roots held so far when the file is unreadable', (t) => {
  const { dir, root } = pki(t);
  const a = root('a');
  const b = root('b');
  const file = join(dir, 'root-cert.pem');
  writeFileSync(file, a);
  assert.equal(controlPlaneRoots(file, withRoot({ trustedCa: a + b }), 'unused'), a + b);
  assert.equal(controlPlaneRoots(join(dir, 'missing.pem'), withRoot(undefined), b), b);
});

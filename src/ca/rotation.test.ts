/** Self-signed root rotation with a grace period, and the watched CA files (reload, refusal). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CaWatcher, loadPluggedInCa, loadSelfSignedCa, rootNeedsRotation, rotateSelfSignedRoot, type CertificateAuthority, ROOT_CERT_FILE, SELF_SIGNED_CA_FILE,
} from './index.js';
import { makeCacerts, opensslVerify } from './testing.js';

const sleep = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };
const HOUR = 3_600_000;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-ca-rotation-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function leaf(ca: CertificateAuthority, now = new Date()): string {
  const spki = createPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey).export({ type: 'spki', format: 'der' });
  return ca.issue(spki, sleep, new Date(now.getTime() - 60_000), new Date(now.getTime() + HOUR)).certificateChain;
}

const verified = (dir: string, chain: string, bundle: string) => /: OK$/.test(opensslVerify(dir, chain, bundle, 'sslclient').trim());

test('rotation: a new root signs, the old one stays in the bundle until its grace period ends, and openssl agrees at each stage', (t) => {
  const dir = tempDir(t);
  const before = loadSelfSignedCa(dir);
  const oldLeaf = leaf(before);
  const now = new Date();
  const rotated = rotateSelfSignedRoot(dir, { graceMs: 2 * HOUR, now });
  assert.equal(rotated.previous.fingerprint256, before.signingCertificate.fingerprint256);
  assert.equal(rotated.trustedUntil.getTime(), now.getTime() + 2 * HOUR);
  assert.equal(statSync(join(dir, SELF_SIGNED_CA_FILE)).mode & 0o777, 0o600);

  const during = loadSelfSignedCa(dir, 'cluster.local', new Date(now.getTime() + HOUR));
  assert.equal(during.signingCertificate.fingerprint256, rotated.current.fingerprint256);
  assert.deepEqual(during.roots.map((r) => r.fingerprint256), [rotated.current.fingerprint256, rotated.previous.fingerprint256]);
  assert.equal(readFileSync(join(dir, ROOT_CERT_FILE), 'utf8'), during.trustBundle, 'root-cert.pem holds the whole bundle');
  const newLeaf = leaf(during);
  // Both roots have the same subject (O=cluster.local): verification must pick the right one by key.
  assert.ok(verified(dir, oldLeaf, during.trustBundle), 'a certificate from the old root verifies during the grace period');
  assert.ok(verified(dir, newLeaf, during.trustBundle));
  assert.equal(verified(dir, newLeaf, before.trustBundle), false, 'the new root signs');

  const afterGrace = loadSelfSignedCa(dir, 'cluster.local', new Date(now.getTime() + 3 * HOUR));
  assert.deepEqual(afterGrace.roots.map((r) => r.fingerprint256), [rotated.current.fingerprint256]);
  assert.equal(verified(dir, oldLeaf, afterGrace.trustBundle), false, 'the old root is gone after the grace period');
  assert.ok(verified(dir, newLeaf, afterGrace.trustBundle));
});

test('a second rotation keeps the first previous root for its own grace; a grace beyond the old root\'s expiry ends at its expiry', (t) => {
  const dir = tempDir(t);
  const first = loadSelfSignedCa(dir);
  const now = new Date();
  rotateSelfSignedRoot(dir, { graceMs: 2 * HOUR, now });
  const second = rotateSelfSignedRoot(dir, { graceMs: 100 * 365 * 24 * HOUR, now });
  assert.equal(second.trustedUntil.getTime(), new Date(second.previous.validTo).getTime());
  const ca = loadSelfSignedCa(dir, 'cluster.local', new Date(now.getTime() + HOUR));
  assert.equal(ca.roots.length, 3);
  assert.ok(ca.roots.some((r) => r.fingerprint256 === first.signingCertificate.fingerprint256));
  assert.equal(loadSelfSignedCa(dir, 'cluster.local', new Date(now.getTime() + 3 * HOUR)).roots.length, 2);
});

test('rotating where there is no root yet is an error naming the file', (t) => {
  const dir = tempDir(t);
  assert.throws(() => rotateSelfSignedRoot(dir, { graceMs: HOUR }), /ca-secret\.pem: no self-signed root to rotate/);
});

test('rootNeedsRotation: less than the grace percentile of its lifetime left (Istio\'s rotator)', () => {
  const root = new X509Certificate(makeRootPem());
  const from = new Date(root.validFrom).getTime();
  const to = new Date(root.validTo).getTime();
  const life = to - from;
  assert.equal(rootNeedsRotation(root, 20, new Date(from + life * 0.79)), false);
  assert.equal(rootNeedsRotation(root, 20, new Date(from + life * 0.81)), true);
});

function makeRootPem(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-ca-rotation-'));
  try {
    return loadSelfSignedCa(dir).trustBundle;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the watcher takes a changed, consistent cacerts set, and refuses an inconsistent one (once it persists) while the CA in use keeps signing', (t) => {
  const dir = tempDir(t);
  const [live, oldCa, newCa] = ['live', 'old', 'new'].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [live, oldCa, newCa]) mkdirSync(d);
  makeCacerts(oldCa, 'Old Corp');
  makeCacerts(newCa, 'New Corp');
  const files = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'];
  for (const f of files) copyFileSync(join(oldCa, f), join(live, f));
  const watcher = new CaWatcher({ load: () => loadPluggedInCa(live) });
  const changed: CertificateAuthority[] = [];
  const refused: string[] = [];
  watcher.on('changed', (ca) => changed.push(ca));
  watcher.on('refused', (e) => refused.push(e));
  const first = watcher.current();

  watcher.check();
  assert.equal(changed.length, 0, 'nothing changed');
  // Both roots in root-cert.pem (several PEM blocks): a change of the bundle alone.
  writeFileSync(join(live, 'root-cert.pem'), readFileSync(join(oldCa, 'root-cert.pem'), 'utf8') + readFileSync(join(newCa, 'root-cert.pem'), 'utf8'));
  watcher.check();
  assert.equal(changed.length, 1);
  assert.equal(watcher.current().roots.length, 2);
  assert.equal(watcher.current().signingCertificate.fingerprint256, first.signingCertificate.fingerprint256);

  // The new intermediate with the old key: refused, naming the file, only when it is still so at the next read.
  copyFileSync(join(newCa, 'ca-cert.pem'), join(live, 'ca-cert.pem'));
  watcher.check();
  assert.deepEqual(refused, [], 'a copy in progress is not reported');
  watcher.check();
  assert.equal(refused.length, 1);
  assert.match(refused[0] ?? '', /live\/ca-key\.pem: the private key does not belong to .*live\/ca-cert\.pem/);
  watcher.check();
  assert.equal(refused.length, 1, 'reported once');
  assert.equal(watcher.current(), changed[0], 'the CA in use stays');
  assert.ok(verifiedBy(leaf(watcher.current()), oldCa), 'and keeps signing with the old intermediate');

  // The rest of the new set arrives: taken.
  for (const f of ['ca-key.pem', 'cert-chain.pem']) copyFileSync(join(newCa, f), join(live, f));
  watcher.check();
  assert.equal(changed.length, 2);
  assert.match(watcher.current().signingCertificate.subject, /O=New Corp/);
  assert.ok(verifiedBy(leaf(watcher.current()), newCa));

  // A cert-chain.pem leading elsewhere is refused too.
  copyFileSync(join(oldCa, 'cert-chain.pem'), join(live, 'cert-chain.pem'));
  watcher.check();
  watcher.check();
  assert.match(refused[1] ?? '', /cert-chain\.pem: .* is not signed by the next certificate in the chain/);

  function verifiedBy(chain: string, caDir: string): boolean {
    return /: OK$/.test(opensslVerify(dir, chain, readFileSync(join(caDir, 'root-cert.pem'), 'utf8'), 'sslclient').trim());
  }
});

test('the watcher does not throw on a missing file: it is refused like any other bad set', (t) => {
  const dir = tempDir(t);
  makeCacerts(dir);
  const watcher = new CaWatcher({ load: () => loadPluggedInCa(dir) });
  const refused: string[] = [];
  watcher.on('refused', (e) => refused.push(e));
  rmSync(join(dir, 'ca-key.pem'));
  watcher.check();
  watcher.check();
  assert.match(refused[0] ?? '', /ca-key\.pem: missing/);
});

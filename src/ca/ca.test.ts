/** The CA: self-signed root in the state directory, plugged-in cacerts, and what it signs (checked by openssl). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCsr } from '../lib/csr.js';
import { loadPluggedInCa, loadSelfSignedCa, ROOT_CERT_FILE, SELF_SIGNED_CA_FILE, SigningRefused, spiffeId } from './index.js';
import { makeCacerts, opensslVerify } from './testing.js';

const sleep = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

test('the self-signed root is created once (key file 0600) and every later load uses it', (t) => {
  const dir = tempDir(t);
  const a = loadSelfSignedCa(dir);
  assert.equal(statSync(join(dir, SELF_SIGNED_CA_FILE)).mode & 0o777, 0o600);
  const b = loadSelfSignedCa(dir);
  assert.equal(a.trustBundle, b.trustBundle);
  assert.equal(readFileSync(join(dir, ROOT_CERT_FILE), 'utf8'), a.trustBundle);
  const root = new X509Certificate(a.trustBundle);
  assert.equal(root.ca, true);
  assert.match(root.subject, /O=cluster\.local/);
  assert.ok(root.verify(root.publicKey), 'self-signed');
});

test('replicas starting together on one state directory end up with the same root', async (t) => {
  const dir = tempDir(t);
  const module = new URL('./load.js', import.meta.url).href;
  const script = `import(${JSON.stringify(module)}).then((m) => process.stdout.write(m.loadSelfSignedCa(${JSON.stringify(dir)}).trustBundle))`;
  const run = () => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
  const roots = await Promise.all([run(), run(), run(), run()]);
  assert.equal(new Set(roots).size, 1);
  assert.equal(roots[0], loadSelfSignedCa(dir).trustBundle);
});

test('a CA key file others can read is refused', (t) => {
  const dir = tempDir(t);
  loadSelfSignedCa(dir);
  chmodSync(join(dir, SELF_SIGNED_CA_FILE), 0o644);
  assert.throws(() => loadSelfSignedCa(dir), /readable by other users.*0600/);
});

test('a workload certificate: the identity the caller is entitled to, Istio\'s key usages, 24 h by default, verified by openssl', (t) => {
  const dir = tempDir(t);
  const ca = loadSelfSignedCa(dir);
  const key = newKey();
  const before = Date.now();
  const issued = ca.signCsr(buildCsr(key), sleep);
  const cert = new X509Certificate(issued.certificateChain);
  assert.equal(cert.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/sleep');
  assert.equal(cert.ca, false);
  assert.ok(cert.checkPrivateKey(key), 'the certificate carries the requester\'s own key');
  assert.deepEqual(cert.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  const lifetime = new Date(cert.validTo).getTime() - before;
  assert.ok(Math.abs(lifetime - 24 * 3600_000) < 5_000, `lifetime ${lifetime} ms`);
  assert.equal(issued.trustBundle, ca.trustBundle);
  assert.equal(opensslVerify(dir, issued.certificateChain, ca.trustBundle, 'sslclient'), 'leaf.pem: OK');
  assert.equal(opensslVerify(dir, issued.certificateChain, ca.trustBundle, 'sslserver'), 'leaf.pem: OK');
  const text = new X509Certificate(issued.certificateChain).toString();
  assert.ok(text.length > 0);
});

test('the TTL is configurable', (t) => {
  const ca = loadSelfSignedCa(tempDir(t));
  const issued = ca.signCsr(buildCsr(newKey()), sleep, 3_000);
  const validTo = new Date(new X509Certificate(issued.certificateChain).validTo).getTime();
  assert.ok(validTo - Date.now() <= 4_000 && validTo - Date.now() > 0);
});

test('a CSR naming another identity is refused; naming its own identity is fine', (t) => {
  const ca = loadSelfSignedCa(tempDir(t));
  const key = newKey();
  assert.throws(() => ca.signCsr(buildCsr(key, ['spiffe://cluster.local/ns/prod/sa/payments']), sleep),
    (err: Error) => err instanceof SigningRefused && /asks for spiffe:\/\/cluster\.local\/ns\/prod\/sa\/payments.*covers only spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep/.test(err.message));
  assert.throws(() => ca.signCsr(buildCsr(key, [spiffeId(sleep), 'spiffe://cluster.local/ns/default/sa/admin']), sleep), SigningRefused);
  const issued = ca.signCsr(buildCsr(key, [spiffeId(sleep)]), sleep);
  assert.equal(new X509Certificate(issued.certificateChain).subjectAltName, `URI:${spiffeId(sleep)}`);
});

test('a CSR whose signature does not match its key (no proof of possession), or garbage, is refused', (t) => {
  const ca = loadSelfSignedCa(tempDir(t));
  const pem = buildCsr(newKey());
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  der[der.length - 5] = (der[der.length - 5] as number) ^ 0xff;
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.throws(() => ca.signCsr(tampered, sleep), SigningRefused);
  assert.throws(() => ca.signCsr('hello', sleep), /expected one PEM "CERTIFICATE REQUEST" block/);
  assert.throws(() => ca.signCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', sleep), /malformed certificate request/);
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  assert.throws(() => ca.signCsr(buildCsr(weak), sleep), /RSA key of 1024 bits is too short/);
});

test('plugged-in cacerts: signed by the intermediate, chain = leaf + intermediate, openssl verifies it up to root-cert.pem', (t) => {
  const dir = tempDir(t);
  makeCacerts(dir);
  const ca = loadPluggedInCa(dir);
  assert.equal(ca.source, 'plugged-in');
  assert.equal(ca.trustBundle, new X509Certificate(readFileSync(join(dir, 'root-cert.pem'))).toString());
  const issued = ca.signCsr(buildCsr(newKey()), sleep);
  const blocks = issued.certificateChain.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
  assert.equal(blocks.length, 2, 'leaf and intermediate; the root travels in the trust bundle');
  assert.equal(opensslVerify(dir, issued.certificateChain, ca.trustBundle, 'sslserver'), 'leaf.pem: OK');
  // Without the intermediate the leaf does not verify: the chain is what makes it work.
  const leafOnly = issued.certificateChain.slice(0, issued.certificateChain.indexOf('-----END CERTIFICATE-----') + 26);
  assert.notEqual(opensslVerify(dir, leafOnly, ca.trustBundle, 'sslserver'), 'leaf.pem: OK');
});

test('plugged-in cacerts that do not fit together are refused with the file named', (t) => {
  const a = tempDir(t);
  const b = tempDir(t);
  makeCacerts(a, 'A');
  makeCacerts(b, 'B');
  writeFileSync(join(a, 'root-cert.pem'), readFileSync(join(b, 'root-cert.pem')));
  assert.throws(() => loadPluggedInCa(a), /ca-cert\.pem: the chain does not lead to a certificate in root-cert\.pem/);
  writeFileSync(join(a, 'ca-key.pem'), readFileSync(join(b, 'ca-key.pem')));
  assert.throws(() => loadPluggedInCa(a), /ca-key\.pem: the private key does not belong to .*ca-cert\.pem/);
  rmSync(join(b, 'ca-cert.pem'));
  assert.throws(() => loadPluggedInCa(b), /ca-cert\.pem: missing/);
});

test('a certificate never outlives the CA that signed it', (t) => {
  const ca = loadSelfSignedCa(tempDir(t));
  const issued = ca.signCsr(buildCsr(newKey()), sleep, 20 * 365 * 24 * 3600_000);
  const root = new X509Certificate(ca.trustBundle);
  assert.equal(new X509Certificate(issued.certificateChain).validTo, root.validTo);
});

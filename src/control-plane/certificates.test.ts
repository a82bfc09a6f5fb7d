/** Workload certificates over the push stream, in-process: the identity signed is the one the token covers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../sources/index.js';
import { CertificateRequestError, DiscoveryClient } from '../distribution/index.js';
import { loadSelfSignedCa } from '../ca/index.js';
import { ControlPlane } from './control-plane.js';
import { REVIEWS_SERVICE, csrFor, reviewsNode } from './testing.js';
import { loadTokenKey, mintToken } from './token.js';

const node = reviewsNode('10.244.0.9');

async function connected(t: { after: (fn: () => Promise<void>) => void }, withCa: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cp-certs-'));
  writeFileSync(join(dir, 'svc.yaml'), REVIEWS_SERVICE);
  const state = join(dir, '.state');
  const key = loadTokenKey(state);
  const ca = withCa ? loadSelfSignedCa(state) : undefined;
  const cp = new ControlPlane({ sources: [new FileSource({ paths: [dir], watch: false })], replicaId: 'istiod-test', tokenKey: key, debounceMs: 10, ...(ca ? { ca } : {}), workloadCertTtlMs: 3_600_000 });
  await cp.start();
  const port = await cp.push.listen(0, '127.0.0.1');
  const client = new DiscoveryClient({
    servers: [`http://127.0.0.1:${port}`], node, token: mintToken(key, node.id, node.serviceAccount), apply: () => ({ ok: true }), backoff: { initialMs: 5_000, maxMs: 5_000 },
  });
  t.after(async () => {
    client.stop();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await assert.rejects(client.requestCertificate('x'), CertificateRequestError, 'not connected yet');
  const ready = new Promise((resolve) => client.once('applied', resolve));
  client.start();
  await ready;
  return { cp, client, ca };
}

test('a connected proxy gets a certificate for its namespace and service account, chained to the trust bundle', async (t) => {
  const { cp, client, ca } = await connected(t, true);
  const { privateKey, csr } = csrFor();
  const issued = await client.requestCertificate(csr);
  const leaf = new X509Certificate(issued.certificateChain);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  assert.ok(leaf.checkPrivateKey(privateKey));
  assert.equal(issued.trustBundle, ca?.trustBundle);
  assert.ok(leaf.verify(new X509Certificate(issued.trustBundle).publicKey));
  const lifetime = new Date(leaf.validTo).getTime() - Date.now();
  assert.ok(lifetime > 3_500_000 && lifetime <= 3_600_000, `the configured TTL: ${lifetime} ms`);
  assert.match(cp.metrics.render(), /citadel_server_success_cert_issuance_count 1\b/);
});

test('a CSR for another identity is not signed; the proxy is told why, keeps its stream, and can still get its own', async (t) => {
  const { cp, client } = await connected(t, true);
  await assert.rejects(client.requestCertificate(csrFor(['spiffe://cluster.local/ns/istio-system/sa/istiod']).csr),
    /refused: the request asks for spiffe:\/\/cluster\.local\/ns\/istio-system\/sa\/istiod, but this proxy's credential covers only spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews/);
  assert.equal(client.connected(), true);
  const issued = await client.requestCertificate(csrFor(['spiffe://cluster.local/ns/default/sa/bookinfo-reviews']).csr);
  assert.equal(new X509Certificate(issued.certificateChain).subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  assert.match(cp.metrics.render(), /citadel_server_csr_sign_err_count 1\b/);
});

test('a control plane without a CA answers CSRs with an error', async (t) => {
  const { client } = await connected(t, false);
  await assert.rejects(client.requestCertificate(csrFor().csr), /no certificate authority/);
});

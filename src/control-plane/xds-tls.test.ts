/**
 * The push stream over TLS (istiod's 15012), in-process with real TLS: the serving certificate
 * comes from the mesh CA, proxies verify it against the root, and authenticate with their token
 * or, once they hold one, their workload certificate; bad certificates are refused at the hello.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../sources/index.js';
import { DiscoveryClient } from '../distribution/index.js';
import type { ProxyNode } from '../proxy-config/index.js';
import { loadSelfSignedCa } from '../ca/index.js';
import type { CertificateAuthority } from '../ca/index.js';
import { ControlPlane } from './control-plane.js';
import { ServingCertificate, servingNames } from './serving-certificate.js';
import { loadTokenKey, mintToken } from './token.js';
import { REVIEWS_SERVICE, csrFor, reviewsNode } from './testing.js';

const node = reviewsNode('127.0.0.1');
const SAN = 'istiod.istio-system.svc';

interface Mesh {
  dir: string;
  key: Buffer;
  ca: CertificateAuthority;
  replica(id: string, options?: { servingCertTtlMs?: number; revision?: string }): Promise<{ cp: ControlPlane; url: string }>;
  client(url: string[] | string, o?: { token?: string; root?: string; cert?: () => { cert: string; key: string } | undefined; as?: ProxyNode }): { client: DiscoveryClient; events: string[] };
}

async function mesh(t: { after: (fn: () => Promise<void>) => void }): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-xds-tls-'));
  writeFileSync(join(dir, 'svc.yaml'), REVIEWS_SERVICE);
  const state = join(dir, '.state');
  const key = loadTokenKey(state);
  const ca = loadSelfSignedCa(state);
  const planes: ControlPlane[] = [];
  const clients: DiscoveryClient[] = [];
  t.after(async () => {
    for (const c of clients) c.stop();
    await Promise.all(planes.map((cp) => cp.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir, key, ca,
    async replica(id, options = {}) {
      const cp = new ControlPlane({ sources: [new FileSource({ paths: [join(dir, 'svc.yaml')], watch: false })], replicaId: id, tokenKey: key, ca, debounceMs: 10, ...options });
      planes.push(cp);
      await cp.start();
      const port = await cp.listenSecure(0, '127.0.0.1', servingNames({ namespace: 'istio-system', ...(options.revision ? { revision: options.revision } : {}), bind: '127.0.0.1' }));
      return { cp, url: `https://127.0.0.1:${port}` };
    },
    client(url, o = {}) {
      const as = o.as ?? node;
      const client = new DiscoveryClient({
        servers: Array.isArray(url) ? url : [url], node: as, token: o.token ?? mintToken(key, as.id, as.serviceAccount), apply: () => ({ ok: true }),
        backoff: { initialMs: 50, maxMs: 200 }, tls: { ca: o.root ?? ca.trustBundle, servername: SAN }, ...(o.cert ? { clientCertificate: o.cert } : {}),
      });
      const events: string[] = [];
      client.on('connected', (r) => events.push(`connected ${r}`));
      client.on('disconnected', (reason) => events.push(`disconnected ${reason}`));
      client.on('applied', () => events.push('applied'));
      clients.push(client);
      client.start();
      return { client, events };
    },
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A workload key and certificate for `identity`, signed by `ca`, valid from..to. */
function workloadCert(ca: CertificateAuthority, identity: { namespace: string; serviceAccount: string; trustDomain?: string }, from = Date.now() - 60_000, to = Date.now() + 3_600_000): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issued = ca.issue(publicKey.export({ type: 'spki', format: 'der' }), { trustDomain: 'cluster.local', ...identity }, new Date(from), new Date(to));
  return { cert: issued.certificateChain, key: String(privateKey.export({ type: 'pkcs8', format: 'pem' })) };
}

/** The certificate a TLS client is shown on `url`. */
function servedCertificate(url: string, ca: string): Promise<X509Certificate> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), ca, servername: SAN, ALPNProtocols: ['h2'] }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      if (cert) resolve(cert);
      else reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

const authOf = (cp: ControlPlane): (string | undefined)[] => cp.proxies().map((p) => p.auth);

test('each replica serves its own certificate from the shared root, with Istio\'s names and its address', async (t) => {
  const m = await mesh(t);
  const a = await m.replica('istiod-a');
  const b = await m.replica('istiod-b', { revision: '1-20-1' });
  const certA = await servedCertificate(a.url, m.ca.trustBundle);
  const certB = await servedCertificate(b.url, m.ca.trustBundle);
  assert.equal(certA.subjectAltName, 'DNS:istiod.istio-system.svc, IP Address:127.0.0.1');
  assert.equal(certB.subjectAltName, 'DNS:istiod.istio-system.svc, DNS:istiod-1-20-1.istio-system.svc, IP Address:127.0.0.1');
  assert.notEqual(certA.serialNumber, certB.serialNumber);
  const root = new X509Certificate(m.ca.trustBundle);
  assert.ok(certA.verify(root.publicKey) && certB.verify(root.publicKey));
  assert.match(certA.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.1/, 'serverAuth');
});

test('serving names: IPv6 addresses, extra names, every local address for a wildcard bind', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-serving-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = loadSelfSignedCa(dir);
  const names = servingNames({ namespace: 'mesh', revision: 'default', bind: '::1', extra: ['10.0.0.7', 'istiod.example.com'] });
  assert.deepEqual(names, { dns: ['istiod.mesh.svc', 'istiod.example.com'], ips: ['::1', '10.0.0.7'] });
  const cert = new X509Certificate(new ServingCertificate(ca, names, 60_000).current().cert);
  assert.equal(cert.subjectAltName, 'DNS:istiod.mesh.svc, DNS:istiod.example.com, IP Address:0:0:0:0:0:0:0:1, IP Address:10.0.0.7');
  assert.ok(servingNames({ namespace: 'istio-system', bind: '0.0.0.0' }).ips.includes('127.0.0.1'));
});

test('first connection with the token alone; the proxy gets its certificate and reconnects with it', async (t) => {
  const m = await mesh(t);
  const a = await m.replica('istiod-a');
  const b = await m.replica('istiod-b');
  const held: { current?: { cert: string; key: string } } = {};
  const { client, events } = m.client([a.url, b.url], { cert: () => held.current });
  await waitFor(() => events.includes('applied'), 'the first config');
  const [first, second] = a.cp.proxies().length === 1 ? [a, b] : [b, a];
  assert.deepEqual(authOf(first.cp), ['token']);
  const { privateKey, csr } = csrFor();
  const issued = await client.requestCertificate(csr);
  held.current = { cert: issued.certificateChain, key: String(privateKey.export({ type: 'pkcs8', format: 'pem' })) };
  assert.deepEqual(authOf(first.cp), ['token'], 'the open stream is not dropped for the new certificate');

  // The replica goes away; the proxy fails over and presents its certificate.
  await first.cp.close();
  await waitFor(() => second.cp.proxies().length === 1, 'the failover');
  assert.deepEqual(authOf(second.cp), ['certificate']);
  await waitFor(() => second.cp.proxies()[0]?.state === 'SYNCED', 'SYNCED on the other replica');
  assert.ok(second.cp.configDump(node.id), 'a certificate-authenticated proxy has a config dump');
});

test('certificates from another CA, expired, or for another identity are refused, whatever the token', async (t) => {
  const m = await mesh(t);
  const { cp, url } = await m.replica('istiod-a');
  const other = loadSelfSignedCa(join(m.dir, 'other-ca'));
  const cases: [string, { cert: string; key: string }, RegExp][] = [
    ['another CA', workloadCert(other, node), /its certificate is not accepted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/],
    ['expired', workloadCert(m.ca, node, Date.now() - 7_200_000, Date.now() - 3_600_000), /its certificate is not accepted \(CERT_HAS_EXPIRED\)$/],
    ['another identity', workloadCert(m.ca, { namespace: 'istio-system', serviceAccount: 'istiod' }),
      /its certificate is for namespace istio-system, service account istiod, but it claims namespace default, service account bookinfo-reviews/],
    ['another trust domain', workloadCert(m.ca, { ...node, trustDomain: 'evil.example' }), /identity spiffe:\/\/evil\.example\/ns\/default\/sa\/bookinfo-reviews is not accepted here/],
  ];
  for (const [what, cert, reason] of cases) {
    const { client, events } = m.client(url, { cert: () => cert });
    await waitFor(() => events.some((e) => e.startsWith('disconnected')), `${what}: the refusal`);
    client.stop();
    const first = events.find((e) => e.startsWith('disconnected')) ?? '';
    assert.match(first, /^disconnected UNAUTHENTICATED: proxy reviews-v1-0\.default is not authenticated: /, what);
    assert.match(first, reason, what);
    assert.ok(!events.includes('applied'), `${what}: nothing is pushed`);
  }
  assert.deepEqual(cp.proxies(), []);
  // The same proxy with its token alone is welcome.
  const { events } = m.client(url);
  await waitFor(() => events.includes('applied'), 'the token-only proxy');
  assert.deepEqual(authOf(cp), ['token']);
});

test('a certificate for the right identity authenticates without a valid token', async (t) => {
  const m = await mesh(t);
  const { cp, url } = await m.replica('istiod-a');
  const { events } = m.client(url, { token: 'not-a-token', cert: () => workloadCert(m.ca, node) });
  await waitFor(() => events.includes('applied'), 'the config');
  assert.deepEqual(authOf(cp), ['certificate']);
});

test('a proxy that does not trust the serving certificate does not connect, and says why', async (t) => {
  const m = await mesh(t);
  const { cp, url } = await m.replica('istiod-a');
  const other = loadSelfSignedCa(join(m.dir, 'other-ca'));
  const wrongRoot = m.client(url, { root: other.trustBundle });
  await waitFor(() => wrongRoot.events.length > 0, 'the TLS failure');
  assert.match(wrongRoot.events[0] ?? '', /^disconnected (self-signed certificate in certificate chain|unable to verify the first certificate|unable to get local issuer certificate)$/);
  const m2 = new DiscoveryClient({ servers: [url], node, token: mintToken(m.key, node.id, node.serviceAccount), apply: () => ({ ok: true }), backoff: { initialMs: 50, maxMs: 200 }, tls: { ca: m.ca.trustBundle, servername: 'istiod.elsewhere.svc' } });
  const reasons: string[] = [];
  m2.on('disconnected', (r) => reasons.push(r));
  m2.start();
  t.after(() => m2.stop());
  await waitFor(() => reasons.length > 0, 'the name mismatch');
  assert.match(reasons[0] ?? '', /Hostname\/IP does not match certificate's altnames: Host: istiod\.elsewhere\.svc/);
  assert.deepEqual(cp.proxies(), []);
});

test('the serving certificate is renewed before it expires, and open streams stay', async (t) => {
  const m = await mesh(t);
  const { cp, url } = await m.replica('istiod-a', { servingCertTtlMs: 2_000 });
  const first = await servedCertificate(url, m.ca.trustBundle);
  const { events } = m.client(url);
  await waitFor(() => events.includes('applied'), 'the config');
  const connectedAt = cp.proxies()[0]?.connectedAt;
  await waitFor(() => cp.servingCertificate() !== undefined && new X509Certificate(cp.servingCertificate() as string).serialNumber !== first.serialNumber, 'the renewal');
  const second = await servedCertificate(url, m.ca.trustBundle);
  assert.notEqual(second.serialNumber, first.serialNumber);
  assert.ok(new Date(second.validTo) > new Date(first.validTo));
  assert.deepEqual(cp.proxies().map((p) => p.connectedAt), [connectedAt], 'the stream opened before the renewal is still the one connected');
  assert.ok(!events.some((e) => e.startsWith('disconnected')));
  // The renewed context still asks for and checks client certificates.
  const other = m.client(url, { as: { ...node, id: 'reviews-v2-0.default' }, token: 'not-a-token', cert: () => workloadCert(m.ca, node) });
  await waitFor(() => other.events.includes('applied'), 'a certificate-authenticated proxy after the renewal');
  assert.deepEqual(cp.proxies().map((p) => p.auth).sort(), ['certificate', 'token']);
});

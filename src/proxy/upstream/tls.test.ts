import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import type { Cluster, Secret, UpstreamTls } from '../../proxy-config/index.js';
import { Upstreams, UpstreamError } from './index.js';
import { assignment, cluster, endpoint, readAll } from './fixtures.js';

const HOST = 'reviews.default.svc.cluster.local';
const SPIFFE = 'spiffe://cluster.local/ns/default/sa/reviews';

interface Pki {
  ca: string;
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway CA, a server certificate it signs (DNS, URI and IP SANs), a client certificate, and an unrelated CA. */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'weft-up-tls-'));
  const f = (n: string): string => join(dir, n);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  try {
    const ca = (name: string): void => ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`));
    ca('ca');
    ca('other');
    const leaf = (name: string, san: string): void => {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
      writeFileSync(f(`${name}.ext`), `subjectAltName=${san}\n`);
      ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
    };
    leaf('server', `DNS:${HOST},URI:${SPIFFE},IP:127.0.0.1`);
    leaf('client', 'URI:spiffe://cluster.local/ns/default/sa/productpage');
    const r = (n: string): string => readFileSync(f(n), 'utf8');
    return { ca: r('ca.pem'), otherCa: r('other.pem'), serverCert: r('server.pem'), serverKey: r('server.key'), clientCert: r('client.pem'), clientKey: r('client.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Seen {
  encrypted: boolean;
  servername: string | false;
  alpn: string | false | null;
  clientCertSan?: string;
  authorized: boolean;
  remotePort: number;
}

const openssl = hasOpenssl();
const skip = openssl ? false : 'openssl CLI not found: cannot make test certificates';
let pki: Pki;
let server: https.Server;
let port = 0;
const seen: Seen[] = [];
const BIG = Buffer.alloc(4 * 1024 * 1024);
for (let i = 0; i < BIG.length; i++) BIG[i] = i % 251;

before(async () => {
  if (!openssl) return;
  pki = makePki();
  server = https.createServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['http/1.1', 'istio'] }, (req, res) => {
    const sock = req.socket as tls.TLSSocket;
    const peer = sock.getPeerCertificate();
    const entry: Seen = { encrypted: sock.encrypted === true, servername: (sock as tls.TLSSocket & { servername?: string | false }).servername ?? false, alpn: sock.alpnProtocol, authorized: sock.authorized, remotePort: sock.remotePort ?? 0 };
    if (peer && peer.subjectaltname) entry.clientCertSan = peer.subjectaltname;
    seen.push(entry);
    if (req.url === '/big') res.end(BIG);
    else res.end('secure hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  if (server) await new Promise<void>((r) => server.close(() => r()));
});

const NAME = `outbound|9080||${HOST}`;
const secrets = (): Secret[] => [
  { name: 'good-ca', trustedCa: pki.ca },
  { name: 'other-ca', trustedCa: pki.otherCa },
  { name: 'client', certificateChain: pki.clientCert, privateKey: pki.clientKey },
  { name: 'default', certificateChain: pki.clientCert, privateKey: pki.clientKey },
  { name: 'ROOTCA', trustedCa: pki.ca },
];

async function call(t: { after: (fn: () => Promise<unknown>) => void }, settings: UpstreamTls | undefined, overrides: Partial<Cluster> = {}, tlsMode: 'istio' | 'disabled' = 'disabled') {
  const upstreams = new Upstreams();
  t.after(() => upstreams.close());
  const c = cluster(NAME, { service: { host: HOST, name: 'reviews', namespace: 'default', port: 9080 }, ...overrides, ...(settings ? { tls: settings } : {}) });
  upstreams.apply([c], [assignment(NAME, [{ ...endpoint(port), tlsMode }])], secrets());
  return upstreams;
}

const get = { method: 'GET', path: '/', headers: { host: 'reviews:9080' }, body: null };

async function expectUF(upstreams: Upstreams): Promise<UpstreamError> {
  const err = await upstreams.send(NAME, get).then(
    () => assert.fail('expected a connection failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UpstreamError);
  assert.equal(err.flag, 'UF');
  assert.equal(err.status, 503);
  assert.equal(err.resetReason, 'connection failure');
  return err;
}

test('SIMPLE with the right CA originates TLS with the service host as SNI', { skip }, async (t) => {
  const upstreams = await call(t, { mode: 'SIMPLE', validationContext: 'good-ca' });
  const before = seen.length;
  const res = await upstreams.send(NAME, get);
  assert.equal(res.status, 200);
  assert.equal(await readAll(res.body), 'secure hello');
  const s = seen[before];
  assert.equal(s?.encrypted, true);
  assert.equal(s?.servername, HOST);
  assert.equal(s?.clientCertSan, undefined);
});

test('SIMPLE against an unrelated CA fails the connection (UF, TLS transport failure reason)', { skip }, async (t) => {
  const err = await expectUF(await call(t, { mode: 'SIMPLE', validationContext: 'other-ca' }));
  assert.equal(err.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end');
});

test('SIMPLE without a validationContext uses the default CAs, which do not trust a private CA', { skip }, async (t) => {
  await expectUF(await call(t, { mode: 'SIMPLE' }));
});

test('subjectAltNames: a match passes, a mismatch is UF', { skip }, async (t) => {
  const ok = await call(t, { mode: 'SIMPLE', validationContext: 'good-ca', sni: 'anything.example', subjectAltNames: [SPIFFE] });
  assert.equal((await ok.send(NAME, get)).status, 200);
  await expectUF(await call(t, { mode: 'SIMPLE', validationContext: 'good-ca', subjectAltNames: ['spiffe://cluster.local/ns/default/sa/ratings'] }));
});

test('without subjectAltNames the hostname check applies to the SNI', { skip }, async (t) => {
  await expectUF(await call(t, { mode: 'SIMPLE', validationContext: 'good-ca', sni: 'wrong.example' }));
});

test('MUTUAL presents the certificate secret, which the server verifies', { skip }, async (t) => {
  const upstreams = await call(t, { mode: 'MUTUAL', validationContext: 'good-ca', certificate: 'client', alpn: ['http/1.1'] });
  const before = seen.length;
  assert.equal((await upstreams.send(NAME, get)).status, 200);
  const s = seen[before];
  assert.equal(s?.authorized, true);
  assert.equal(s?.clientCertSan, 'URI:spiffe://cluster.local/ns/default/sa/productpage');
  assert.equal(s?.alpn, 'http/1.1');
});

test('MUTUAL with a missing certificate secret is a connection failure', { skip }, async (t) => {
  await expectUF(await call(t, { mode: 'MUTUAL', validationContext: 'good-ca', certificate: 'nope' }));
});

test('ISTIO_MUTUAL uses default/ROOTCA, Istio ALPN and SNI, and checks SPIFFE SANs', { skip }, async (t) => {
  const upstreams = await call(t, { mode: 'ISTIO_MUTUAL', subjectAltNames: [SPIFFE] });
  const before = seen.length;
  assert.equal((await upstreams.send(NAME, get)).status, 200);
  const s = seen[before];
  assert.equal(s?.authorized, true);
  assert.equal(s?.alpn, 'istio');
  assert.equal(s?.servername, `outbound_.9080_._.${HOST}`);
});

test('auto mTLS: istio endpoints get ISTIO_MUTUAL, others plaintext', { skip }, async (t) => {
  const upstreams = await call(t, undefined, {}, 'istio');
  const before = seen.length;
  assert.equal((await upstreams.send(NAME, get)).status, 200);
  assert.equal(seen[before]?.authorized, true);
  // Plaintext to a TLS server: the server drops the bytes it cannot parse.
  const plain = await call(t, undefined, {}, 'disabled');
  await plain.send(NAME, get).then(
    () => assert.fail('plaintext should not reach the TLS server'),
    (e: unknown) => assert.ok(e instanceof UpstreamError),
  );
  assert.equal(seen.length, before + 1);
});

test('insecureSkipVerify accepts any server certificate', { skip }, async (t) => {
  const upstreams = await call(t, { mode: 'SIMPLE', validationContext: 'other-ca', sni: 'wrong.example', insecureSkipVerify: true });
  assert.equal((await upstreams.send(NAME, get)).status, 200);
});

test('HTTP/1.1 keep-alive over TLS reuses the connection', { skip }, async (t) => {
  const upstreams = await call(t, { mode: 'SIMPLE', validationContext: 'good-ca' });
  const before = seen.length;
  for (let i = 0; i < 3; i++) {
    const res = await upstreams.send(NAME, get);
    await readAll(res.body);
  }
  const ports = new Set(seen.slice(before).map((s) => s.remotePort));
  assert.equal(seen.length - before, 3);
  assert.equal(ports.size, 1);
});

test('a large body over TLS streams with backpressure and arrives intact (reads land in the shared buffer)', { skip }, async (t) => {
  const upstreams = await call(t, { mode: 'SIMPLE', validationContext: 'good-ca' });
  const res = await upstreams.send(NAME, { ...get, path: '/big' });
  assert.equal(res.completeBody, undefined);
  await new Promise((r) => setTimeout(r, 50)); // let the socket fill while nobody reads
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(BIG));
  assert.equal(await readAll((await upstreams.send(NAME, get)).body), 'secure hello', 'the connection is still in sync');
});

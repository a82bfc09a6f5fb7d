/**
 * Sidecar `ingress` from resource to socket: a Sidecar, a PeerAuthentication and a Service are
 * compiled for the reviews pod (the compiler's bookinfo platform) and the config is served by a
 * real proxy whose inbound side is reached through port maps (the local runtime's plain mode),
 * in front of real apps on loopback. A listed port reaches the app at its defaultEndpoint, routed
 * as HTTP; a Service port the Sidecar does not list is no longer served by its HTTP chain but
 * passed through as opaque TCP to where it was headed (Istio's rule); a listed HTTPS port with
 * `tls: SIMPLE` and certificate files terminates TLS at the sidecar with that certificate; a
 * `captureMode: NONE` port gets a listener of its own, here in front of a Unix domain socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import https from 'node:https';
import type tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyConfig } from '../proxy-config/index.js';
import { buildTestMesh, nodeOf } from '../compiler/testkit.js';
import { compileProxyConfig } from '../compiler/compile.js';
import { startProxy, startUpstream, send, type TestProxy, type TestUpstream, freePort } from '../proxy/test-kit.js';
import { makeTestPki } from '../proxy/test-pki.js';

const sidecarYaml = (web: number, secure: number, certDir: string) => `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews-ingress, namespace: default}
spec:
  workloadSelector:
    labels: {app: reviews}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:${web}
  - port: {number: 8443, protocol: HTTPS, name: https}
    defaultEndpoint: 127.0.0.1:${secure}
    tls: {mode: SIMPLE, serverCertificate: ${join(certDir, 'server.pem')}, privateKey: ${join(certDir, 'server.key')}}
  - port: {number: 7070, protocol: TCP, name: tcp}
    captureMode: NONE
    defaultEndpoint: unix://${join(certDir, 'app.sock')}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reviews, namespace: default}
spec:
  selector:
    matchLabels: {app: reviews}
  mtls: {mode: PERMISSIVE}
  portLevelMtls:
    8443: {mode: DISABLE}
`;

// A Service whose port targets the admin app directly (the pod's address is loopback here).
const adminService = (target: number) => `apiVersion: v1
kind: Service
metadata: {name: reviews-admin, namespace: default}
spec:
  selector: {app: reviews}
  ports:
  - {name: http-admin, port: 9090, targetPort: ${target}}
`;

/** The reviews-v1 sidecar's config, its pod on 127.0.0.1 (where passthrough traffic goes). */
function compileReviews(yaml: string): ProxyConfig {
  const mesh = buildTestMesh([{ file: 'sidecar-ingress.yaml', text: yaml }]);
  assert.deepEqual(mesh.errors, []);
  const config = compileProxyConfig(mesh.snapshot, nodeOf(mesh.registry, 'sidecar', 'reviews-v1', 'default'));
  return { ...config, node: { ...config.node, ip: '127.0.0.1' } };
}

async function serve(config: ProxyConfig, map: [number, number][]): Promise<TestProxy> {
  return startProxy(config, { bootstrap: { inboundPortMap: new Map(map), appAddress: '127.0.0.1' } });
}

function httpsGet(port: number, ca: string): Promise<{ body: string; cert: X509Certificate | undefined }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/secure', ca, servername: 'reviews.example', checkServerIdentity: () => undefined, agent: false }, (res) => {
      const cert = (res.socket as tls.TLSSocket).getPeerX509Certificate();
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ body, cert }));
    });
    req.on('error', reject);
  });
}

/** Writes `text` and reads until the other side ends. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString()));
    s.on('error', reject);
    s.on('end', () => resolve(out));
  });
}

/** Plaintext on a TLS-only port: the proxy closes it without an HTTP answer. */
function plaintextAnswer(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString()));
    s.on('error', () => {});
    s.on('close', () => resolve(out));
  });
}

test('Sidecar ingress: listed ports reach their defaultEndpoint (HTTP, TLS SIMPLE from files); unlisted Service ports are only passed through', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-sidecar-ingress-'));
  const apps: TestUpstream[] = [];
  const proxies: TestProxy[] = [];
  t.after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(apps.map((a) => a.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const pki = makeTestPki(dir);
  const leaf = pki.leaf('server', 'spiffe://cluster.local/ns/default/sa/reviews');
  writeFileSync(join(dir, 'server.pem'), leaf.cert);
  writeFileSync(join(dir, 'server.key'), leaf.key);
  const [web, secure, admin] = await Promise.all([startUpstream('web'), startUpstream('secure'), startUpstream('admin')]);
  const unixApp = net.createServer((s) => s.on('data', (d) => s.end(`echo ${String(d)}`)));
  await new Promise<void>((resolve) => unixApp.listen(join(dir, 'app.sock'), resolve));
  t.after(() => new Promise<void>((resolve) => unixApp.close(() => resolve())));
  apps.push(web, secure, admin);
  const [p9080, p8443, pAdmin, before9090] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);

  // Before the Sidecar: the Service port has its HTTP chain (the sidecar adds x-request-id).
  const plain = await serve(compileReviews(adminService(admin.port)), [[before9090, admin.port]]);
  proxies.push(plain);
  assert.equal((await send(before9090, { path: '/before' })).body, 'admin');
  assert.ok(admin.received.at(-1)?.headers['x-request-id'], 'routed as HTTP without the Sidecar');

  const config = compileReviews(`${sidecarYaml(web.port, secure.port, dir)}---\n${adminService(admin.port)}`);
  const proxy = await serve(config, [[p9080, 9080], [p8443, 8443], [pAdmin, admin.port]]);
  proxies.push(proxy);

  // A listed HTTP port: routed (inbound|9080||) to the app at the defaultEndpoint's port.
  const r = await send(p9080, { path: '/listed', host: 'reviews:9080' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'web');
  assert.equal(web.received.at(-1)?.url, '/listed');
  assert.ok(web.received.at(-1)?.headers['x-request-id']);

  // The Service port the Sidecar does not list: the passthrough chain carries the bytes untouched.
  const passed = await send(pAdmin, { path: '/unlisted' });
  assert.equal(passed.body, 'admin');
  assert.equal(admin.received.at(-1)?.url, '/unlisted');
  assert.equal(admin.received.at(-1)?.headers['x-request-id'], undefined, 'not routed as HTTP');

  // The HTTPS port: TLS ends at the sidecar with the certificate from the files; the app gets HTTP.
  const viaTls = await httpsGet(p8443, pki.ca);
  assert.equal(viaTls.body, 'secure');
  assert.equal(viaTls.cert?.fingerprint256, new X509Certificate(leaf.cert).fingerprint256);
  assert.equal(secure.received.at(-1)?.headers['x-forwarded-proto'], 'https');
  assert.equal(await plaintextAnswer(p8443), '', 'plaintext is refused on the TLS port');

  // captureMode NONE: a listener of its own on the port, forwarding to the Unix socket.
  assert.equal(await exchange(proxy.port('inbound:7070'), 'ping'), 'echo ping');
});

/**
 * Root CA rotation without downtime, with real processes and real TLS: `weft control-plane` and two
 * sidecars (a client and a server in front of an HTTP app) under STRICT mTLS, requests flowing
 * through them from four concurrent loops the whole time. Plugged-in CA: Istio's three steps of
 * a root migration through the watched cacerts directory (old and new roots in root-cert.pem with
 * the old intermediate; the intermediate switched to one under the new root; the old root
 * dropped), plus an inconsistent change that is refused. Self-signed CA: `weft control-plane ca
 * rotate` with a short grace period, the proxies on the TLS push port, and a control plane restart
 * after the old root is gone that they must reconnect through. Every step must pass with no failed request, and at the end
 * each proxy's certificate must chain to the new root and not to the old one (openssl's verdict).
 * A third mesh server (the observer, a TLS server of the test's own) records the certificate the
 * client sidecar presents. Addresses 127.0.7.x: client .2, app .3, server sidecar .4, observer .5.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadPluggedInCa, loadSelfSignedCa, type CertificateAuthority } from '../ca/index.js';
import { issueTestCertificate, makeCacerts, opensslVerify } from '../ca/testing.js';
import { meshEntryYaml, Processes, proxyIdentity, serverPodYaml, waitFor, weft, type WeftProcess } from './kit.js';
import { freePort } from '../proxy/test-kit.js';

const CLIENT_IP = '127.0.7.2';
const APP_IP = '127.0.7.3';
const SERVER_IP = '127.0.7.4';
const OBSERVER_IP = '127.0.7.5';
const ISTIO_ALPN = ['istio-peer-exchange', 'istio', 'http/1.1'];
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g;

const mesh = (appPort: number, observerPort: number) => `${serverPodYaml(appPort, APP_IP)}${meshEntryYaml({ service: 'server', workload: 'server-front', address: SERVER_IP, port: appPort, serviceAccount: 'server', istioTls: true })}---
# One request per connection: every request is a new mTLS handshake between the sidecars, so a
# moment where one trusts less than the other presents would fail requests.
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: server, namespace: default}
spec:
  host: server.mesh.internal
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
    connectionPool: {http: {maxRequestsPerConnection: 1}}
${meshEntryYaml({ service: 'observer', workload: 'observer', address: OBSERVER_IP, port: observerPort, serviceAccount: 'observer', istioTls: false })}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: observer, namespace: default}
spec:
  host: observer.mesh.internal
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: default}
spec: {mtls: {mode: STRICT}}
`;

/** A request as an app with HTTP_PROXY sends it, through the client sidecar. */
function viaClient(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: CLIENT_IP, port, path: `http://${host}/`, headers: { host }, agent: false, timeout: 3_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The certificate chain (PEM, leaf first) a TLS server presents to a client holding `client`. */
function serverChain(port: number, client: { cert: string; key: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: SERVER_IP, port, ...client, ALPNProtocols: ISTIO_ALPN, rejectUnauthorized: false }, () => {
      const chain = peerChain(socket.getPeerCertificate(true));
      socket.destroy();
      resolve(chain);
    });
    socket.setTimeout(3_000, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
  });
}

function peerChain(leaf: tls.DetailedPeerCertificate): string {
  const out: string[] = [];
  for (let c: tls.DetailedPeerCertificate | undefined = leaf; c?.raw && !out.some((p) => p === pem(c as tls.DetailedPeerCertificate)); c = c.issuerCertificate) out.push(pem(c));
  return out.join('');
}

function pem(c: tls.DetailedPeerCertificate): string {
  return new X509Certificate(c.raw).toString();
}

function certFor(ca: CertificateAuthority, serviceAccount: string): { cert: string; key: string } {
  const { cert, key } = issueTestCertificate(ca, { trustDomain: 'cluster.local', namespace: 'default', serviceAccount });
  return { cert, key };
}

/** True when openssl verifies the chain's leaf against `root` alone. */
function chainsTo(dir: string, chain: string, root: string): boolean {
  return /: OK$/.test(opensslVerify(dir, chain, root, 'sslclient').trim());
}

interface Mesh {
  procs: Processes;
  cp: WeftProcess;
  /** Starts the control plane again with the same flags and ports (the old one is killed first). */
  restartControlPlane: () => Promise<WeftProcess>;
  outbound: number;
  inbound: number;
  /** The latest certificate chain the client sidecar presented to the observer. */
  clientChain: () => string | undefined;
  /** Makes the observer present a certificate from `ca` (the client sidecar must trust it). */
  observe: (ca: CertificateAuthority) => void;
  close: () => Promise<void>;
}

/** `secure`: proxies use the TLS push port, verifying the control plane against the root file they were given at start. */
async function startMesh(dir: string, caFlags: string[], secure = false): Promise<Mesh> {
  const procs = new Processes();
  const servers: http.Server[] = [];
  const listen = (server: http.Server, host: string) => new Promise<number>((resolve) => {
    servers.push(server);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
  const configDir = join(dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const appPort = await listen(http.createServer((_req, res) => res.end('ok')), APP_IP);
  let clientChain: string | undefined;
  const observer = https.createServer({ requestCert: true, rejectUnauthorized: false, ALPNProtocols: ISTIO_ALPN }, (req, res) => {
    clientChain = peerChain((req.socket as tls.TLSSocket).getPeerCertificate(true));
    // A new connection each time, so each look sees the certificate the sidecar holds now.
    res.setHeader('connection', 'close');
    res.end('{}');
  });
  const observerPort = await listen(observer, OBSERVER_IP);
  writeFileSync(join(configDir, 'mesh.yaml'), mesh(appPort, observerPort));
  const stateDir = join(dir, 'state');
  // Ports free now, for a control plane that must come back on the same ones.
  const [port, tlsPort] = [await freePort(), await freePort()];
  const cpArgs = ['control-plane', '--config', configDir, '--state-dir', stateDir, '--port', String(port), '--tls-port', String(tlsPort), '--monitoring-port', '0',
    '--dashboard-port', 'none', '--zipkin-port', 'none', '--debounce', '20ms', '--workload-cert-ttl', '1h', '--ca-reload-interval', '200ms', ...caFlags];
  let cp = procs.start('istiod', cpArgs);
  await cp.ready;
  const rootFile = join(dir, 'root-cert-at-start.pem');
  writeFileSync(rootFile, readFileSync(join(caFlags.includes('--cacerts') ? caFlags[caFlags.indexOf('--cacerts') + 1] as string : stateDir, 'root-cert.pem')));
  const xds = secure ? `127.0.0.1:${tlsPort}` : `127.0.0.1:${port}`;
  const secureFlags = secure ? ['--root-cert', rootFile, '--control-plane-san', 'istiod.istio-system.svc'] : [];
  const sidecar = (name: string, sa: string, ip: string, bind: string, labels: Record<string, string>, extra: string[]) => {
    const identity = proxyIdentity(dir, stateDir, name, { id: `${name}.default`, role: 'sidecar', namespace: 'default', serviceAccount: sa, ip, labels });
    return procs.start(name, ['proxy', '--control-plane', xds, '--prometheus-port', '0', '--status-port', '0', ...identity,
      '--bind', bind, '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--health-port', '0', ...secureFlags, ...extra]);
  };
  const server = sidecar('server-0', 'server', APP_IP, SERVER_IP, { app: 'server-app' }, ['--inbound-port-map', `${appPort}=${appPort}`]);
  const client = sidecar('sleep-0', 'sleep', CLIENT_IP, CLIENT_IP, { app: 'sleep' }, []);
  await server.ready;
  const outbound = (await client.ready).ports.outbound ?? 0;
  await waitFor('mTLS traffic from sleep to server', async () => ((await viaClient(outbound, 'server.mesh.internal').catch(() => undefined))?.status === 200 ? true : undefined), 15_000)
    .catch((err: Error) => assert.fail(`${err.message}\n${procs.dump()}`));
  return {
    procs, outbound, inbound: appPort,
    get cp() {
      return cp;
    },
    restartControlPlane: async () => {
      await procs.kill(cp);
      cp = procs.start('istiod', cpArgs);
      await cp.ready;
      return cp;
    },
    clientChain: () => clientChain,
    observe: (ca) => observer.setSecureContext(certFor(ca, 'observer')),
    close: async () => {
      await procs.killAll();
      for (const s of servers) {
        s.closeAllConnections();
        s.close();
      }
    },
  };
}

/** Four request loops through both sidecars until stopped; every failure is kept. */
function traffic(outbound: number): { stop: () => Promise<{ ok: number; failures: string[] }> } {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (running) {
      try {
        const reply = await viaClient(outbound, 'server.mesh.internal');
        if (reply.status === 200) ok++;
        else failures.push(`${new Date().toISOString()} HTTP ${reply.status} ${reply.body}`);
      } catch (err) {
        failures.push(`${new Date().toISOString()} ${(err as Error).message}`);
      }
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return { ok, failures };
    },
  };
}

const count = (text: string, needle: string) => text.split(needle).length - 1;
const CA_CHANGED = 'certificate authority change complete';

/** Both proxies' certificates, once each chains to `root` (the client's as the observer saw it). */
async function certificatesUnder(m: Mesh, dir: string, ca: CertificateAuthority, root: string): Promise<{ client: string; server: string }> {
  m.observe(ca);
  return waitFor('both proxies holding certificates under the new root', async () => {
    const server = await serverChain(m.inbound, certFor(ca, 'sleep'));
    const reply = await viaClient(m.outbound, 'observer.mesh.internal');
    const client = m.clientChain();
    if (reply.status !== 200 || client === undefined) return undefined;
    return chainsTo(dir, server, root) && chainsTo(dir, client, root) ? { client, server } : undefined;
  }, 10_000).catch((err: Error) => assert.fail(`${err.message}\n${m.procs.dump()}`));
}

describe('plugged-in CA: Istio\'s root migration through the cacerts directory, no request failing', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-ca-rotation-'));
  const cacerts = join(dir, 'cacerts');
  const oldCa = join(dir, 'old');
  const newCa = join(dir, 'new');
  let m: Mesh;

  before(async () => {
    for (const d of [cacerts, oldCa, newCa]) mkdirSync(d);
    makeCacerts(oldCa, 'Old Corp');
    makeCacerts(newCa, 'New Corp');
    for (const f of ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem']) copyFileSync(join(oldCa, f), join(cacerts, f));
    m = await startMesh(dir, ['--cacerts', cacerts]);
  });

  after(async () => {
    await m?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three steps (both roots, new intermediate, old root dropped) and a refused inconsistent change: no failed request, and both proxies end under the new root only', async () => {
    const read = (d: string, f: string) => readFileSync(join(d, f), 'utf8');
    const oldRoot = read(oldCa, 'root-cert.pem');
    const newRoot = read(newCa, 'root-cert.pem');
    const changes = () => count(m.cp.output(), CA_CHANGED);
    const load = traffic(m.outbound);
    try {
      // Step 1: the bundle holds both roots, the old intermediate still signs.
      writeFileSync(join(cacerts, 'root-cert.pem'), oldRoot + newRoot);
      await waitFor('step 1 taken', async () => (changes() >= 1 ? true : undefined), 15_000);
      // Step 2: an intermediate under the new root signs; proxies get new certificates at once.
      for (const f of ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem']) writeFileSync(join(cacerts, f), read(newCa, f));
      await waitFor('step 2 taken', async () => (changes() >= 2 ? true : undefined), 15_000);
      await certificatesUnder(m, dir, loadPluggedInCa(newCa), newRoot);
      // An inconsistent change (the old key with the new intermediate) is refused; the CA keeps signing.
      writeFileSync(join(cacerts, 'ca-key.pem'), read(oldCa, 'ca-key.pem'));
      await waitFor('the inconsistent change refused', async () => (/cannot be used.*ca-key\.pem: the private key does not belong/.test(m.cp.output()) ? true : undefined), 10_000);
      writeFileSync(join(cacerts, 'ca-key.pem'), read(newCa, 'ca-key.pem'));
      // Step 3: the old root leaves the bundle.
      writeFileSync(join(cacerts, 'root-cert.pem'), newRoot);
      await waitFor('step 3 taken', async () => (changes() >= 3 ? true : undefined), 15_000);
    } finally {
      const { ok, failures } = await load.stop();
      assert.deepEqual(failures, [], m.procs.dump());
      assert.ok(ok > 50, `only ${ok} requests went through`);
    }
    const final = await certificatesUnder(m, dir, loadPluggedInCa(newCa), newRoot);
    assert.equal(chainsTo(dir, final.client, oldRoot), false, 'the client\'s certificate still verifies under the old root');
    assert.equal(chainsTo(dir, final.server, oldRoot), false, 'the server\'s certificate still verifies under the old root');
    assert.equal(count(m.cp.output(), CA_CHANGED), 3, 'the refused change and its repair changed nothing');
    // The old root is gone from the pushed bundle: a peer with an old-root certificate is refused now.
    await assert.rejects(viaTls(m.inbound, certFor(loadPluggedInCa(oldCa), 'sleep')));
    assert.equal(await viaTls(m.inbound, certFor(loadPluggedInCa(newCa), 'sleep')), 200);
  });
});

/** An HTTPS request to the server sidecar with a client certificate, verifying nothing on our side. */
function viaTls(port: number, client: { cert: string; key: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: SERVER_IP, port, path: '/', agent: false, ...client, ALPNProtocols: ISTIO_ALPN, rejectUnauthorized: false, timeout: 3_000 } as https.RequestOptions, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('self-signed CA: `weft control-plane ca rotate`, the old root trusted through its grace period, no request failing', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-ca-rotate-'));
  let m: Mesh;

  before(async () => {
    m = await startMesh(dir, [], true);
  });

  after(async () => {
    await m?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates: new certificates at once, the old root dropped after the grace period, proxies reconnect over TLS to a restarted control plane, both under the new root only', async () => {
    const state = join(dir, 'state');
    const oldRoot = readFileSync(join(state, 'root-cert.pem'), 'utf8');
    const load = traffic(m.outbound);
    let newRoot = '';
    try {
      const rotated = weft('control-plane', 'ca', 'rotate', '--state-dir', state, '--grace', '8s');
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /new root .* previous root .* trusted until /);
      await waitFor('the new root signing', async () => (count(m.cp.output(), CA_CHANGED) >= 1 ? true : undefined), 15_000);
      const ca = loadSelfSignedCa(state);
      assert.equal(ca.roots.length, 2, 'the bundle holds the new and the old root during the grace period');
      newRoot = ca.signingCertificate.toString();
      await certificatesUnder(m, dir, ca, newRoot);
      // The grace period ends: the old root leaves the bundle (and the root file the runtime hands pods).
      await waitFor('the old root dropped', async () => (count(m.cp.output(), CA_CHANGED) >= 2 ? true : undefined), 20_000);
      assert.equal((readFileSync(join(state, 'root-cert.pem'), 'utf8').match(CERT_BLOCK) ?? []).length, 1);
      // The proxies were given only the old root at start: after a restart of the control plane
      // (serving certificate from the new root) they reconnect over TLS, trusting the pushed bundle,
      // and present their new certificates.
      const cp = await m.restartControlPlane();
      await waitFor('both proxies back on the TLS push port with their certificates', async () =>
        (['server-0', 'sleep-0'].every((p) => new RegExp(`proxy connected proxy=${p}\\.default`).test(cp.output())) ? true : undefined), 15_000)
        .catch((err: Error) => assert.fail(`${err.message}\n${m.procs.dump()}`));
      assert.doesNotMatch(cp.output(), /not authenticated/);
    } finally {
      const { ok, failures } = await load.stop();
      assert.deepEqual(failures, [], m.procs.dump());
      assert.ok(ok > 50, `only ${ok} requests went through`);
    }
    const final = await certificatesUnder(m, dir, loadSelfSignedCa(state), newRoot);
    assert.equal(chainsTo(dir, final.client, oldRoot), false);
    assert.equal(chainsTo(dir, final.server, oldRoot), false);
  });
});

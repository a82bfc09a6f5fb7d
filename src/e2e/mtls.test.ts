/**
 * Mutual TLS end to end, with real processes and real TLS: `weft control-plane` with a plugged-in
 * CA (Istio's cacerts, an intermediate under a test root) and short-lived workload certificates,
 * a client sidecar (`sleep`) and a server sidecar in front of an HTTP app that echoes the
 * `x-forwarded-client-cert` it receives. The proxies generate their keys, get certificates over
 * the push stream, and speak ISTIO_MUTUAL to each other; PeerAuthentication decides what the
 * server side accepts. Addresses: client 127.0.0.2, server app 127.0.0.3 (the pod), server
 * sidecar 127.0.0.4 (the address clients are given), fake servers 127.0.0.5-6.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadPluggedInCa, loadSelfSignedCa, type CertificateAuthority, type WorkloadIdentity } from '../ca/index.js';
import { issueTestCertificate, makeCacerts } from '../ca/testing.js';
import { meshEntryYaml, Processes, proxyIdentity, serverPodYaml, waitFor, type Ready } from './kit.js';

const CLIENT_IP = '127.0.0.2';
const APP_IP = '127.0.0.3';
const SERVER_IP = '127.0.0.4';
const ISTIO_ALPN = ['istio-peer-exchange', 'istio', 'http/1.1'];
const id = (serviceAccount: string): WorkloadIdentity => ({ trustDomain: 'cluster.local', namespace: 'default', serviceAccount });

const mesh = (appPort: number, impostorPort: number, honestPort: number) => `${serverPodYaml(appPort, APP_IP)}---
apiVersion: v1
kind: Service
metadata: {name: server-app, namespace: default}
spec:
  selector: {app: server-app}
  ports: [{name: http, port: 80, targetPort: ${appPort}}]
${meshEntryYaml({ service: 'server', workload: 'server-front', address: SERVER_IP, port: appPort, serviceAccount: 'server', istioTls: true })}${['impostor', 'honest'].map((name, i) => `${meshEntryYaml({ service: name, workload: name, address: `127.0.0.${5 + i}`, port: i === 0 ? impostorPort : honestPort, serviceAccount: 'server', istioTls: false })}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: default}
spec:
  host: ${name}.mesh.internal
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
`).join('')}${meshEntryYaml({ service: 'impostor-auto', workload: 'impostor-auto', address: '127.0.0.5', port: impostorPort, serviceAccount: 'server', istioTls: true })}`;

const peerAuthn = (mode: string, portLevel = '') => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: server, namespace: default}
spec:
  selector: {matchLabels: {app: server-app}}
  mtls: {mode: ${mode}}
${portLevel}`;

interface Reply { status: number; body: string; xfcc?: string }

/** A request as an app with HTTP_PROXY sends it, through the client sidecar. */
function viaClientSidecar(port: number, host: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: CLIENT_IP, port, path: `http://${host}/`, headers: { host, ...headers }, agent: false, timeout: 3_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(res.statusCode === 200 ? JSON.parse(body) as { xfcc?: string } : {}) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A request straight to the server sidecar: plaintext, or TLS with the given client certificate. */
function direct(port: number, tls?: { cert: string; key: string; ca: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const options = { host: SERVER_IP, port, path: '/', agent: false as const, timeout: 3_000 };
    const onResponse = (res: http.IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(res.statusCode === 200 ? JSON.parse(body) as { xfcc?: string } : {}) }));
    };
    const req = tls
      ? https.request({ ...options, ...tls, ALPNProtocols: ISTIO_ALPN, checkServerIdentity: () => undefined } as https.RequestOptions, onResponse)
      : http.request(options, onResponse);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const certFor = issueTestCertificate;

describe('mTLS between sidecars with certificates from the control plane\'s CA', { timeout: 90_000 }, () => {
  const procs = new Processes();
  const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-mtls-'));
  const configDir = join(dir, 'config');
  const servers: (http.Server | https.Server)[] = [];
  let ca: CertificateAuthority;
  let appPort = 0;
  let outbound = 0;
  let serverReady: Ready;

  const listen = (server: http.Server | https.Server, host: string) => new Promise<number>((resolve) => {
    servers.push(server);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });

  before(async () => {
    mkdirSync(configDir);
    const cacerts = join(dir, 'cacerts');
    mkdirSync(cacerts);
    makeCacerts(cacerts);
    ca = loadPluggedInCa(cacerts);
    // The app: echoes the client certificate details its sidecar forwards.
    appPort = await listen(http.createServer((req, res) => res.end(JSON.stringify({ xfcc: req.headers['x-forwarded-client-cert'] }))), APP_IP);
    // Fake mesh servers: one proves the wrong identity, one the expected one.
    const fake = (who: string) => https.createServer({ ...certFor(ca, id(who)), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ISTIO_ALPN }, (_req, res) => res.end('{}'));
    const impostorPort = await listen(fake('impostor'), '127.0.0.5');
    const honestPort = await listen(fake('server'), '127.0.0.6');
    writeFileSync(join(configDir, 'mesh.yaml'), mesh(appPort, impostorPort, honestPort));
    writeFileSync(join(configDir, 'peer-authn.yaml'), peerAuthn('STRICT'));
    const stateDir = join(dir, 'state');
    const cp = procs.start('istiod', ['control-plane', '--config', configDir, '--state-dir', stateDir, '--port', '0', '--monitoring-port', '0', '--dashboard-port', 'none',
      '--cacerts', cacerts, '--workload-cert-ttl', '4s']);
    const xds = `127.0.0.1:${(await cp.ready).ports.xds}`;
    const sidecar = (name: string, sa: string, ip: string, bind: string, labels: Record<string, string>, extra: string[]) => {
      const identity = proxyIdentity(dir, stateDir, name, { id: `${name}.default`, role: 'sidecar', namespace: 'default', serviceAccount: sa, ip, labels });
      return procs.start(name, ['proxy', '--control-plane', xds, '--prometheus-port', '0', '--status-port', '0', ...identity,
        '--bind', bind, '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--health-port', '0', ...extra]);
    };
    const server = sidecar('server-0', 'server', APP_IP, SERVER_IP, { app: 'server-app' }, ['--inbound-port-map', `${appPort}=${appPort}`]);
    const client = sidecar('sleep-0', 'sleep', CLIENT_IP, CLIENT_IP, { app: 'sleep' }, []);
    serverReady = await server.ready;
    outbound = (await client.ready).ports.outbound ?? 0;
    assert.equal(serverReady.ports[`inbound-map:${appPort}`], appPort, JSON.stringify(serverReady));
    await waitFor('mTLS traffic from sleep to server', async () => ((await viaClientSidecar(outbound, 'server.mesh.internal').catch(() => undefined))?.status === 200 ? true : undefined), 15_000)
      .catch((err: Error) => assert.fail(`${err.message}\n${procs.dump()}`));
  });

  after(async () => {
    await procs.killAll();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('ISTIO_MUTUAL between the sidecars: the app sees the client\'s SPIFFE identity in x-forwarded-client-cert (a forged one is dropped on the way out)', async () => {
    const reply = await viaClientSidecar(outbound, 'server.mesh.internal', { 'x-forwarded-client-cert': 'By=spiffe://evil;URI=spiffe://cluster.local/ns/default/sa/admin' });
    assert.equal(reply.status, 200);
    assert.match(reply.xfcc ?? '', /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/server;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep$/);
  });

  it('STRICT refuses plaintext', async () => {
    await assert.rejects(direct(appPort));
  });

  it('a client certificate from another CA is refused; the same request with a mesh certificate passes', async () => {
    const other = loadSelfSignedCa(join(dir, 'other-ca'));
    const foreign = { ...certFor(other, id('sleep')), ca: ca.trustBundle };
    await assert.rejects(direct(appPort, foreign));
    const good = await direct(appPort, certFor(ca, id('sleep')));
    assert.equal(good.status, 200);
    assert.match(good.xfcc ?? '', /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep$/);
  });

  it('an expired client certificate is refused', async () => {
    const expired = certFor(ca, id('sleep'), Date.now() - 7_200_000, Date.now() - 3_600_000);
    assert.ok(new Date(new X509Certificate(expired.cert).validTo).getTime() < Date.now());
    await assert.rejects(direct(appPort, expired));
  });

  it('a server whose certificate is for another identity than the expected SAN is refused (503), with a DestinationRule or auto mTLS; the right identity passes', async () => {
    const impostor = await viaClientSidecar(outbound, 'impostor.mesh.internal');
    assert.equal(impostor.status, 503);
    assert.match(impostor.body, /CERTIFICATE_VERIFY_FAILED/);
    const honest = await viaClientSidecar(outbound, 'honest.mesh.internal');
    assert.equal(honest.status, 200, honest.body);
    // Auto mTLS (no DestinationRule) expects the endpoint's own service account too.
    const auto = await viaClientSidecar(outbound, 'impostor-auto.mesh.internal');
    assert.equal(auto.status, 503);
    assert.match(auto.body, /CERTIFICATE_VERIFY_FAILED/);
  });

  it('PERMISSIVE accepts plaintext and mTLS', async () => {
    writeFileSync(join(configDir, 'peer-authn.yaml'), peerAuthn('PERMISSIVE'));
    const plain = await waitFor('plaintext accepted', async () => direct(appPort).catch(() => undefined), 10_000);
    assert.equal(plain.status, 200);
    assert.equal(plain.xfcc, undefined);
    const mtls = await viaClientSidecar(outbound, 'server.mesh.internal');
    assert.match(mtls.xfcc ?? '', /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep$/);
  });

  it('portLevelMtls overrides the workload mode for its port', async () => {
    writeFileSync(join(configDir, 'peer-authn.yaml'), peerAuthn('STRICT', `  portLevelMtls:\n    ${appPort}: {mode: DISABLE}\n`));
    await waitFor('the TLS chain gone from the port', async () => (await direct(appPort, certFor(ca, id('sleep'))).then(() => undefined, () => true)), 10_000);
    assert.equal((await direct(appPort)).status, 200);
  });

  it('DISABLE accepts plaintext only', async () => {
    writeFileSync(join(configDir, 'peer-authn.yaml'), peerAuthn('STRICT'));
    await waitFor('STRICT again', async () => direct(appPort).then(() => undefined, () => true), 10_000);
    writeFileSync(join(configDir, 'peer-authn.yaml'), peerAuthn('DISABLE'));
    const plain = await waitFor('plaintext accepted', async () => direct(appPort).catch(() => undefined), 10_000);
    assert.equal(plain.status, 200);
    await assert.rejects(direct(appPort, certFor(ca, id('sleep'))));
  });

  it('certificates rotate (4 s lifetime) under steady traffic with no failed request', async () => {
    writeFileSync(join(configDir, 'peer-authn.yaml'), peerAuthn('STRICT'));
    await waitFor('STRICT again', async () => direct(appPort).then(() => undefined, () => true), 10_000);
    const failures: string[] = [];
    const clientCerts = new Set<string>();
    const until = Date.now() + 7_000;
    const worker = async () => {
      while (Date.now() < until) {
        try {
          const reply = await viaClientSidecar(outbound, 'server.mesh.internal');
          if (reply.status !== 200) failures.push(`HTTP ${reply.status}`);
          const hash = /Hash=([0-9a-f]+)/.exec(reply.xfcc ?? '')?.[1];
          if (hash) clientCerts.add(hash);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    assert.deepEqual(failures, []);
    assert.ok(clientCerts.size >= 3, `the client presented ${clientCerts.size} distinct certificates in 7 s (expected a new one about every 2 s)`);
  });
});

/**
 * PeerAuthentication on the inbound passthrough (ports no Service declares), end to end: the
 * virtualInbound listener is the one the compiler emitted for reviews-v1 in the golden case
 * security/mtls-passthrough (read as data: the proxy does not import the compiler), under a
 * namespace-wide STRICT policy with a port-level DISABLE on one undeclared port. Real TLS with
 * certificates made by openssl, real TCP apps that count what reaches them.
 *  - the STRICT catch-all refuses plaintext and passes Istio mTLS through to the app;
 *  - the port-level DISABLE port passes plaintext;
 *  - a declared port's own chains win over the catch-all (Envoy narrows by port first).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { FilterChain, Listener, ProxyConfig } from '../../proxy-config/index.js';
import { repoPath } from '../../lib/repo.js';
import { startProxy, type TestProxy, freePort } from '../test-kit.js';
import { cluster, proxyConfig } from '../test-config.js';
import { makeTestPki, workloadSecrets } from '../test-pki.js';

/** The golden's port-level DISABLE port and its declared (Service) port. */
const GOLDEN_DISABLE_PORT = 8000;
const GOLDEN_SERVICE_PORT = 9080;

interface Leaf {
  cert: string;
  key: string;
}

function makePki(dir: string): { ca: string; server: Leaf; client: Leaf } {
  const pki = makeTestPki(dir);
  return {
    ca: pki.ca,
    server: pki.leaf('server', 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews'),
    client: pki.leaf('client', 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage'),
  };
}

/** reviews-v1's virtualInbound from the golden, its undeclared DISABLE port moved to `disablePort`. */
function goldenInbound(disablePort: number): Listener {
  const docs = parseAllDocuments(readFileSync(repoPath('src', 'compiler', 'testdata', 'security', 'mtls-passthrough.out.yaml'), 'utf8')).map((d) => d.toJS() as ProxyConfig);
  const inbound = docs.find((c) => c.node.id === 'reviews-v1-0.default')?.listeners.find((l) => l.name === 'virtualInbound');
  if (!inbound) throw new Error('no virtualInbound for reviews-v1 in security/mtls-passthrough.out.yaml');
  const move = (c: FilterChain): FilterChain => (c.match.destinationPort === GOLDEN_DISABLE_PORT ? { ...c, match: { ...c.match, destinationPort: disablePort } } : c);
  return { ...inbound, filterChains: inbound.filterChains.map(move) };
}

/** A TCP app on loopback that answers `echo:<bytes>` and counts connections. */
async function tcpApp(): Promise<{ server: net.Server; port: number; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    s.on('data', (d: Buffer) => s.write(`echo:${d.toString()}`));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
}

/** Sends `ping` (plaintext or over TLS) and resolves with what came back before the close. */
function exchange(port: number, tlsOptions?: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket: net.Socket = tlsOptions
      ? tls.connect({ host: '127.0.0.1', port, ...tlsOptions }, () => socket.write('ping'))
      : net.connect({ host: '127.0.0.1', port }, () => socket.write('ping'));
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('echo:ping')) socket.end();
    });
    socket.on('error', () => resolve(got));
    socket.on('close', () => resolve(got));
    socket.setTimeout(3000, () => socket.destroy());
  });
}

let dir: string;
let pki: ReturnType<typeof makePki>;
let strictApp: Awaited<ReturnType<typeof tcpApp>>;
let disabledApp: Awaited<ReturnType<typeof tcpApp>>;
let proxy: TestProxy;
/** Bound ports of the inbound port map: to the STRICT catch-all, the DISABLE port, the Service port. */
let toStrict: number, toDisabled: number, toService: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-passthrough-mtls-'));
  pki = makePki(dir);
  [strictApp, disabledApp] = await Promise.all([tcpApp(), tcpApp()]);
  [toStrict, toDisabled, toService] = await Promise.all([freePort(), freePort(), freePort()]);
  const config = proxyConfig({
    role: 'sidecar',
    listeners: [goldenInbound(disabledApp.port)],
    routes: [],
    clusters: [cluster('InboundPassthroughClusterIpv4', { discovery: 'original-dst', protocol: 'tcp', loadBalancer: { policy: 'PASSTHROUGH' } })],
    endpoints: [],
    secrets: workloadSecrets(pki.ca, pki.server),
  });
  // The declared port's HTTP chains need their route config; this test only checks that they, not the catch-all, get the connection.
  config.routes = [{ name: `inbound|${GOLDEN_SERVICE_PORT}||`, virtualHosts: [] }];
  proxy = await startProxy(config, {
    bootstrap: { inboundPortMap: new Map([[toStrict, strictApp.port], [toDisabled, disabledApp.port], [toService, GOLDEN_SERVICE_PORT]]) },
  });
});

after(async () => {
  await proxy?.close();
  await Promise.all([strictApp, disabledApp].map((a) => new Promise<void>((r) => (a ? a.server.close(() => r()) : r()))));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const istioMtls = (): tls.ConnectionOptions => ({ ca: pki.ca, cert: pki.client.cert, key: pki.client.key, ALPNProtocols: ['istio-peer-exchange', 'istio'], checkServerIdentity: () => undefined });

test('STRICT passthrough: plaintext to a port no Service declares is refused and never reaches the app', async () => {
  const before = strictApp.accepted();
  assert.equal(await exchange(proxy.port(`inbound-map:${toStrict}`)), '');
  assert.equal(strictApp.accepted(), before);
});

test('STRICT passthrough: Istio mTLS to a port no Service declares is terminated and passed through to the app', async () => {
  const before = strictApp.accepted();
  assert.equal(await exchange(proxy.port(`inbound-map:${toStrict}`), istioMtls()), 'echo:ping');
  assert.equal(strictApp.accepted(), before + 1);
});

test('STRICT passthrough: TLS without a client certificate is refused', async () => {
  const before = strictApp.accepted();
  assert.equal(await exchange(proxy.port(`inbound-map:${toStrict}`), { ca: pki.ca, ALPNProtocols: ['istio'], checkServerIdentity: () => undefined }), '');
  assert.equal(strictApp.accepted(), before);
});

test('port-level DISABLE on an undeclared port: plaintext passes through', async () => {
  const before = disabledApp.accepted();
  assert.equal(await exchange(proxy.port(`inbound-map:${toDisabled}`)), 'echo:ping');
  assert.equal(disabledApp.accepted(), before + 1);
});

test('a declared port keeps its own chains: plaintext HTTP is served by them (PERMISSIVE), not refused by the STRICT catch-all', async () => {
  const answer = await new Promise<string>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: proxy.port(`inbound-map:${toService}`) }, () => s.write('GET / HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n'));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
  });
  // No virtual host in this test's route config: Envoy's 404 (NR) from the port's HTTP chain.
  assert.match(answer, /^HTTP\/1\.1 404/);
});

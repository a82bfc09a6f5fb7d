/**
 * AuthorizationPolicy end to end: a real proxy with real TLS (client certificates made by openssl,
 * SPIFFE identities), real JWTs (signed here, verified by the jwt-authn stage), and a real
 * upstream that records what reaches it. The policies of the seed's examples are taken from the
 * compiler's golden output (read as data: the proxy does not import the compiler), so what is
 * tested is what the compiler emits for the seed's YAML.
 *
 * The bypass suite sends spellings of a DENY path through the proxy with Istio's recommended
 * DECODE_AND_MERGE_SLASHES normalization: every one is answered 403 (or 400) and none reaches the
 * upstream. What Istio does differently by design (case-sensitive paths, BASE normalization) is
 * pinned separately.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { AuthorizationPolicy, FilterChain, HttpFilter, JwtRule, Listener, ProxyConfig } from '../proxy-config/index.js';
import { repoPath } from '../lib/repo.js';
import { startProxy, startUpstream, sendRaw, type TestProxy, type TestUpstream } from './test-kit.js';
import { requestChannel, type RequestEvent } from './events.js';
import { cluster, endpoints, forward, proxyConfig, route, vhost } from './test-config.js';
import { jwks, sign, signingKey, type SigningKey } from './jwt/test-issuer.js';
import { makeTestPki, workloadSecrets } from './test-pki.js';

const ISSUER = 'https://issuer.example.com';

// ---------------------------------------------------------------- fixtures

/** The authz policies the compiler emitted for `workload`'s inbound HTTP chain in a golden file. */
function goldenPolicies(file: string, nodeId: string): AuthorizationPolicy[] {
  const docs = parseAllDocuments(readFileSync(repoPath('src', 'compiler', 'testdata', file), 'utf8')).map((d) => d.toJS() as ProxyConfig);
  const config = docs.find((c) => c.node.id === nodeId);
  const inbound = config?.listeners.find((l) => l.name === 'virtualInbound');
  const filter = inbound?.filterChains.find((c) => c.protocol === 'http')?.http?.filters.find((f) => f.kind === 'authz');
  if (!filter || filter.kind !== 'authz') throw new Error(`no authz filter for ${nodeId} in ${file}`);
  return filter.policies;
}

function policy(name: string, action: AuthorizationPolicy['action'], rules: Partial<AuthorizationPolicy['rules'][number]>[]): AuthorizationPolicy {
  return { name: `ns[default]-policy[${name}]`, action, rules: rules.map((r, index) => ({ index, from: [], to: [], when: [], ...r })) };
}

interface Pki {
  ca: string;
  server: { cert: string; key: string };
  sleep: { cert: string; key: string };
  prod: { cert: string; key: string };
  /** The same SPIFFE ID as `sleep`, self-signed: not from the mesh's CA. */
  forged: { cert: string; key: string };
}

/** The test root and leaf certificates (openssl, see test-pki.ts). */
function makePki(dir: string): Pki {
  const pki = makeTestPki(dir);
  return {
    ca: pki.ca,
    server: pki.leaf('server', 'spiffe://cluster.local/ns/default/sa/app'),
    sleep: pki.leaf('sleep', 'spiffe://cluster.local/ns/default/sa/sleep'),
    prod: pki.leaf('prod', 'spiffe://cluster.local/ns/prod/sa/client'),
    forged: pki.forged('forged', 'spiffe://cluster.local/ns/default/sa/sleep'),
  };
}

function jwtRule(key: SigningKey): JwtRule {
  return { issuer: ISSUER, audiences: [], jwks: jwks(key), fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }], fromParams: ['access_token'], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [] };
}

const MTLS = { mode: 'ISTIO_MUTUAL' as const, certificate: 'default', validationContext: 'ROOTCA', alpn: ['h2', 'http/1.1'] };

/** A gateway listener on `port` serving the `all` routes with these filters; `mtls` adds an mTLS chain before the plaintext one. */
function listener(port: number, filters: HttpFilter[], mtls = false): Listener {
  const plain: FilterChain = { name: `p${port}`, match: {}, protocol: 'http', http: { routeConfig: 'all', filters, statPrefix: 'inbound' } };
  const chains = mtls ? [{ ...plain, name: `t${port}`, match: { transportProtocol: 'tls' as const }, tls: MTLS }, plain] : [plain];
  return { name: `0.0.0.0_${port}`, direction: 'gateway', address: '0.0.0.0', port, filterChains: chains };
}

// ---------------------------------------------------------------- setup

let dir: string;
let pki: Pki;
let key: SigningKey;
let app: TestUpstream;
let tcpApp: net.Server;
let tcpAccepted = 0;
let proxy: TestProxy;
let baseProxy: TestProxy;

const ADMIN_DENY = [policy('deny-admin', 'DENY', [{ to: [{ paths: ['/admin*'] }] }])];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-authz-'));
  pki = makePki(dir);
  key = await signingKey('k1');
  app = await startUpstream('app');
  tcpApp = net.createServer((s) => {
    tcpAccepted++;
    s.on('data', (d: Buffer) => s.write(`echo:${d.toString()}`));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => tcpApp.listen(0, '127.0.0.1', r));
  const tcpPort = (tcpApp.address() as net.AddressInfo).port;

  const jwt: HttpFilter = { kind: 'jwt-authn', rules: [jwtRule(key)] };
  const authz = (policies: AuthorizationPolicy[]): HttpFilter => ({ kind: 'authz', policies });
  const tcpAuthz = [policy('tcp-sleep-only', 'ALLOW', [{ from: [{ principals: ['cluster.local/ns/default/sa/sleep'] }], to: [{ ports: [87] }] }])];
  const listeners: Listener[] = [
    listener(81, [authz(goldenPolicies('seed/11-authorization-deny-path.out.yaml', 'application-0.application'))]),
    listener(82, [authz(ADMIN_DENY)]),
    listener(83, [authz(goldenPolicies('security/authz-seed-examples.out.yaml', 'reviews-v1-0.default'))]),
    listener(84, [jwt, authz(goldenPolicies('security/authz-seed-examples.out.yaml', 'ratings-v1-0.default'))]),
    listener(85, [authz(goldenPolicies('security/authz-seed-examples.out.yaml', 'details-v1-0.default'))]),
    listener(86, [authz([policy('from-default', 'ALLOW', [{ from: [{ namespaces: ['default'] }] }])])], true),
    listener(88, [jwt, authz([policy('alice-for-api', 'ALLOW', [{ from: [{ requestPrincipals: [`${ISSUER}/alice`] }], when: [{ key: 'request.auth.audiences', values: ['api'] }] }])])]),
    {
      name: '0.0.0.0_87', direction: 'gateway', address: '0.0.0.0', port: 87,
      filterChains: [{ name: 'tcp87', match: {}, tls: { ...MTLS, alpn: ['istio'] }, protocol: 'tcp', tcp: { clusters: [{ cluster: 'tcp', weight: 100 }], statPrefix: 'tcp', authz: tcpAuthz } }],
    },
  ];
  const parts = {
    listeners,
    routes: [{ name: 'all', virtualHosts: [vhost('all', ['*'], [route('all', {}, forward('app'))])] }],
    clusters: [cluster('app'), cluster('tcp', { protocol: 'tcp' })],
    endpoints: [endpoints('app', [app.port]), endpoints('tcp', [tcpPort])],
    secrets: workloadSecrets(pki.ca, pki.server),
  };
  proxy = await startProxy({ ...proxyConfig(parts), mesh: { trustDomain: 'cluster.local', pathNormalization: 'DECODE_AND_MERGE_SLASHES', outboundTrafficPolicy: 'ALLOW_ANY' } });
  baseProxy = await startProxy(proxyConfig({ ...parts, listeners: [listener(82, [authz(ADMIN_DENY)])] }));
});

after(async () => {
  await proxy?.close();
  await baseProxy?.close();
  await app?.close();
  await new Promise<void>((r) => (tcpApp ? tcpApp.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- clients

interface Answer {
  status: number;
  body: string;
}

/** Raw HTTP/1.1 bytes; the status and body of the answer. */
async function raw(port: number, requestLine: string, headers: string[] = []): Promise<Answer> {
  const text = await sendRaw(port, `${requestLine}\r\nHost: app.example.com\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; tls?: { cert: string; key: string } } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, method: opts.method ?? 'GET', path, headers: { host: 'app.example.com', ...opts.headers }, agent: false as const };
    const onResponse = (res: http.IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = opts.tls
      ? https.request({ ...common, ...opts.tls, ca: pki.ca, checkServerIdentity: () => undefined }, onResponse)
      : http.request(common, onResponse);
    req.on('error', reject);
    req.end();
  });
}

function receivedSince(n: number): string[] {
  return app.received.slice(n).map((r) => `${r.method} ${r.url}`);
}

// ---------------------------------------------------------------- the seed's examples

test('seed 11: the DENY path prefix is 403 RBAC: access denied in every spelling; other paths pass', async () => {
  const before = app.received.length;
  for (const path of ['/v1/services/elasticsearch/clear', '/v1/services/elasticsearch/clearAll', '/v1/services//elasticsearch/clear', '/v1/services/elasticsearch/%63lear', '/v1/services%2Felasticsearch/clear?x=1']) {
    const denied = await raw(proxy.port('gateway:81'), `GET ${path} HTTP/1.1`);
    assert.deepEqual(denied, { status: 403, body: 'RBAC: access denied' }, path);
  }
  const ok = await get(proxy.port('gateway:81'), '/v1/services/elasticsearch/search');
  assert.equal(ok.status, 200);
  // The access log's view: no response flag, Envoy's RBAC code details naming the rule.
  const events: RequestEvent[] = [];
  const listen = (e: unknown) => events.push(e as RequestEvent);
  requestChannel.subscribe(listen);
  try {
    await get(proxy.port('gateway:81'), '/v1/services/elasticsearch/clear');
  } finally {
    requestChannel.unsubscribe(listen);
  }
  assert.deepEqual(events.map((e) => [e.status, e.flags, e.details]), [[403, '', 'rbac_access_denied_matched_policy[ns[application]-policy[application-deny-elasticsearch-clear]-rule[0]]']]);
  assert.deepEqual(receivedSince(before).filter((u) => u.includes('clear')), []);
});

test('seed example: deny when a header is missing', async () => {
  const port = proxy.port('gateway:83');
  assert.deepEqual(await get(port, '/reviews/1'), { status: 403, body: 'RBAC: access denied' });
  assert.equal((await get(port, '/reviews/1', { headers: { 'x-api-key': 'k' } })).status, 200);
  // An empty value is still a header that is present (Istio's `*` is a presence match).
  assert.equal((await raw(port, 'GET /reviews/1 HTTP/1.1', ['X-Api-Key:'])).status, 200);
});

test('seed example: deny when the JWT is not in group admin (real JWTs)', async () => {
  const port = proxy.port('gateway:84');
  const admin = await sign(key, { iss: ISSUER, sub: 'alice', groups: ['dev', 'admin'] });
  const dev = await sign(key, { iss: ISSUER, sub: 'bob', groups: ['dev'] });
  const single = await sign(key, { iss: ISSUER, sub: 'carol', groups: 'admin' });
  assert.equal((await get(port, '/ratings/1', { headers: { authorization: `Bearer ${admin}` } })).status, 200);
  assert.equal((await get(port, '/ratings/1', { headers: { authorization: `Bearer ${single}` } })).status, 200);
  assert.deepEqual(await get(port, '/ratings/1', { headers: { authorization: `Bearer ${dev}` } }), { status: 403, body: 'RBAC: access denied' });
  assert.equal((await get(port, '/ratings/1')).status, 403, 'no token: no groups claim, so not in admin');
  // A token signed by someone else never gets as far as authz: jwt-authn answers 401.
  const forged = await sign(await signingKey('k1'), { iss: ISSUER, sub: 'mallory', groups: ['admin'] });
  assert.equal((await get(port, '/ratings/1', { headers: { authorization: `Bearer ${forged}` } })).status, 401);
});

test('seed example: allow only GET (not POST) on an endpoint; everything else is denied', async () => {
  const port = proxy.port('gateway:85');
  const before = app.received.length;
  assert.equal((await get(port, '/details/1')).status, 200);
  assert.deepEqual(await get(port, '/details/1', { method: 'POST' }), { status: 403, body: 'RBAC: access denied' });
  assert.equal((await get(port, '/details/1', { method: 'PUT' })).status, 403);
  assert.equal((await get(port, '/other')).status, 403, 'an ALLOW policy denies what it does not allow');
  assert.deepEqual(receivedSince(before), ['GET /details/1']);
});

// ---------------------------------------------------------------- identities

test('mTLS: namespaces come from the client certificate; plaintext has no identity', async () => {
  const port = proxy.port('gateway:86');
  assert.equal((await get(port, '/', { tls: pki.sleep })).status, 200);
  assert.equal((await get(port, '/', { tls: pki.prod })).status, 403);
  assert.equal((await get(port, '/')).status, 403);
  // A certificate claiming the same identity but not issued by the mesh's CA never gets a principal.
  await assert.rejects(get(port, '/', { tls: pki.forged }));
  assert.equal((await get(port, '/', { tls: pki.sleep })).status, 200);
});

test('JWT: requestPrincipals is iss/sub of a verified token; audiences from aud', async () => {
  const port = proxy.port('gateway:88');
  const alice = await sign(key, { iss: ISSUER, sub: 'alice', aud: ['web', 'api'] });
  const aliceWeb = await sign(key, { iss: ISSUER, sub: 'alice', aud: 'web' });
  const bob = await sign(key, { iss: ISSUER, sub: 'bob', aud: 'api' });
  assert.equal((await get(port, '/', { headers: { authorization: `Bearer ${alice}` } })).status, 200);
  assert.equal((await get(port, '/', { headers: { authorization: `Bearer ${aliceWeb}` } })).status, 403);
  assert.equal((await get(port, '/', { headers: { authorization: `Bearer ${bob}` } })).status, 403);
  assert.equal((await get(port, '/')).status, 403);
});

test('TCP: a denied connection is closed before the upstream is dialled; an allowed one flows', async () => {
  const port = proxy.port('gateway:87');
  const talk = (who: { cert: string; key: string }) => new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...who, ca: pki.ca, ALPNProtocols: ['istio'], checkServerIdentity: () => undefined }, () => s.write('hi'));
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString();
      s.end();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(out));
  });
  const before = tcpAccepted;
  assert.equal(await talk(pki.prod), '');
  assert.equal(tcpAccepted, before, 'the denied connection never reached the upstream');
  assert.equal(await talk(pki.sleep), 'echo:hi');
  assert.equal(tcpAccepted, before + 1);
});

// ---------------------------------------------------------------- the bypass suite

/** Request lines for GET /admin in other spellings; each must be denied (403) or refused (400). */
const BYPASS: string[] = [
  'GET /admin HTTP/1.1',
  'GET /admin/ HTTP/1.1',
  'GET /admin/users HTTP/1.1',
  'GET //admin HTTP/1.1',
  'GET ///admin// HTTP/1.1',
  'GET /./admin HTTP/1.1',
  'GET /a/../admin HTTP/1.1',
  'GET /a/b/../../admin HTTP/1.1',
  'GET /../admin HTTP/1.1',
  'GET /x/..;/admin HTTP/1.1',
  'GET /%2e/admin HTTP/1.1',
  'GET /%2E%2E/admin HTTP/1.1',
  'GET /x/%2e%2e/admin HTTP/1.1',
  'GET /%2Fadmin HTTP/1.1',
  'GET /%2fadmin HTTP/1.1',
  'GET /%5Cadmin HTTP/1.1',
  'GET /%5cadmin HTTP/1.1',
  'GET /x%2F..%2Fadmin HTTP/1.1',
  'GET /x%5C..%5Cadmin HTTP/1.1',
  'GET \\admin HTTP/1.1',
  'GET /%61dmin HTTP/1.1',
  'GET /%61%64%6D%69%6E HTTP/1.1',
  'GET /admin;x HTTP/1.1',
  'GET /admin;jsessionid=1 HTTP/1.1',
  'GET /admin?x=1 HTTP/1.1',
  'GET /admin?/../public HTTP/1.1',
  'GET /admin# HTTP/1.1',
  'GET /admin#x HTTP/1.1',
  'GET /admin%23x HTTP/1.1',
  'GET /admin%252F HTTP/1.1',
  'GET /admin%2F HTTP/1.1',
  'GET /admin%20 HTTP/1.1',
  'GET /admin%00 HTTP/1.1',
  'GET /ad%00min HTTP/1.1',
  'GET http://app.example.com/admin HTTP/1.1',
  'GET http://app.example.com//admin HTTP/1.1',
  'HEAD /admin HTTP/1.1',
  'POST /admin HTTP/1.1',
  'DELETE /./admin/ HTTP/1.1',
  'GET /admin\tHTTP/1.1',
  'GET  /admin HTTP/1.1',
  'GET /admin HTTP/1.1 x',
  'GET admin HTTP/1.1',
  'GET %2Fadmin HTTP/1.1',
];

test(`bypass suite: ${BYPASS.length} spellings of a DENY path are all 403 or 400, and none reaches the app`, async () => {
  const port = proxy.port('gateway:82');
  const before = app.received.length;
  const answers: string[] = [];
  for (const line of BYPASS) {
    const { status } = await raw(port, line, line.startsWith('POST') ? ['Content-Length: 0'] : []);
    answers.push(`${status} ${JSON.stringify(line)}`);
  }
  assert.deepEqual(answers.filter((a) => !/^(403|400) /.test(a)), [], answers.join('\n'));
  assert.deepEqual(receivedSince(before), []);
  assert.ok(answers.filter((a) => a.startsWith('403')).length >= 25, 'most are decided by the policy, not the parser');
  // The control: the same proxy forwards what the policy does not cover.
  assert.equal((await raw(port, 'GET /public HTTP/1.1')).status, 200);
});

test('bypass suite over HTTP/2 and WebSocket upgrade', async () => {
  const port = proxy.port('gateway:82');
  const before = app.received.length;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  for (const path of ['/admin', '//admin', '/%2Fadmin', '/%61dmin', '/a/../admin']) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = client.request({ ':method': 'GET', ':path': path, ':authority': 'app.example.com' });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.resume();
      req.end();
    });
    assert.equal(status, 403, path);
  }
  client.close();
  const upgrade = await raw(port, 'GET /%2Fadmin HTTP/1.1', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']);
  assert.equal(upgrade.status, 403);
  assert.deepEqual(receivedSince(before), []);
});

test('pinned Istio behaviour: paths are case-sensitive, and %25 is decoded once at most', async () => {
  // Istio matches paths case-sensitively (its docs suggest lowercasing :path with a Lua filter for
  // case-insensitive apps), so /ADMIN is not the denied path and is forwarded unchanged.
  const port = proxy.port('gateway:82');
  const before = app.received.length;
  assert.equal((await raw(port, 'GET /ADMIN HTTP/1.1')).status, 200);
  // %25 is never decoded: the app gets `%2561dmin`, which decodes once to `%61dmin`, not `admin`.
  assert.equal((await raw(port, 'GET /%2561dmin HTTP/1.1')).status, 200);
  assert.deepEqual(receivedSince(before), ['GET /ADMIN', 'GET /%2561dmin']);
});

test('pinned Istio behaviour: with the default BASE normalization, slashes are neither decoded nor merged', async () => {
  // CVE-2021-31920: this is why Istio recommends MERGE_SLASHES / DECODE_AND_MERGE_SLASHES when a
  // policy denies paths. Dot segments and unreserved escapes are still normalized.
  const port = baseProxy.port('gateway:82');
  const before = app.received.length;
  assert.equal((await raw(port, 'GET /./admin HTTP/1.1')).status, 403);
  assert.equal((await raw(port, 'GET /%61dmin HTTP/1.1')).status, 403);
  assert.equal((await raw(port, 'GET //admin HTTP/1.1')).status, 200);
  assert.equal((await raw(port, 'GET /%2Fadmin HTTP/1.1')).status, 200);
  assert.deepEqual(receivedSince(before), ['GET //admin', 'GET /%2Fadmin']);
});

test('a config with a malformed policy is refused whole, naming the field, and the last good one keeps serving', async () => {
  const good = baseProxy.proxy.snapshot?.config;
  assert.ok(good);
  const bad = structuredClone(good);
  const chain = bad.listeners[0]!.filterChains[0]!;
  chain.http!.filters = [{ kind: 'authz', policies: [{ name: 'x', action: 'DENY', rules: [{ index: 0, from: [], to: [{ ports: ['80' as unknown as number] }], when: [] }] }] }];
  const result = await baseProxy.proxy.applyConfig({ ...bad, version: 'bad' });
  assert.equal(result.accepted, false);
  assert.match(result.errors.join('\n'), /listeners\[0\]\.filterChains\[0\]\.http\.filters\[0\]\.policies\[0\]\.rules\[0\]\.to\[0\]\.ports\[0\]: expected a finite number/);
  assert.equal((await raw(baseProxy.port('gateway:82'), 'GET /admin HTTP/1.1')).status, 403);
});

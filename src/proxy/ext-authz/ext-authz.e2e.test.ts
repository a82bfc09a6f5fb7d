/**
 * CUSTOM AuthorizationPolicies with an envoyExtAuthzHttp provider, end to end: a real proxy, a
 * real upstream, and a real ext_authz HTTP server written here that records every check it gets
 * (path with the prefix, headers, body) and answers as each test asks. The check goes through the
 * proxy's own upstream side (a cluster like any other), so an unreachable provider is a real
 * closed port and a timeout a provider that never answers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { repoPath } from '../../lib/repo.js';
import type { AuthorizationPolicy, ExtAuthzService, HttpFilter, Listener, ProxyConfig } from '../../proxy-config/index.js';
import { startProxy, startUpstream, send, type TestProxy, type TestUpstream, type Received } from '../test-kit.js';
import { cluster, endpoints, forward, proxyConfig, route, vhost } from '../test-config.js';
import { requestChannel, type RequestEvent } from '../events.js';

// ---------------------------------------------------------------- the ext_authz server

interface AuthzServer {
  port: number;
  checks: Received[];
  /** How it answers one check (default: 200 when `x-ext-authz: allow`, else 403 `denied by ext_authz`). */
  answer: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  close(): Promise<void>;
}

function defaultAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers['x-ext-authz'] === 'allow') {
    res.writeHead(200, { 'x-user': 'alice', 'x-not-listed': 'secret', 'x-allow-note': 'checked' });
    res.end();
    return;
  }
  res.writeHead(403, { 'content-type': 'text/plain', 'x-ext-authz-check-result': 'denied', 'x-hidden': 'no', 'www-authenticate': 'Bearer' });
  res.end('denied by ext_authz');
}

async function startAuthzServer(): Promise<AuthzServer> {
  const server: AuthzServer = { port: 0, checks: [], answer: defaultAnswer, close: async () => {} };
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      server.checks.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      server.answer(req, res, body);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  server.port = (s.address() as AddressInfo).port;
  server.close = () => {
    s.closeAllConnections();
    return new Promise((r) => s.close(() => r()));
  };
  return server;
}

// ---------------------------------------------------------------- config

function policy(name: string, action: AuthorizationPolicy['action'], paths: string[], extra: Partial<AuthorizationPolicy> = {}): AuthorizationPolicy {
  return { name: `ns[default]-policy[${name}]`, action, rules: [{ index: 0, from: [], to: [{ paths }], when: [] }], ...extra };
}

function provider(extra: Partial<ExtAuthzService> = {}): ExtAuthzService {
  return {
    provider: 'ext-authz-http', cluster: 'ext-authz', timeoutMs: 2000, pathPrefix: '/check', failOpen: false, statusOnError: 403,
    includeRequestHeaders: ['x-ext-authz', 'x-user-*'], includeAdditionalHeaders: [{ name: 'x-from-mesh', value: 'weft' }],
    headersToUpstreamOnAllow: ['x-user'], headersToDownstreamOnAllow: ['x-allow-note'], headersToDownstreamOnDeny: ['x-ext-authz-check-result'],
    ...extra,
  };
}

const CUSTOM = policy('ext-authz', 'CUSTOM', ['/checked/*', '/slow', '/broken'], { provider: 'ext-authz-http' });

function listener(port: number, filters: HttpFilter[]): Listener {
  return { name: `0.0.0.0_${port}`, direction: 'gateway', address: '0.0.0.0', port, filterChains: [{ name: `p${port}`, match: {}, protocol: 'http', http: { routeConfig: 'all', filters, statPrefix: 'inbound' } }] };
}

/** The authz filter the compiler emitted for productpage's inbound HTTP chain (read as data: the proxy does not import the compiler). */
function goldenFilter(): HttpFilter {
  const file = repoPath('src', 'compiler', 'testdata', 'security', 'authz-custom-provider.out.yaml');
  const config = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as ProxyConfig).find((c) => c.node.workload === 'productpage-v1');
  const chain = config?.listeners.find((l) => l.name === 'virtualInbound')?.filterChains.find((c) => c.protocol === 'http');
  const filter = chain?.http?.filters.find((f) => f.kind === 'authz');
  if (!filter) throw new Error(`no authz filter for productpage in ${file}`);
  return filter;
}

const GOLDEN_CLUSTER = 'outbound|8000||ext-authz.default.svc.cluster.local';

// ---------------------------------------------------------------- setup

let authz: AuthzServer;
let app: TestUpstream;
let closedPort: number;
let proxy: TestProxy;
const events: RequestEvent[] = [];
const onEvent = (e: unknown) => events.push(e as RequestEvent);

before(async () => {
  authz = await startAuthzServer();
  app = await startUpstream('app');
  // A port nothing listens on: the provider is unreachable.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const authzFilter = (policies: AuthorizationPolicy[], extAuthz: ExtAuthzService | undefined): HttpFilter => ({ kind: 'authz', policies, ...(extAuthz ? { extAuthz } : {}) });
  const listeners = [
    listener(81, [authzFilter([CUSTOM], provider())]),
    listener(82, [authzFilter([CUSTOM], provider({ timeoutMs: 300 }))]),
    listener(83, [authzFilter([CUSTOM], provider({ timeoutMs: 300, failOpen: true }))]),
    listener(84, [authzFilter([CUSTOM], provider({ cluster: 'ext-authz-down', statusOnError: 503 }))]),
    listener(85, [authzFilter([CUSTOM], provider({ includeRequestBody: { maxRequestBytes: 5, allowPartialMessage: true } }))]),
    listener(86, [authzFilter([CUSTOM], provider({ includeRequestBody: { maxRequestBytes: 5, allowPartialMessage: false } }))]),
    // Istio's order: CUSTOM, then DENY, then ALLOW.
    listener(87, [authzFilter([
      policy('deny-admin', 'DENY', ['/checked/admin']),
      CUSTOM,
      policy('allow-checked', 'ALLOW', ['/checked/*', '/open']),
    ], provider())]),
    listener(89, [authzFilter([CUSTOM], provider({ headersToDownstreamOnDeny: [] }))]),
    listener(90, [goldenFilter()]),
    // Dry-run: a DENY and an ALLOW that would block /checked/dry, evaluated but not enforced.
    listener(88, [authzFilter([
      policy('deny-dry', 'DENY', ['/dry'], { dryRun: true }),
      policy('allow-dry', 'ALLOW', ['/other'], { dryRun: true }),
    ], undefined)]),
  ];
  const parts = {
    listeners,
    routes: [{ name: 'all', virtualHosts: [vhost('all', ['*'], [route('all', {}, forward('app'))])] }],
    clusters: [cluster('app'), cluster('ext-authz'), cluster('ext-authz-down'), cluster(GOLDEN_CLUSTER)],
    endpoints: [endpoints('app', [app.port]), endpoints('ext-authz', [authz.port]), endpoints('ext-authz-down', [closedPort]), endpoints(GOLDEN_CLUSTER, [authz.port])],
  };
  proxy = await startProxy(proxyConfig(parts));
  requestChannel.subscribe(onEvent);
});

after(async () => {
  requestChannel.unsubscribe(onEvent);
  await proxy?.close();
  await app?.close();
  await authz?.close();
});

const port = (n: number) => proxy.port(`gateway:${n}`);

/** The access-log event of the last request to `path`. */
function eventFor(path: string): RequestEvent | undefined {
  return events.filter((e) => e.path === path).at(-1);
}

// ---------------------------------------------------------------- tests

test('allow: the check carries the prefix, method, Host, Authorization and the listed headers only; listed answer headers go up and down', async () => {
  const checks = authz.checks.length;
  const seen = app.received.length;
  const reply = await send(port(81), {
    path: '/checked/items?page=2', host: 'shop.example.com',
    headers: { 'x-ext-authz': 'allow', 'x-user-tier': 'gold', authorization: 'Bearer t0k', 'x-other': 'not sent', 'x-user': 'forged' },
  });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'app');
  assert.equal(reply.headers['x-allow-note'], 'checked');
  const [check] = authz.checks.slice(checks);
  assert.ok(check);
  assert.equal(check.method, 'GET');
  assert.equal(check.url, '/check/checked/items?page=2');
  assert.equal(check.headers.host, 'shop.example.com');
  assert.equal(check.headers.authorization, 'Bearer t0k');
  assert.equal(check.headers['x-ext-authz'], 'allow');
  assert.equal(check.headers['x-user-tier'], 'gold');
  assert.equal(check.headers['x-from-mesh'], 'weft');
  // No body in the check (the upstream client omits `content-length: 0` on a GET).
  assert.equal(check.body, '');
  assert.equal(check.headers['transfer-encoding'], undefined);
  assert.equal(check.headers['x-other'], undefined);
  const [up] = app.received.slice(seen);
  assert.ok(up);
  // The provider's x-user replaces the client's; headers it did not list stay with it.
  assert.equal(up.headers['x-user'], 'alice');
  assert.equal(up.headers['x-not-listed'], undefined);
});

test('deny: the provider\'s status, body and listed headers (plus WWW-Authenticate) reach the client, never the app; UAEX', async () => {
  const seen = app.received.length;
  const reply = await send(port(81), { path: '/checked/items' });
  assert.equal(reply.status, 403);
  assert.equal(reply.body, 'denied by ext_authz');
  assert.equal(reply.headers['x-ext-authz-check-result'], 'denied');
  assert.equal(reply.headers['www-authenticate'], 'Bearer');
  assert.equal(reply.headers['x-hidden'], undefined);
  assert.equal(app.received.length, seen);
  const event = eventFor('/checked/items');
  assert.equal(event?.flags, 'UAEX');
  assert.equal(event?.details, 'ext_authz_denied');
});

test('deny: the provider\'s own status (401) and body; with headersToDownstreamOnDeny empty every answer header but Host goes back', async () => {
  authz.answer = (_req, res) => {
    res.writeHead(401, { 'x-ext-authz-check-result': 'who are you', 'content-type': 'application/json', 'x-hidden': 'shown' });
    res.end('{"error":"login"}');
  };
  try {
    const listed = await send(port(81), { path: '/checked/login' });
    assert.equal(listed.status, 401);
    assert.equal(listed.body, '{"error":"login"}');
    assert.equal(listed.headers['x-ext-authz-check-result'], 'who are you');
    // Not listed: the local reply's own content type.
    assert.equal(listed.headers['content-type'], 'text/plain');
    assert.equal(listed.headers['x-hidden'], undefined);

    const all = await send(port(89), { path: '/checked/login' });
    assert.equal(all.status, 401);
    assert.equal(all.headers['content-type'], 'application/json');
    assert.equal(all.headers['x-hidden'], 'shown');
  } finally {
    authz.answer = defaultAnswer;
  }
});

test('requests the CUSTOM rules do not select are not checked', async () => {
  const checks = authz.checks.length;
  const reply = await send(port(81), { path: '/public' });
  assert.equal(reply.status, 200);
  assert.equal(authz.checks.length, checks);
});

test('failures: a timeout is statusOnError (403) with UAEX; failOpen lets it through; an unreachable provider; a 5xx answer', async () => {
  authz.answer = (req, res) => {
    if (req.url?.endsWith('/broken')) {
      res.writeHead(500);
      res.end('oops');
    }
    // `/slow` is never answered: the check times out (the server closes it at the end).
  };
  try {
    const timedOut = await send(port(82), { path: '/slow' });
    assert.equal(timedOut.status, 403);
    assert.equal(timedOut.body, '');
    assert.equal(eventFor('/slow')?.flags, 'UAEX');
    assert.equal(eventFor('/slow')?.details, 'ext_authz_error');

    const seen = app.received.length;
    const open = await send(port(83), { path: '/slow' });
    assert.equal(open.status, 200);
    assert.equal(app.received.length, seen + 1);

    const down = await send(port(84), { path: '/checked/x', headers: { 'x-ext-authz': 'allow' } });
    assert.equal(down.status, 503);
    assert.equal(eventFor('/checked/x')?.flags, 'UAEX');

    const broken = await send(port(81), { path: '/broken' });
    assert.equal(broken.status, 403);
    assert.equal(eventFor('/broken')?.details, 'ext_authz_error');
  } finally {
    authz.answer = defaultAnswer;
  }
});

test('includeRequestBodyInCheck: the first maxRequestBytes go to the check (partial flagged), the whole body upstream; without partial messages 413', async () => {
  const checks = authz.checks.length;
  const seen = app.received.length;
  const reply = await send(port(85), { method: 'POST', path: '/checked/upload', headers: { 'x-ext-authz': 'allow', 'content-type': 'text/plain' }, body: 'hello world' });
  assert.equal(reply.status, 200);
  const [check] = authz.checks.slice(checks);
  assert.equal(check?.body, 'hello');
  assert.equal(check?.headers['x-envoy-auth-partial-body'], 'true');
  assert.equal(check?.headers['content-length'], '5');
  assert.equal(app.received.slice(seen)[0]?.body, 'hello world');

  const small = await send(port(85), { method: 'POST', path: '/checked/small', headers: { 'x-ext-authz': 'allow' }, body: 'hi' });
  assert.equal(small.status, 200);
  assert.equal(authz.checks.at(-1)?.headers['x-envoy-auth-partial-body'], 'false');
  assert.equal(app.received.at(-1)?.body, 'hi');

  const before = authz.checks.length;
  const tooLarge = await send(port(86), { method: 'POST', path: '/checked/upload', headers: { 'x-ext-authz': 'allow' }, body: 'hello world' });
  assert.equal(tooLarge.status, 413);
  assert.equal(authz.checks.length, before);
});

test('order: CUSTOM is asked before DENY and ALLOW; its denial wins over ALLOW, its allow does not override DENY or a missing ALLOW', async () => {
  let checks = authz.checks.length;
  const denied = await send(port(87), { path: '/checked/admin', headers: { 'x-ext-authz': 'allow' } });
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'RBAC: access denied');
  assert.equal(authz.checks.length, checks + 1, 'CUSTOM ran first');

  const extDenied = await send(port(87), { path: '/checked/items' });
  assert.equal(extDenied.body, 'denied by ext_authz');

  const allowed = await send(port(87), { path: '/checked/items', headers: { 'x-ext-authz': 'allow' } });
  assert.equal(allowed.status, 200);

  checks = authz.checks.length;
  const notAllowed = await send(port(87), { path: '/elsewhere' });
  assert.equal(notAllowed.status, 403);
  assert.equal(notAllowed.body, 'RBAC: access denied');
  assert.equal(authz.checks.length, checks, 'not selected by CUSTOM');
});

test('dry-run: DENY and ALLOW policies are evaluated and counted, not enforced', async () => {
  const stats = proxy.proxy.services.stats;
  const deniedBefore = stats.get('rbac.istio_dry_run_deny_shadow_denied');
  const allowDeniedBefore = stats.get('rbac.istio_dry_run_allow_shadow_denied');
  const seen = app.received.length;
  const reply = await send(port(88), { path: '/dry' });
  assert.equal(reply.status, 200);
  assert.equal(app.received.length, seen + 1);
  assert.equal(stats.get('rbac.istio_dry_run_deny_shadow_denied'), deniedBefore + 1);
  assert.equal(stats.get('rbac.istio_dry_run_allow_shadow_denied'), allowDeniedBefore + 1);
  const other = await send(port(88), { path: '/other' });
  assert.equal(other.status, 200);
  assert.ok(stats.get('rbac.istio_dry_run_allow_shadow_allowed') >= 1);
  assert.ok(stats.get('rbac.istio_dry_run_deny_shadow_allowed') >= 1);
});

test('what the compiler emits for the golden case runs: prefix, additional header, body, dry-run DENY not enforced', async () => {
  const checks = authz.checks.length;
  const ok = await send(port(90), { method: 'POST', path: '/api/orders', headers: { 'x-ext-authz': 'allow', 'x-user-id': '7' }, body: '{"n":1}' });
  assert.equal(ok.status, 200);
  const [check] = authz.checks.slice(checks);
  assert.equal(check?.url, '/check/api/orders');
  assert.equal(check?.headers['x-from-mesh'], 'weft');
  assert.equal(check?.headers['x-user-id'], '7');
  assert.equal(check?.body, '{"n":1}');
  assert.equal(ok.headers['x-allow-note'], 'checked');

  const denied = await send(port(90), { path: '/headers' });
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'denied by ext_authz');
  // /admin is only denied by a dry-run policy, and CUSTOM does not select it.
  const before = authz.checks.length;
  assert.equal((await send(port(90), { path: '/admin/users' })).status, 200);
  assert.equal(authz.checks.length, before);
});

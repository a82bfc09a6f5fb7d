/**
 * The HTTP path end to end: a real proxy on port 0 serving a gateway listener, real upstreams
 * that record what they receive, and a table of requests with the response and the upstream
 * request each must produce (status, body, Envoy response flag, what the app saw).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { request as httpRequest, Agent } from 'node:http';
import type { RequestEvent } from './events.js';
import { startProxy, startUpstream, send, seededRandom, type TestProxy, type TestUpstream, type Reply, type Received } from './test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from './test-config.js';

let v1: TestUpstream, v2: TestUpstream, other: TestUpstream, slow: TestUpstream, flaky: TestUpstream;
let proxy: TestProxy;
let deadPort: number;
const events: RequestEvent[] = [];
const onEvent = (e: unknown) => events.push(e as RequestEvent);

before(async () => {
  [v1, v2, other, slow, flaky] = await Promise.all(['v1', 'v2', 'other', 'slow', 'flaky'].map(startUpstream)) as [TestUpstream, TestUpstream, TestUpstream, TestUpstream, TestUpstream];
  slow.handle((req, res, body) => {
    if (req.url?.startsWith('/echo')) {
      // Chunked back (no Content-Length), in several writes.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < body.length; i += 65536) res.write(body.slice(i, i + 65536));
      res.end();
      return;
    }
    setTimeout(() => res.end('late'), 1000).unref();
  });
  let flakyCalls = 0;
  flaky.handle((_req, res) => {
    flakyCalls++;
    res.writeHead(flakyCalls % 3 === 0 ? 200 : 503);
    res.end(`attempt ${flakyCalls}`);
  });
  const dead = await startUpstream('dead');
  deadPort = dead.port;
  await dead.close(); // a port nothing listens on: connection refused
  const reviews = vhost('reviews', ['reviews.example.com'], [
    route('jason', { path: { prefix: '/' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, forward('c-v2')),
    route('redirect', { path: { prefix: '/redirect' } }, { kind: 'redirect', path: '/new', code: 302 }),
    route('direct', { path: { exact: '/direct' } }, { kind: 'direct-response', status: 418, body: 'teapot' }, { responseHeaders: { set: { 'x-direct': 'yes' } } }),
    route('rewrite', { path: { prefix: '/rewrite' } }, forward('c-v1', { rewrite: { prefix: '/api', authority: 'internal.example' } })),
    route('headers', { path: { prefix: '/headers' } }, { kind: 'forward', clusters: [{ cluster: 'c-v1', weight: 100, requestHeaders: { set: { 'x-dest': 'd' } }, responseHeaders: { add: { 'x-dest-resp': 'd' } } }] }, {
      requestHeaders: { set: { 'x-set': 'route' }, add: { 'x-add': 'two' }, remove: ['x-remove'] },
      responseHeaders: { set: { 'x-resp': 'route' }, remove: ['x-upstream'] },
    }),
    route('abort', { path: { prefix: '/abort' } }, forward('c-v1'), { fault: { abort: { httpStatus: 503, percent: 100 } } }),
    route('delay', { path: { prefix: '/delay' } }, forward('c-v1'), { fault: { delay: { fixedDelayMs: 150, percent: 100 } } }),
    route('no-subset', { path: { prefix: '/no-subset' } }, { kind: 'cluster-not-found', cluster: 'outbound|80|v9|reviews' }),
    route('dead', { path: { prefix: '/dead' } }, forward('c-dead')),
    route('empty', { path: { prefix: '/empty' } }, forward('c-empty')),
    route('slow', { path: { prefix: '/slow' } }, forward('c-slow', { timeoutMs: 100 })),
    route('weighted', { path: { prefix: '/weighted' } }, { kind: 'forward', clusters: [{ cluster: 'c-v1', weight: 25 }, { cluster: 'c-v2', weight: 75 }] }),
    route('retry', { path: { prefix: '/retry' } }, forward('c-flaky', { retry: { attempts: 2, retryOn: ['5xx'], retriableStatusCodes: [], ignorePreviousHosts: true, backoffBaseMs: 1 } })),
    route('mirror', { path: { prefix: '/mirror' } }, forward('c-v1', { mirrors: [{ cluster: 'c-other', percent: 100 }] })),
    route('echo', { path: { prefix: '/echo' } }, forward('c-slow')),
    route('default', { path: { prefix: '/' } }, forward('c-v1')),
  ]);
  const config = proxyConfig({
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
    routes: [{ name: 'http.80', virtualHosts: [reviews, vhost('other', ['other.example.com'], [route('other', {}, forward('c-other'))])] }],
    clusters: ['c-v1', 'c-v2', 'c-other', 'c-dead', 'c-empty', 'c-slow', 'c-flaky'].map((n) => cluster(n)),
    endpoints: [
      endpoints('c-v1', [v1.port]),
      endpoints('c-v2', [v2.port]),
      endpoints('c-other', [other.port]),
      endpoints('c-dead', [deadPort]),
      endpoints('c-slow', [slow.port]),
      endpoints('c-flaky', [flaky.port]),
    ],
  });
  proxy = await startProxy(config, { proxy: { random: seededRandom(7) } });
  diagnostics.subscribe('weft:proxy:request', onEvent);
});

after(async () => {
  diagnostics.unsubscribe('weft:proxy:request', onEvent);
  await proxy.close();
  await Promise.all([v1, v2, other, slow, flaky].map((u) => u.close()));
});

const gw = (opts: Parameters<typeof send>[1]) => send(proxy.port('gateway:80'), opts);

/** The upstream request a reply caused: the last one `u` received after `before` requests. */
function sinceLast(u: TestUpstream, before: number): Received[] {
  return u.received.slice(before);
}

interface Scenario {
  name: string;
  request: Parameters<typeof send>[1];
  status: number;
  body?: string;
  flags?: string;
  upstream?: () => TestUpstream;
  check?: (reply: Reply, got: Received | undefined) => void;
}

const scenarios: Scenario[] = [
  { name: 'default route', request: { host: 'reviews.example.com', path: '/products?x=1' }, status: 200, body: 'v1', upstream: () => v1, check: (_r, got) => assert.equal(got?.url, '/products?x=1') },
  { name: 'host picks the virtual host', request: { host: 'other.example.com:80' }, status: 200, body: 'other', upstream: () => other },
  { name: 'header match', request: { host: 'reviews.example.com', headers: { 'end-user': 'jason' } }, status: 200, body: 'v2', upstream: () => v2 },
  { name: 'unknown host: 404 NR, empty body', request: { host: 'nobody.example.com' }, status: 404, body: '', flags: 'NR' },
  { name: 'path normalized before routing and forwarding', request: { host: 'reviews.example.com', path: '/a/b/../%2E%2E/c' }, status: 200, upstream: () => v1, check: (_r, got) => assert.equal(got?.url, '/c') },
  {
    name: 'redirect',
    request: { host: 'reviews.example.com', path: '/redirect/x?q=1' },
    status: 302,
    body: '',
    check: (r) => assert.equal(r.headers.location, 'http://reviews.example.com/new?q=1'),
  },
  { name: 'direct response with route response headers', request: { host: 'reviews.example.com', path: '/direct' }, status: 418, body: 'teapot', check: (r) => assert.equal(r.headers['x-direct'], 'yes') },
  {
    name: 'prefix rewrite and authority rewrite',
    request: { host: 'reviews.example.com', path: '/rewrite/items?id=3' },
    status: 200,
    upstream: () => v1,
    check: (_r, got) => {
      assert.equal(got?.url, '/api/items?id=3');
      assert.equal(got?.headers.host, 'internal.example');
      assert.equal(got?.headers['x-envoy-original-path'], '/rewrite/items?id=3');
    },
  },
  {
    name: 'request and response header operations, route and destination',
    request: { host: 'reviews.example.com', path: '/headers', headers: { 'x-add': 'one', 'x-remove': 'gone', 'x-set': 'client' } },
    status: 200,
    upstream: () => v1,
    check: (r, got) => {
      assert.equal(got?.headers['x-set'], 'route');
      assert.equal(got?.headers['x-add'], 'one, two');
      assert.equal(got?.headers['x-remove'], undefined);
      assert.equal(got?.headers['x-dest'], 'd');
      assert.equal(r.headers['x-resp'], 'route');
      assert.equal(r.headers['x-dest-resp'], 'd');
      assert.equal(r.headers['x-upstream'], undefined);
    },
  },
  { name: 'fault abort never reaches the upstream', request: { host: 'reviews.example.com', path: '/abort' }, status: 503, body: 'fault filter abort', flags: 'FI' },
  { name: 'cluster not found: 503 NC', request: { host: 'reviews.example.com', path: '/no-subset' }, status: 503, body: '', flags: 'NC' },
  {
    name: 'connection refused: 503 UF',
    request: { host: 'reviews.example.com', path: '/dead' },
    status: 503,
    body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
    flags: 'UF',
  },
  { name: 'no endpoints: 503 UH', request: { host: 'reviews.example.com', path: '/empty' }, status: 503, body: 'no healthy upstream', flags: 'UH' },
  { name: 'route timeout: 504 UT', request: { host: 'reviews.example.com', path: '/slow' }, status: 504, body: 'upstream request timeout', flags: 'UT' },
  {
    name: 'Envoy headers added for the upstream',
    request: { host: 'reviews.example.com', path: '/', headers: { 'x-forwarded-for': '10.1.1.1' } },
    status: 200,
    upstream: () => v1,
    check: (r, got) => {
      assert.match(String(got?.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(got?.headers['x-forwarded-proto'], 'http');
      assert.equal(got?.headers['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
      assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
    },
  },
];

test('requests in, responses and upstream requests out', async () => {
  for (const s of scenarios) {
    const u = s.upstream?.();
    const before = u?.received.length ?? 0;
    const eventsBefore = events.length;
    const reply = await gw(s.request);
    assert.equal(reply.status, s.status, `${s.name}: status (${reply.body})`);
    if (s.body !== undefined) assert.equal(reply.body, s.body, `${s.name}: body`);
    const got = u ? sinceLast(u, before) : [];
    if (u) assert.equal(got.length, 1, `${s.name}: ${u.name} got ${got.length} requests`);
    s.check?.(reply, got[0]);
    await waitFor(() => events.length > eventsBefore);
    const event = events[events.length - 1];
    assert.equal(event?.flags, s.flags ?? '', `${s.name}: flags`);
    assert.equal(event?.status, s.status, `${s.name}: event status`);
  }
  // The aborted request's route never sent anything upstream.
  assert.ok(!v1.received.some((r) => r.url === '/abort'));
});

test('fault delay holds the request for the configured time (flag DI)', async () => {
  const started = performance.now();
  const reply = await gw({ host: 'reviews.example.com', path: '/delay' });
  const elapsed = performance.now() - started;
  assert.equal(reply.status, 200);
  assert.ok(elapsed >= 145, `delayed ${elapsed.toFixed(0)} ms`);
  await waitFor(() => events.some((e) => e.path === '/delay'));
  assert.equal(events.find((e) => e.path === '/delay')?.flags, 'DI');
});

test('retries: two 503s then a 200, all three seen by the upstream', async () => {
  const before = flaky.received.length;
  const reply = await gw({ host: 'reviews.example.com', path: '/retry' });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'attempt 3');
  assert.equal(flaky.received.length - before, 3);
  await waitFor(() => events.some((e) => e.path === '/retry'));
  assert.equal(events.find((e) => e.path === '/retry')?.attempts, 3);
});

test('weights: 25/75 over 2,000 requests', async () => {
  const n = 2000;
  const agent = new Agent({ keepAlive: true, maxSockets: 20 });
  const before = { v1: v1.received.length, v2: v2.received.length };
  const replies = await Promise.all(Array.from({ length: n }, () => gw({ host: 'reviews.example.com', path: '/weighted', agent })));
  agent.destroy();
  assert.ok(replies.every((r) => r.status === 200));
  const toV1 = v1.received.length - before.v1;
  const toV2 = v2.received.length - before.v2;
  assert.equal(toV1 + toV2, n);
  // Binomial(2000, 0.25): sd ~19.4; 4 sd either side.
  assert.ok(Math.abs(toV1 - 500) < 78, `v1 got ${toV1} of ${n}`);
});

test('mirror: the copy goes to the mirror cluster with a -shadow host; the response is the primary one', async () => {
  const before = other.received.length;
  const reply = await gw({ host: 'reviews.example.com', path: '/mirror', method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
  assert.equal(reply.body, 'v1');
  await waitFor(() => other.received.length > before);
  const copy = other.received[other.received.length - 1];
  assert.equal(copy?.headers.host, 'reviews.example.com-shadow');
  assert.equal(copy?.body, 'payload');
  assert.equal(v1.received[v1.received.length - 1]?.body, 'payload');
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a client that leaves during a fault delay or a slow upstream is logged DC, nothing else breaks', async () => {
  for (const path of ['/delay', '/slow']) {
    const before = events.length;
    await new Promise<void>((resolve) => {
      const s = net.connect(proxy.port('gateway:80'), '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: reviews.example.com\r\n\r\n`));
      s.on('error', () => {});
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 50);
    });
    await waitFor(() => events.slice(before).some((e) => e.path === path));
    const event = events.slice(before).find((e) => e.path === path);
    assert.ok(event?.flags.split(',').includes('DC'), `${path}: ${event?.flags}`);
    assert.equal(event?.status, 0);
  }
  assert.equal((await gw({ host: 'reviews.example.com', path: '/' })).status, 200);
});

test('chunked bodies stream both ways (1 MiB up, 1 MiB back) on one keep-alive connection', async () => {
  const body = 'x'.repeat(1024 * 1024 - 3) + 'end';
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 3; i++) {
      const reply = await new Promise<Reply>((resolve, reject) => {
        const target = { host: '127.0.0.1', port: proxy.port('gateway:80'), method: 'POST', path: '/echo', headers: { host: 'reviews.example.com' }, agent };
        const req = httpRequest(target, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        // No Content-Length: the client sends it chunked.
        for (let j = 0; j < body.length; j += 100_000) req.write(body.slice(j, j + 100_000));
        req.end();
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['transfer-encoding'], 'chunked');
      assert.equal(reply.body.length, body.length);
      assert.ok(reply.body.endsWith('end'));
    }
    const got = slow.received.filter((r) => r.url === '/echo');
    assert.equal(got.length, 3);
    assert.equal(got[0]?.headers['transfer-encoding'], 'chunked');
    assert.equal(got[0]?.body.length, body.length);
  } finally {
    agent.destroy();
  }
});


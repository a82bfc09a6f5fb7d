/**
 * Retries and timeouts, counted at real upstreams. Backoff randomness is pinned to 0 so retries
 * follow at once; timeout tests use short real timers against upstreams that never answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { RetryPolicy } from '../../proxy-config/index.js';
import { Upstreams, UpstreamError } from './index.js';
import { assignment, closedPort, cluster, endpoint, readAll, startUpstream } from './fixtures.js';

const get = { method: 'GET', path: '/', headers: { host: 'svc' }, body: null };
const retry = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({
  attempts: 2,
  retryOn: ['5xx'],
  retriableStatusCodes: [],
  ignorePreviousHosts: true,
  backoffBaseMs: 25,
  ...overrides,
});

function upstreamsWith(...clusters: [string, ReturnType<typeof endpoint>[]][]): Upstreams {
  const u = new Upstreams({ random: () => 0 });
  u.apply(
    clusters.map(([name]) => cluster(name)),
    clusters.map(([name, eps]) => assignment(name, eps)),
  );
  return u;
}

test('5xx retries: two 503s then a 200, three requests reach the upstream', async (t) => {
  const up = await startUpstream('flaky', (_req, res, _rec, i) => {
    res.statusCode = i < 2 ? 503 : 200;
    res.end(`try ${i}`);
  });
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const res = await u.send('c', get, { retry: retry() });
  assert.equal(res.status, 200);
  assert.equal(await readAll(res.body), 'try 2');
  assert.equal(res.attempts, 3);
  assert.equal(up.requests.length, 3);
  assert.equal(u.snapshot()[0]?.counters.retries, 2);
});

test('retries exhausted: the last 503 is returned with URX', async (t) => {
  const up = await startUpstream('down', (_req, res) => {
    res.statusCode = 503;
    res.end('nope');
  });
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const res = await u.send('c', get, { retry: retry({ attempts: 3 }) });
  assert.equal(res.status, 503);
  assert.deepEqual(res.flags, ['URX']);
  assert.equal(await readAll(res.body), 'nope');
  assert.equal(up.requests.length, 4);
});

test('not retriable: a 503 under connect-failure only is returned as is', async (t) => {
  const up = await startUpstream('down', (_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const res = await u.send('c', get, { retry: retry({ retryOn: ['connect-failure'] }) });
  await readAll(res.body);
  assert.equal(res.attempts, 1);
  assert.deepEqual(res.flags, []);
  assert.equal(up.requests.length, 1);
});

test('connect-failure to a closed port retries on another endpoint', async (t) => {
  const up = await startUpstream('alive');
  const dead = endpoint(await closedPort());
  const u = new Upstreams({ random: () => 0 });
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' } })], [assignment('c', [dead, up.endpoint()])]);
  t.after(() => Promise.all([u.close(), up.close()]));
  for (let i = 0; i < 4; i++) {
    const res = await u.send('c', get, { retry: retry({ retryOn: ['connect-failure'] }) });
    assert.equal(await readAll(res.body), 'alive');
  }
  assert.equal(up.requests.length, 4);
  assert.ok((u.snapshot()[0]?.counters.connectFailures ?? 0) >= 2);
});

test('connect failures until retries run out: UF with URX and the retried body text', async (t) => {
  const u = upstreamsWith(['c', [endpoint(await closedPort())]]);
  t.after(() => u.close());
  await assert.rejects(u.send('c', get, { retry: retry({ retryOn: ['connect-failure'] }) }), (err: UpstreamError) => {
    assert.deepEqual(err.flags, ['UF', 'URX']);
    assert.equal(err.status, 503);
    assert.equal(err.body, 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure');
    return true;
  });
  assert.equal(u.snapshot()[0]?.endpoints[0]?.requestsTotal, 3);
});

test('per-try timeout: a hung first try is abandoned and the retry answers', async (t) => {
  const up = await startUpstream('slow-once', (_req, res, _rec, i) => {
    if (i > 0) res.end('second');
  });
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const res = await u.send('c', get, { retry: retry({ retryOn: ['reset'], perTryTimeoutMs: 80 }) });
  assert.equal(await readAll(res.body), 'second');
  assert.equal(res.attempts, 2);
  assert.equal(up.requests.length, 2);
  assert.equal(u.snapshot()[0]?.counters.perTryTimeouts, 1);
});

test('per-try timeout on every try: UT 504 "upstream request timeout" with URX', async (t) => {
  const up = await startUpstream('hung', () => {});
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  await assert.rejects(u.send('c', get, { retry: retry({ attempts: 1, perTryTimeoutMs: 50 }) }), (err: UpstreamError) => {
    assert.deepEqual(err.flags, ['UT', 'URX']);
    assert.equal(err.status, 504);
    assert.equal(err.body, 'upstream request timeout');
    return true;
  });
  assert.equal(up.requests.length, 2);
});

test('route timeout: UT 504, and no retry starts after it', async (t) => {
  const up = await startUpstream('hung', () => {});
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  await assert.rejects(u.send('c', get, { timeoutMs: 80, retry: retry({ retryOn: ['reset'] }) }), (err: UpstreamError) => err.flag === 'UT' && err.status === 504);
  assert.equal(up.requests.length, 1);
  assert.equal(u.snapshot()[0]?.counters.timeouts, 1);
});

test('route timeout after the headers cuts the body instead (no retry after bytes went downstream)', async (t) => {
  const up = await startUpstream('trickle', (_req, res) => {
    res.writeHead(200);
    res.write('partial');
  });
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const res = await u.send('c', get, { timeoutMs: 80, retry: retry({ retryOn: ['reset', '5xx'] }) });
  assert.equal(res.status, 200);
  await assert.rejects(readAll(res.body), (err: UpstreamError) => err.flag === 'UT');
  assert.equal(up.requests.length, 1);
});

test('a streamed request body is replayed intact on the retry', async (t) => {
  const up = await startUpstream('echo', (_req, res, rec, i) => {
    res.statusCode = i === 0 ? 503 : 200;
    res.end(rec.body);
  });
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const chunks = Array.from({ length: 50 }, (_, i) => Buffer.from(`chunk-${i};`));
  const res = await u.send('c', { method: 'POST', path: '/', headers: { host: 'svc' }, body: Readable.from(chunks) }, { retry: retry() });
  assert.equal(await readAll(res.body), Buffer.concat(chunks).toString());
  assert.deepEqual(up.requests.map((r) => r.body.length), [Buffer.concat(chunks).length, Buffer.concat(chunks).length]);
});

test('a body larger than the retry buffer is sent once and not retried', async (t) => {
  const up = await startUpstream('echo', (_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const u = new Upstreams({ random: () => 0, retryBufferLimitBytes: 1024 });
  u.apply([cluster('c')], [assignment('c', [up.endpoint()])]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const body = Readable.from(Array.from({ length: 8 }, () => Buffer.alloc(512, 'x')));
  const res = await u.send('c', { method: 'POST', path: '/', headers: { host: 'svc' }, body }, { retry: retry() });
  await readAll(res.body);
  assert.equal(res.status, 503);
  assert.equal(up.requests.length, 1);
  assert.equal(up.requests[0]?.body.length, 4096);
});

test('maxRetries 0: the retry overflows and the response carries UO', async (t) => {
  const up = await startUpstream('down', (_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const u = new Upstreams({ random: () => 0 });
  u.apply([cluster('c', { circuitBreakers: { ...cluster('x').circuitBreakers, maxRetries: 0 } })], [assignment('c', [up.endpoint()])]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const res = await u.send('c', get, { retry: retry() });
  await readAll(res.body);
  assert.deepEqual(res.flags, ['UO']);
  assert.equal(up.requests.length, 1);
  assert.equal(u.snapshot()[0]?.overflow.retries, 1);
});

test('the downstream going away stops the request: DC, nothing retried', async (t) => {
  const up = await startUpstream('hung', () => {});
  const u = upstreamsWith(['c', [up.endpoint()]]);
  t.after(() => Promise.all([u.close(), up.close()]));
  const ac = new AbortController();
  const sent = u.send('c', get, { signal: ac.signal, retry: retry({ retryOn: ['reset'] }) });
  while (up.requests.length === 0) await new Promise((r) => setTimeout(r, 2));
  ac.abort();
  await assert.rejects(sent, (err: UpstreamError) => err.flag === 'DC');
  assert.equal(up.requests.length, 1);
  assert.equal(u.snapshot()[0]?.activeRequests, 0);
});

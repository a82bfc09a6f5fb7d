/**
 * Circuit breakers under concurrent load against a real, slow upstream: what overflows fails
 * fast with UO and never reaches the upstream; what fits is served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CircuitBreakers } from '../../proxy-config/index.js';
import { Upstreams, UpstreamError, type UpstreamResponse } from './index.js';
import { assignment, cluster, readAll, startUpstream } from './fixtures.js';

const get = { method: 'GET', path: '/', headers: { host: 'svc' }, body: null };
const limits = (overrides: Partial<CircuitBreakers>): CircuitBreakers => ({ ...cluster('x').circuitBreakers, ...overrides });

async function fire(upstreams: Upstreams, n: number): Promise<(string | UpstreamError)[]> {
  return Promise.all(
    Array.from({ length: n }, () =>
      upstreams.send('c', get).then(
        (r: UpstreamResponse) => readAll(r.body),
        (e: UpstreamError) => e,
      ),
    ),
  );
}

test('Istio task shape (maxConnections 1, http1MaxPendingRequests 1): 10 concurrent requests, the rest overflow with UO', async (t) => {
  const slow = await startUpstream('slow', (_req, res) => setTimeout(() => res.end('ok'), 30));
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), slow.close()]));
  upstreams.apply([cluster('c', { circuitBreakers: limits({ maxConnections: 1, maxPendingRequests: 1 }) })], [assignment('c', [slow.endpoint()])]);

  const results = await fire(upstreams, 10);
  const ok = results.filter((r) => r === 'ok').length;
  const overflows = results.filter((r): r is UpstreamError => r instanceof UpstreamError);
  // A cold pool: the first request waits (pending) for the one connection, the others overflow.
  assert.equal(ok, 1);
  assert.equal(overflows.length, 9);
  for (const e of overflows) {
    assert.deepEqual(e.flags, ['UO']);
    assert.equal(e.status, 503);
    assert.equal(e.body, 'upstream connect error or disconnect/reset before headers. reset reason: overflow');
    assert.equal(e.headers['x-envoy-overloaded'], 'true');
  }
  assert.equal(slow.requests.length, 1);
  const snap = upstreams.snapshot()[0];
  assert.equal(snap?.overflow.pending, 9);
  assert.equal(snap?.connections, 1);

  // Warm: one request on the connection, one pending behind it, the third overflows.
  const warm = await fire(upstreams, 3);
  assert.deepEqual(warm.map((r) => (r instanceof UpstreamError ? r.flag : r)).sort(), ['UO', 'ok', 'ok']);
});

test('maxConnections caps connections across the cluster; requests queue instead', async (t) => {
  const slow = await startUpstream('slow', (_req, res) => setTimeout(() => res.end('ok'), 20));
  const ports = new Set<number>();
  const tracking = await startUpstream('t', (req, res) => {
    ports.add(req.socket.remotePort ?? 0);
    setTimeout(() => res.end('ok'), 20);
  });
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), slow.close(), tracking.close()]));
  upstreams.apply([cluster('c', { circuitBreakers: limits({ maxConnections: 2 }) })], [assignment('c', [tracking.endpoint()])]);
  const results = await fire(upstreams, 12);
  assert.ok(results.every((r) => r === 'ok'));
  assert.equal(ports.size, 2);
  assert.ok((upstreams.snapshot()[0]?.overflow.connections ?? 0) > 0);
});

test('maxRequests overflows with UO while that many requests are active', async (t) => {
  const slow = await startUpstream('slow', (_req, res) => setTimeout(() => res.end('ok'), 30));
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), slow.close()]));
  upstreams.apply([cluster('c', { circuitBreakers: limits({ maxRequests: 3 }) })], [assignment('c', [slow.endpoint()])]);
  const results = await fire(upstreams, 8);
  assert.equal(results.filter((r) => r === 'ok').length, 3);
  assert.ok(results.filter((r) => r instanceof UpstreamError).every((e) => (e as UpstreamError).flag === 'UO'));
  assert.equal(slow.requests.length, 3);
  assert.equal(upstreams.snapshot()[0]?.overflow.requests, 5);
});

test('maxRequestsPerConnection 1: every request gets a new connection', async (t) => {
  const ports = new Set<number>();
  const up = await startUpstream('a', (req, res) => {
    ports.add(req.socket.remotePort ?? 0);
    res.end('ok');
  });
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('c', { circuitBreakers: limits({ maxRequestsPerConnection: 1 }) })], [assignment('c', [up.endpoint()])]);
  for (let i = 0; i < 4; i++) await readAll((await upstreams.send('c', get)).body);
  assert.equal(ports.size, 4);
});

test('connections and counters return to zero once the load is gone', async (t) => {
  const up = await startUpstream('a', (_req, res) => setTimeout(() => res.end('ok'), 5));
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('c', { circuitBreakers: limits({ maxConnections: 4, maxPendingRequests: 100 }) })], [assignment('c', [up.endpoint()])]);
  await fire(upstreams, 50);
  const snap = upstreams.snapshot()[0];
  assert.equal(snap?.activeRequests, 0);
  assert.equal(snap?.pendingRequests, 0);
  assert.ok((snap?.connections ?? 0) <= 4);
  assert.equal(snap?.endpoints[0]?.requestsTotal, 50);
});

/**
 * Config updates while traffic flows: what stays keeps its connections and outlier state, what
 * goes drains, and no in-flight request fails because of an apply().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Upstreams, UpstreamError } from './index.js';
import { ManualClock, assignment, cluster, outlierDetection, readAll, startUpstream } from './fixtures.js';

const get = { method: 'GET', path: '/', headers: { host: 'svc' }, body: null };

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

test('removing an endpoint lets its in-flight request finish, then closes its connection', async (t) => {
  const held: ServerResponse[] = [];
  const old = await startUpstream('old', (_req, res) => held.push(res));
  const fresh = await startUpstream('fresh');
  const u = new Upstreams();
  t.after(() => Promise.all([u.close(), old.close(), fresh.close()]));
  u.apply([cluster('c')], [assignment('c', [old.endpoint()])]);

  const inflight = u.send('c', get);
  await until(() => held.length === 1);
  u.apply([cluster('c')], [assignment('c', [fresh.endpoint()])]);
  assert.equal(await readAll((await u.send('c', get)).body), 'fresh');
  const leaving = u.snapshot()[0]?.endpoints.find((e) => e.port === old.port);
  assert.equal(leaving?.draining, true);
  assert.equal(leaving?.activeRequests, 1);

  held[0]?.write('still ');
  held[0]?.end('here');
  assert.equal(await readAll((await inflight).body), 'still here');
  await until(() => !u.snapshot()[0]?.endpoints.some((e) => e.port === old.port));
  assert.equal(u.snapshot()[0]?.connections, 1);
});

test('an endpoint that stays keeps its keep-alive connection across apply()', async (t) => {
  const ports: number[] = [];
  const a = await startUpstream('a', (req, res) => {
    ports.push(req.socket.remotePort ?? 0);
    res.end('a');
  });
  const b = await startUpstream('b');
  const u = new Upstreams();
  t.after(() => Promise.all([u.close(), a.close(), b.close()]));
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' } })], [assignment('c', [a.endpoint()])]);
  await readAll((await u.send('c', get)).body);
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' }, circuitBreakers: { ...cluster('x').circuitBreakers, maxRequests: 100 } })], [assignment('c', [a.endpoint(), b.endpoint()])]);
  for (let i = 0; i < 4; i++) await readAll((await u.send('c', get)).body);
  assert.equal(ports.length, 3);
  assert.equal(new Set(ports).size, 1);
});

test('outlier ejection survives an apply() that keeps the endpoint', async (t) => {
  const bad = await startUpstream('bad', (_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const good = await startUpstream('good');
  const clock = new ManualClock();
  const u = new Upstreams({ now: clock.now, random: clock.random, setTimer: clock.setTimer });
  t.after(() => Promise.all([u.close(), bad.close(), good.close()]));
  const od = outlierDetection({ consecutive5xxErrors: 2, intervalMs: 1000, baseEjectionTimeMs: 10_000 });
  const config = cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' }, outlierDetection: od });
  u.apply([config], [assignment('c', [bad.endpoint(), good.endpoint()])]);
  for (let i = 0; i < 4; i++) await readAll((await u.send('c', get)).body);
  u.apply([{ ...config, connectTimeoutMs: 5000 }], [assignment('c', [bad.endpoint(3), good.endpoint()])]);
  assert.equal(u.snapshot()[0]?.endpoints.find((e) => e.port === bad.port)?.ejected, true);
  for (let i = 0; i < 5; i++) assert.equal(await readAll((await u.send('c', get)).body), 'good');
});

test('a removed cluster answers NC to new requests and finishes the ones in flight', async (t) => {
  const held: ServerResponse[] = [];
  const up = await startUpstream('up', (_req, res) => held.push(res));
  const u = new Upstreams();
  t.after(() => Promise.all([u.close(), up.close()]));
  u.apply([cluster('c')], [assignment('c', [up.endpoint()])]);
  const inflight = u.send('c', get);
  await until(() => held.length === 1);
  u.apply([], []);
  await assert.rejects(u.send('c', get), (err: UpstreamError) => err.flag === 'NC');
  assert.equal(u.snapshot()[0]?.draining, true);
  held[0]?.end('done');
  assert.equal(await readAll((await inflight).body), 'done');
  await until(() => u.snapshot().length === 0);
});

test('a connection setting change retires old connections without failing their requests', async (t) => {
  const held: ServerResponse[] = [];
  const up = await startUpstream('up', (_req, res) => held.push(res));
  const u = new Upstreams();
  t.after(() => Promise.all([u.close(), up.close()]));
  u.apply([cluster('c', { idleTimeoutMs: 60_000 })], [assignment('c', [up.endpoint()])]);
  const inflight = u.send('c', get);
  await until(() => held.length === 1);
  u.apply([cluster('c', { idleTimeoutMs: 30_000 })], [assignment('c', [up.endpoint()])]);
  const next = u.send('c', get);
  await until(() => held.length === 2);
  held.forEach((r) => r.end('ok'));
  assert.deepEqual(await Promise.all([inflight, next].map(async (p) => readAll((await p).body))), ['ok', 'ok']);
  await until(() => u.snapshot()[0]?.connections === 1);
});

/**
 * Outlier detection end to end: real upstreams, one failing; time moves only when the test
 * advances the injected clock, so ejection and return are observed without sleeping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutlierDetection } from '../../proxy-config/index.js';
import { Upstreams, UpstreamError } from './index.js';
import { ManualClock, assignment, closedPort, cluster, endpoint, outlierDetection, readAll, startUpstream } from './fixtures.js';

const get = { method: 'GET', path: '/', headers: { host: 'svc' }, body: null };
const outlier = (overrides: Partial<OutlierDetection> = {}): OutlierDetection => outlierDetection({ consecutive5xxErrors: 3, intervalMs: 1_000, ...overrides });

async function outcome(u: Upstreams): Promise<string> {
  try {
    const res = await u.send('c', get);
    return `${res.status} ${await readAll(res.body)}`;
  } catch (err) {
    return (err as UpstreamError).flag;
  }
}

test('three consecutive 5xx eject the endpoint; it returns after baseEjectionTime on the injected clock', async (t) => {
  const good = await startUpstream('good');
  const bad = await startUpstream('bad', (_req, res) => {
    res.statusCode = 500;
    res.end('bad');
  });
  const clock = new ManualClock();
  const u = new Upstreams({ now: clock.now, random: clock.random, setTimer: clock.setTimer });
  t.after(() => Promise.all([u.close(), good.close(), bad.close()]));
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' }, outlierDetection: outlier() })], [assignment('c', [good.endpoint(), bad.endpoint()])]);

  for (let i = 0; i < 6; i++) await outcome(u);
  assert.equal(bad.requests.length, 3);
  const ejected = u.snapshot()[0]?.endpoints.find((e) => e.port === bad.port);
  assert.equal(ejected?.ejected, true);
  assert.equal(ejected?.ejections, 1);
  assert.equal(ejected?.ejectedUntil, 30_000);
  assert.equal(u.snapshot()[0]?.outlierDetection?.ejectionsActive, 1);

  for (let i = 0; i < 10; i++) assert.equal(await outcome(u), '200 good');
  assert.equal(bad.requests.length, 3);

  clock.advance(29_000);
  assert.equal(u.snapshot()[0]?.endpoints.find((e) => e.port === bad.port)?.ejected, true);
  clock.advance(1_000);
  assert.equal(u.snapshot()[0]?.endpoints.find((e) => e.port === bad.port)?.ejected, false);
  const results = await Promise.all([outcome(u), outcome(u)]);
  assert.ok(results.includes('500 bad'));
  assert.equal(bad.requests.length, 4);
});

test('with maxEjectionPercent 10 and two endpoints, nothing is ejected (Envoy counts all hosts)', async (t) => {
  const bad = await startUpstream('bad', (_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const good = await startUpstream('good');
  const clock = new ManualClock();
  const u = new Upstreams({ now: clock.now, random: clock.random, setTimer: clock.setTimer });
  t.after(() => Promise.all([u.close(), good.close(), bad.close()]));
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' }, outlierDetection: outlier({ maxEjectionPercent: 10 }) })], [assignment('c', [good.endpoint(), bad.endpoint()])]);
  for (let i = 0; i < 10; i++) await outcome(u);
  assert.equal(bad.requests.length, 5);
  assert.equal(u.snapshot()[0]?.outlierDetection?.ejectionsOverflow, 1);
});

test('connect failures count as 5xx and eject a dead endpoint', async (t) => {
  const good = await startUpstream('good');
  const clock = new ManualClock();
  const u = new Upstreams({ now: clock.now, random: clock.random, setTimer: clock.setTimer });
  t.after(() => Promise.all([u.close(), good.close()]));
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' }, outlierDetection: outlier() })], [assignment('c', [good.endpoint(), endpoint(await closedPort())])]);
  const seen = [];
  for (let i = 0; i < 12; i++) seen.push(await outcome(u));
  assert.deepEqual(seen.filter((s) => s === 'UF').length, 3);
  assert.ok(seen.slice(6).every((s) => s === '200 good'));
});

test('minHealthPercent: when too few endpoints are healthy, traffic goes to all of them (panic)', async (t) => {
  const a = await startUpstream('a', (_req, res) => {
    res.statusCode = 500;
    res.end('a');
  });
  const b = await startUpstream('b');
  const clock = new ManualClock();
  const u = new Upstreams({ now: clock.now, random: clock.random, setTimer: clock.setTimer });
  t.after(() => Promise.all([u.close(), a.close(), b.close()]));
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' }, outlierDetection: outlier({ minHealthPercent: 60 }) })], [assignment('c', [a.endpoint(), b.endpoint()])]);
  for (let i = 0; i < 6; i++) await outcome(u);
  const snap = u.snapshot()[0];
  assert.equal(snap?.endpoints.find((e) => e.port === a.port)?.ejected, true);
  assert.equal(snap?.panic, true);
  const before = a.requests.length;
  for (let i = 0; i < 4; i++) await outcome(u);
  assert.equal(a.requests.length - before, 2);
});

/**
 * Load balancing observed at real upstream servers: each answers with its name, and the tests
 * count where requests landed. Randomness is seeded, so the statistical bounds are stable; each
 * bound is stated with its reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import type { LoadBalancer } from '../../proxy-config/index.js';
import { Upstreams } from './index.js';
import { assignment, cluster, readAll, seededRandom, startUpstream, type TestUpstream } from './fixtures.js';

const get = { method: 'GET', path: '/', headers: { host: 'svc' }, body: null };

async function setup(policy: LoadBalancer, weights: number[], seed = 1) {
  const servers = await Promise.all(weights.map((_, i) => startUpstream(`s${i}`)));
  const upstreams = new Upstreams({ random: seededRandom(seed) });
  upstreams.apply([cluster('c', { loadBalancer: policy })], [assignment('c', servers.map((s, i) => s.endpoint(weights[i])))]);
  const close = () => Promise.all([upstreams.close(), ...servers.map((s) => s.close())]);
  return { servers, upstreams, close };
}

async function tally(upstreams: Upstreams, n: number, hashKey?: (i: number) => string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const res = await upstreams.send('c', get, hashKey ? { hashKey: hashKey(i) } : {});
    const name = await readAll(res.body);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

test('ROUND_ROBIN: 2,000 requests split evenly over 3 endpoints (exactly, +-1)', async (t) => {
  const { upstreams, close } = await setup({ policy: 'ROUND_ROBIN' }, [1, 1, 1]);
  t.after(close);
  const counts = await tally(upstreams, 2000);
  for (const c of counts.values()) assert.ok(Math.abs(c - 2000 / 3) <= 1, String([...counts]));
});

test('ROUND_ROBIN honours weights: 1:3 gives 500 and 1,500 of 2,000', async (t) => {
  const { upstreams, close } = await setup({ policy: 'ROUND_ROBIN' }, [1, 3]);
  t.after(close);
  const counts = await tally(upstreams, 2000);
  assert.deepEqual(Object.fromEntries(counts), { s0: 500, s1: 1500 });
});

test('RANDOM: 2,000 requests, weights 1:1:2, each share within 4 points (about 4 sigma)', async (t) => {
  const { upstreams, close } = await setup({ policy: 'RANDOM' }, [1, 1, 2], 42);
  t.after(close);
  const counts = await tally(upstreams, 2000);
  const expected: Record<string, number> = { s0: 0.25, s1: 0.25, s2: 0.5 };
  for (const [name, c] of counts) assert.ok(Math.abs(c / 2000 - (expected[name] ?? 0)) < 0.04, `${name}: ${c}`);
});

/** A server that holds every request open until released, recording how many it holds. */
async function holdingServer(name: string): Promise<{ server: TestUpstream; held: ServerResponse[]; release(): void }> {
  const held: ServerResponse[] = [];
  const server = await startUpstream(name, (_req, res) => held.push(res));
  return { server, held, release: () => held.splice(0).forEach((r) => r.end(name)) };
}

/** Where a request landed: answered by another endpoint, or held by the busy one. */
async function landing(answered: Promise<unknown>, busy: { held: ServerResponse[] }, before: number): Promise<'busy' | 'other'> {
  let settled = false;
  void answered.then(() => (settled = true));
  while (!settled && busy.held.length === before) await new Promise((r) => setTimeout(r, 1));
  return busy.held.length > before ? 'busy' : 'other';
}

test('LEAST_REQUEST with two endpoints never picks the busy one while the other is idle', async (t) => {
  const busy = await holdingServer('busy');
  const idle = await startUpstream('idle');
  const upstreams = new Upstreams({ random: seededRandom(5) });
  t.after(() => {
    busy.release();
    return Promise.all([upstreams.close(), busy.server.close(), idle.close()]);
  });
  upstreams.apply([cluster('c', { loadBalancer: { policy: 'LEAST_REQUEST' } })], [assignment('c', [busy.server.endpoint(), idle.endpoint()])]);
  const pendingOnBusy: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    const before = busy.held.length;
    const p = upstreams.send('c', get).then((r) => readAll(r.body));
    if ((await landing(p, busy, before)) === 'busy') pendingOnBusy.push(p);
  }
  t.diagnostic(`busy endpoint got ${busy.held.length} of 200`);
  assert.ok(busy.held.length <= 1, `busy endpoint got ${busy.held.length}`);
  assert.ok(idle.requests.length >= 199);
  busy.release();
  await Promise.all(pendingOnBusy);
});

test('LEAST_REQUEST with four endpoints (power of two choices) sends a busy endpoint far less than its fair share', async (t) => {
  const busy = await holdingServer('busy');
  const others = await Promise.all(['a', 'b', 'c'].map((n) => startUpstream(n)));
  const upstreams = new Upstreams({ random: seededRandom(9) });
  t.after(() => {
    busy.release();
    return Promise.all([upstreams.close(), busy.server.close(), ...others.map((o) => o.close())]);
  });
  upstreams.apply([cluster('c', { loadBalancer: { policy: 'LEAST_REQUEST' } })], [assignment('c', [busy.server.endpoint(), ...others.map((o) => o.endpoint())])]);
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < 400; i++) {
    const before = busy.held.length;
    const p = upstreams.send('c', get).then((r) => readAll(r.body));
    if ((await landing(p, busy, before)) === 'busy') inflight.push(p);
  }
  // The busy endpoint is chosen only when both samples hit it: 1/16 of picks (25 of 400) versus
  // 100 for round robin. Bound at 40, more than 3 sigma above 25.
  t.diagnostic(`busy endpoint got ${busy.held.length} of 400`);
  assert.ok(busy.held.length <= 40, `busy endpoint got ${busy.held.length} of 400`);
  busy.release();
  await Promise.all(inflight);
});

test('RING_HASH: a hash key sticks to one endpoint, and adding an endpoint remaps only some keys', async (t) => {
  const { servers, upstreams, close } = await setup({ policy: 'RING_HASH', minimumRingSize: 1024 }, [1, 1, 1]);
  const extra = await startUpstream('s3');
  t.after(() => Promise.all([close(), extra.close()]));
  const keys = Array.from({ length: 300 }, (_, i) => `user-${i}`);
  const first = new Map<string, string>();
  for (const k of keys) {
    const a = await readAll((await upstreams.send('c', get, { hashKey: k })).body);
    const b = await readAll((await upstreams.send('c', get, { hashKey: k })).body);
    assert.equal(a, b, `key ${k} moved between two requests`);
    first.set(k, a);
  }
  assert.equal(new Set(first.values()).size, 3);
  upstreams.apply([cluster('c', { loadBalancer: { policy: 'RING_HASH', minimumRingSize: 1024 } })], [assignment('c', [...servers.map((s) => s.endpoint()), extra.endpoint()])]);
  let moved = 0;
  let toNew = 0;
  for (const k of keys) {
    const now = await readAll((await upstreams.send('c', get, { hashKey: k })).body);
    if (now !== first.get(k)) moved++;
    if (now === 's3') toNew++;
  }
  t.diagnostic(`after adding an endpoint: ${moved} of ${keys.length} keys moved, ${toNew} to the new one`);
  // Ideal is 25%; Envoy's ring gives existing hosts fewer points too (see lb/ring-hash.test.ts).
  assert.ok(toNew > 0.12 * keys.length && toNew < 0.38 * keys.length, `new endpoint took ${toNew}`);
  assert.ok(moved < 0.45 * keys.length, `moved ${moved} of ${keys.length}`);
});

test('MAGLEV: sticky keys, and adding an endpoint moves almost only the keys it takes', async (t) => {
  const { servers, upstreams, close } = await setup({ policy: 'MAGLEV', tableSize: 65537 }, [1, 1, 1]);
  const extra = await startUpstream('s3');
  t.after(() => Promise.all([close(), extra.close()]));
  const keys = Array.from({ length: 300 }, (_, i) => `session-${i}`);
  const first = new Map<string, string>();
  for (const k of keys) first.set(k, await readAll((await upstreams.send('c', get, { hashKey: k })).body));
  upstreams.apply([cluster('c', { loadBalancer: { policy: 'MAGLEV', tableSize: 65537 } })], [assignment('c', [...servers.map((s) => s.endpoint()), extra.endpoint()])]);
  let movedElsewhere = 0;
  for (const k of keys) {
    const now = await readAll((await upstreams.send('c', get, { hashKey: k })).body);
    if (now !== first.get(k) && now !== 's3') movedElsewhere++;
  }
  t.diagnostic(`${movedElsewhere} of ${keys.length} keys moved between old endpoints`);
  assert.ok(movedElsewhere <= 6, `${movedElsewhere} keys moved between old endpoints`);
});

/**
 * Locality load balancing end to end: real upstream servers on loopback record the requests they
 * get; endpoints carry the priorities and locality weights the compiler writes (for failover
 * priority and distribute, the very endpoints of the golden file
 * src/compiler/testdata/locality/locality-lb.out.yaml, each address mapped to a live server).
 * Time moves only with the injected clock, so ejection and return need no sleeping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ClusterLoadAssignment, Endpoint, LoadBalancer, RetryPolicy } from '../../proxy-config/index.js';
import { seededRandom } from '../../lib/random.js';
import { repoPath } from '../../lib/repo.js';
import { Upstreams, UpstreamError } from './index.js';
import { ManualClock, assignment, cluster, outlierDetection, readAll, startUpstream, type TestUpstream } from './fixtures.js';

const get = { method: 'GET', path: '/', headers: { host: 'svc' }, body: null };
const outlier = outlierDetection({ consecutive5xxErrors: 1, intervalMs: 1_000 });

type Server = TestUpstream & { failing: boolean };

/** A server that answers 200 with its name, or 500 while `failing` is set. */
async function server(name: string): Promise<Server> {
  const s = Object.assign(await startUpstream(name, (_req, res) => {
    res.statusCode = s.failing ? 500 : 200;
    res.end(name);
  }), { failing: false });
  return s;
}

async function servers<const N extends readonly string[]>(...names: N): Promise<{ [K in keyof N]: Server }> {
  return (await Promise.all(names.map(server))) as { [K in keyof N]: Server };
}

function placed(s: TestUpstream, locality: string, priority: number, localityWeight?: number): Endpoint {
  return { ...s.endpoint(), locality, ...(priority > 0 ? { priority } : {}), ...(localityWeight !== undefined ? { localityWeight } : {}) };
}

async function send(u: Upstreams, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    try {
      await readAll((await u.send('c', get)).body);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
    }
  }
}

function hits(servers: TestUpstream[]): number {
  return servers.reduce((n, s) => n + s.requests.length, 0);
}

function reset(servers: TestUpstream[]): void {
  for (const s of servers) s.requests.length = 0;
}

test('all traffic stays in the proxy\'s locality while it is healthy (ROUND_ROBIN, LEAST_REQUEST, RANDOM)', async (t) => {
  const [a1, a2, zone, region] = await servers('a1', 'a2', 'zone', 'region');
  const clock = new ManualClock();
  const u = new Upstreams({ now: clock.now, random: clock.random, setTimer: clock.setTimer });
  t.after(() => Promise.all([u.close(), a1.close(), a2.close(), zone.close(), region.close()]));
  const endpoints = [placed(a1, 'us-east/a', 0), placed(a2, 'us-east/a', 0), placed(zone, 'us-east/b', 1), placed(region, 'eu-west/a', 2)];
  for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'] as const) {
    reset([a1, a2, zone, region]);
    u.apply([cluster('c', { loadBalancer: { policy }, outlierDetection: outlier })], [assignment('c', endpoints)]);
    await send(u, 500);
    assert.equal(hits([a1, a2]), 500, policy);
    assert.equal(hits([zone, region]), 0, `${policy}: nothing leaves the locality`);
    assert.ok(a1.requests.length > 100 && a2.requests.length > 100, `${policy}: both local endpoints serve`);
  }
});

test('ejecting the local endpoints moves traffic to the next priority, never further; it returns when they recover', async (t) => {
  const [a1, a2, zone, region] = await servers('a1', 'a2', 'zone', 'region');
  const local = [a1, a2];
  const all = [a1, a2, zone, region];
  const clock = new ManualClock(5);
  const u = new Upstreams({ now: clock.now, random: clock.random, setTimer: clock.setTimer });
  t.after(() => Promise.all([u.close(), ...all.map((s) => s.close())]));
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' }, outlierDetection: outlier })], [assignment('c', [placed(a1, 'us-east/a', 0), placed(a2, 'us-east/a', 0), placed(zone, 'us-east/b', 1), placed(region, 'eu-west/a', 2)])]);

  // One local endpoint ejected: P0 is 1/2 available, health 70, so P1 takes 30% (Envoy's 1.4 rule).
  a1.failing = true;
  await send(u, 1);
  await send(u, 1);
  assert.equal(u.snapshot()[0]?.endpoints.filter((e) => e.ejected).length, 1);
  reset(all);
  await send(u, 2000);
  const spilled = zone.requests.length;
  assert.ok(Math.abs(spilled - 600) <= 100, `P1 gets 30% +- 5% of 2000: ${spilled}`);
  assert.equal(region.requests.length, 0, 'P2 gets nothing while P0 + P1 cover 100');

  // Both local endpoints ejected: all of it to P1, still nothing to P2.
  a2.failing = true;
  for (let i = 0; i < 20 && u.snapshot()[0]?.endpoints.filter((e) => e.ejected).length !== 2; i++) await send(u, 1);
  assert.equal(u.snapshot()[0]?.endpoints.filter((e) => e.ejected).length, 2);
  reset(all);
  await send(u, 200);
  assert.equal(zone.requests.length, 200);
  assert.equal(hits([a1, a2, region]), 0);

  // They recover and their ejection time passes: traffic comes home.
  for (const s of local) s.failing = false;
  clock.advance(31_000);
  assert.equal(u.snapshot()[0]?.endpoints.filter((e) => e.ejected).length, 0);
  reset(all);
  await send(u, 200);
  assert.equal(hits(local), 200);
  assert.equal(hits([zone, region]), 0);
});

/** One compiled cluster of the locality golden file, with each endpoint on a live server. */
async function compiled(t: { after(fn: () => unknown): void }, clusterName: string, lb: LoadBalancer): Promise<{ u: Upstreams; clock: ManualClock; byAddress: Map<string, Server>; endpoints: Endpoint[] }> {
  const docs = readFileSync(repoPath('src', 'compiler', 'testdata', 'locality', 'locality-lb.out.yaml'), 'utf8');
  const config = parse(docs) as { endpoints: ClusterLoadAssignment[] };
  const cla = config.endpoints.find((e) => e.cluster === clusterName);
  assert.ok(cla, `${clusterName} in the golden file`);
  const byAddress = new Map<string, Server>();
  const endpoints: Endpoint[] = [];
  for (const ep of cla.endpoints) {
    const s = await server(ep.address);
    byAddress.set(ep.address, s);
    endpoints.push({ ...ep, address: '127.0.0.1', port: s.port, tlsMode: 'disabled' });
  }
  const clock = new ManualClock(11);
  const u = new Upstreams({ now: clock.now, random: clock.random, setTimer: clock.setTimer });
  t.after(() => Promise.all([u.close(), ...[...byAddress.values()].map((s) => s.close())]));
  u.apply([cluster('c', { loadBalancer: lb, outlierDetection: outlier })], [assignment('c', endpoints)]);
  return { u, clock, byAddress, endpoints };
}

test('compiled distribute (70% us-east/a, 30% us-west/*): 2,000 requests split 70/30 within 4%', async (t) => {
  const { u, byAddress, endpoints } = await compiled(t, 'outbound|8080||distribute.geo.svc.cluster.local', { policy: 'LEAST_REQUEST' });
  assert.deepEqual(endpoints.map((e) => `${e.locality}:${e.localityWeight}`).sort(), ['us-east/a:70', 'us-east/a:70', 'us-west/a:30', 'us-west/a:30']);
  await send(u, 2000);
  const east = hits(['10.244.0.19', '10.244.0.20'].map((a) => byAddress.get(a) as TestUpstream));
  const west = hits(['10.244.0.23', '10.244.0.24'].map((a) => byAddress.get(a) as TestUpstream));
  assert.equal(east + west, 2000);
  assert.ok(Math.abs(east - 1400) <= 80, `us-east/a: ${east} of 2000`);
});

test('compiled failoverPriority [team, region]: same team and region first, then same team elsewhere, the other team last', async (t) => {
  const { u, byAddress } = await compiled(t, 'outbound|8080||failover-priority.geo.svc.cluster.local', { policy: 'ROUND_ROBIN' });
  const at = (...addresses: string[]) => addresses.map((a) => byAddress.get(a) as Server);
  const sameTeamRegion = at('10.244.0.20', '10.244.0.21');
  const sameTeamElsewhere = at('10.244.0.22', '10.244.0.23', '10.244.0.24');
  const otherTeam = at('10.244.0.19');
  const all = [...sameTeamRegion, ...sameTeamElsewhere, ...otherTeam];
  await send(u, 300);
  assert.equal(hits(sameTeamRegion), 300);

  for (const s of sameTeamRegion) s.failing = true;
  for (let i = 0; i < 20 && u.snapshot()[0]?.endpoints.filter((e) => e.ejected).length !== 2; i++) await send(u, 1);
  reset(all);
  await send(u, 300);
  assert.equal(hits(sameTeamElsewhere), 300, 'to the same team in other regions');
  assert.equal(hits(otherTeam), 0, 'never to the other team while the team has endpoints');

  for (const s of sameTeamElsewhere) s.failing = true;
  for (let i = 0; i < 30 && u.snapshot()[0]?.endpoints.filter((e) => e.ejected).length !== 5; i++) await send(u, 1);
  reset(all);
  await send(u, 100);
  assert.equal(hits(otherTeam), 100, 'the other team once the team is gone');
});

/** A server that always answers `status` with its name. */
async function answering(name: string, status: number): Promise<TestUpstream> {
  return startUpstream(name, (_req, res) => {
    res.statusCode = status;
    res.end(name);
  });
}

const retryOn5xx = (attempts: number, retryRemoteLocalities: boolean): RetryPolicy => ({
  attempts, retryOn: ['5xx'], retriableStatusCodes: [], ignorePreviousHosts: true, backoffBaseMs: 1, ...(retryRemoteLocalities ? { retryRemoteLocalities } : {}),
});

async function statuses(u: Upstreams, n: number, retry: RetryPolicy): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await u.send('c', get, { retry });
    await readAll(res.body);
    out.push(res.status);
  }
  return out;
}

test('retryRemoteLocalities: the second retry skips the priorities already tried (Istio\'s update frequency 2); without it retries stay local', async (t) => {
  const [local, remote] = await Promise.all([answering('local', 503), answering('remote', 200)]);
  const u = new Upstreams({ random: seededRandom(7) });
  t.after(() => Promise.all([u.close(), local.close(), remote.close()]));
  u.apply([cluster('c', { loadBalancer: { policy: 'ROUND_ROBIN' } })], [assignment('c', [placed(local, 'us-east/a', 0), placed(remote, 'us-west/a', 1)])]);
  const n = 20;

  // Attempt, first retry (usual loads: P0 again), second retry (P0 skipped): remote every time.
  assert.deepEqual(await statuses(u, n, retryOn5xx(2, true)), Array(n).fill(200));
  assert.equal(local.requests.length, 2 * n);
  assert.equal(remote.requests.length, n);

  reset([local, remote]);
  assert.deepEqual(await statuses(u, n, retryOn5xx(1, true)), Array(n).fill(503), 'a single retry still balances as usual');
  assert.equal(remote.requests.length, 0);

  reset([local, remote]);
  assert.deepEqual(await statuses(u, n, retryOn5xx(2, false)), Array(n).fill(503), 'without the flag every retry lands locally again');
  assert.equal(local.requests.length, 3 * n);
  assert.equal(remote.requests.length, 0);
});

test('retryRemoteLocalities: once every priority was tried, retries fall back to the usual loads', async (t) => {
  const [local, remote] = await Promise.all([answering('local', 503), answering('remote', 503)]);
  const u = new Upstreams({ random: seededRandom(9) });
  t.after(() => Promise.all([u.close(), local.close(), remote.close()]));
  u.apply([cluster('c', { loadBalancer: { policy: 'LEAST_REQUEST' } })], [assignment('c', [placed(local, 'us-east/a', 0), placed(remote, 'us-west/a', 1)])]);
  const n = 10;
  // Attempts: P0, P0 (usual), P1 (P0 skipped), P1 (same skip until the 4th attempt), P0 (all skipped: usual loads).
  assert.deepEqual(await statuses(u, n, retryOn5xx(4, true)), Array(n).fill(503));
  assert.equal(local.requests.length, 3 * n);
  assert.equal(remote.requests.length, 2 * n);
});

/**
 * Priority levels and locality weights on their own: loads per level as Envoy computes them
 * (overprovisioning 1.4, normalisation, panic), and which hosts a level picks from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadBalancer as LoadBalancerConfig } from '../../../proxy-config/index.js';
import { seededRandom } from '../../../lib/random.js';
import { createPrioritySet } from './index.js';
import type { Placement } from './priority.js';

interface FakeHost {
  key: string;
  weight: number;
  activeRequests: number;
  place: Placement;
  up: boolean;
}

function hosts(spec: [priority: number, locality: string, up: boolean, localityWeight?: number][]): FakeHost[] {
  return spec.map(([priority, locality, up, localityWeight], i) => ({
    key: `10.0.0.${i}:80`, weight: 1, activeRequests: 0, up,
    place: { priority, locality, ...(localityWeight !== undefined ? { localityWeight } : {}) },
  }));
}

const RR: LoadBalancerConfig = { policy: 'ROUND_ROBIN' };

function build(list: FakeHost[], threshold = 0, config: LoadBalancerConfig = RR) {
  return createPrioritySet(config, list, (h) => h.up, (h) => h.place, threshold, seededRandom(3));
}

function counts(list: FakeHost[], n: number, threshold = 0, config: LoadBalancerConfig = RR): Map<string, number> {
  const { lb } = build(list, threshold, config);
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = lb.pick({ attempt: 0 });
    if (h) out.set(h.place.locality, (out.get(h.place.locality) ?? 0) + 1);
  }
  return out;
}

test('level loads: healthy P0 takes all; below 1/1.4 available it spills by the overprovisioning rule', () => {
  const table: [string, [number, string, boolean][], number[]][] = [
    ['all healthy', [[0, 'a', true], [0, 'a', true], [1, 'b', true]], [100, 0]],
    ['P0 at 3/4 (105% -> 100)', [[0, 'a', true], [0, 'a', true], [0, 'a', true], [0, 'a', false], [1, 'b', true]], [100, 0]],
    ['P0 at 1/2 (70%)', [[0, 'a', true], [0, 'a', false], [1, 'b', true]], [70, 30]],
    ['P0 down', [[0, 'a', false], [0, 'a', false], [1, 'b', true]], [0, 100]],
    ['P0 1/4, P1 1/4: 35 + 35 normalised', [[0, 'a', true], [0, 'a', false], [0, 'a', false], [0, 'a', false], [1, 'b', true], [1, 'b', false], [1, 'b', false], [1, 'b', false]], [50, 50]],
    ['three levels, P0 1/2, P1 1/3 (46), P2 healthy', [[0, 'a', true], [0, 'a', false], [1, 'b', true], [1, 'b', false], [1, 'b', false], [2, 'c', true]], [70, 30, 0]],
  ];
  for (const [name, spec, loads] of table) assert.deepEqual(build(hosts(spec)).loads, loads, name);
});

test('panic: below 100 in total, a level under minHealthPercent uses all its hosts; all in panic, load by host count', () => {
  const none = hosts([[0, 'a', false], [0, 'a', false], [1, 'b', false], [1, 'b', false], [1, 'b', false], [1, 'b', false]]);
  const set = build(none, 50);
  assert.equal(set.panic, true);
  assert.deepEqual(set.loads, [34, 66]);
  assert.ok(set.lb.pick({ attempt: 0 }), 'panic picks an unhealthy host rather than none');
  const off = build(none, 0);
  assert.equal(off.panic, false);
  assert.equal(off.lb.pick({ attempt: 0 }), undefined, 'panic threshold 0 disables panic: no host');
});

test('locality weights within a level: EDF by weight, reduced by each locality\'s available share', () => {
  // EDF is exact up to float rounding at the schedule's ties: within 2 picks.
  const near = (actual: number | undefined, expected: number, what: string) => assert.ok(Math.abs((actual ?? 0) - expected) <= 2, `${what}: ${actual} vs ${expected}`);
  const even = counts(hosts([[0, 'a', true, 80], [0, 'a', true, 80], [0, 'b', true, 20]]), 1000);
  near(even.get('a'), 800, 'a');
  near(even.get('b'), 200, 'b');
  // Locality a at 1/4 available: 80 x min(1, 1.4 x 0.25) = 28 against b's 20.
  const degraded = counts(hosts([[0, 'a', true, 80], [0, 'a', false, 80], [0, 'a', false, 80], [0, 'a', false, 80], [0, 'b', true, 20]]), 960);
  near(degraded.get('a'), 560, 'degraded a');
  near(degraded.get('b'), 400, 'degraded b');
});

test('consistent hashing chooses the level by hash % 100 and keeps a key on one host', () => {
  const list = hosts([[0, 'a', true], [0, 'a', false], [1, 'b', true]]);
  const { lb, loads } = build(list, 0, { policy: 'RING_HASH', minimumRingSize: 64 });
  assert.deepEqual(loads, [70, 30]);
  // hash % 100 + 1 <= 70 lands in P0, above it in P1.
  assert.equal(lb.pick({ attempt: 0, hash: 69n })?.place.locality, 'a');
  assert.equal(lb.pick({ attempt: 0, hash: 70n })?.place.locality, 'b');
  assert.equal(lb.pick({ attempt: 0, hash: 12345n })?.key, lb.pick({ attempt: 0, hash: 12345n })?.key);
});

/** A 64-bit request hash spread over the whole ring. */
function randomHash(random: () => number): bigint {
  return (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
}

test('RING_HASH and MAGLEV weigh hosts by their locality\'s share of the level (Envoy\'s normalizeLocalityWeights)', () => {
  // Locality a (weight 3) has one host, b (weight 1) three: a's host takes 3/4 of the keys, not 1/4.
  const list = hosts([[0, 'a', true, 3], [0, 'b', true, 1], [0, 'b', true, 1], [0, 'b', true, 1]]);
  const unweighted = hosts([[0, 'a', true], [0, 'b', true], [0, 'b', true], [0, 'b', true]]);
  const share = (l: FakeHost[], config: LoadBalancerConfig): number => {
    const { lb } = build(l, 0, config);
    let a = 0;
    const n = 4000;
    const random = seededRandom(11);
    for (let i = 0; i < n; i++) {
      if (lb.pick({ attempt: 0, hash: randomHash(random) })?.place.locality === 'a') a++;
    }
    return a / n;
  };
  for (const config of [{ policy: 'RING_HASH', minimumRingSize: 1024 }, { policy: 'MAGLEV' }] as LoadBalancerConfig[]) {
    const weighted = share(list, config);
    assert.ok(weighted > 0.7 && weighted < 0.8, `${config.policy}: locality a takes ~75% (${weighted})`);
    const plain = share(unweighted, config);
    assert.ok(plain > 0.2 && plain < 0.3, `${config.policy}: without locality weights one host of four takes ~25% (${plain})`);
  }
  // A locality with no available host keeps its weight in the sum: the others keep their proportions.
  const down = hosts([[0, 'a', false, 3], [0, 'b', true, 1], [0, 'c', true, 2], [0, 'c', true, 2]]);
  const { lb } = build(down, 0, { policy: 'RING_HASH', minimumRingSize: 1024 });
  const random = seededRandom(5);
  const seen = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const loc = lb.pick({ attempt: 0, hash: randomHash(random) })?.place.locality ?? 'none';
    seen.set(loc, (seen.get(loc) ?? 0) + 1);
  }
  assert.equal(seen.get('a'), undefined);
  const c = (seen.get('c') ?? 0) / 3000;
  assert.ok(c > 0.6 && c < 0.73, `c takes ~2/3 (${c})`);
});

test('excluded priorities (retryRemoteLocalities): their load goes to the others; with none left, the usual loads', () => {
  const list = hosts([[0, 'a', true], [1, 'b', true], [2, 'c', true]]);
  const { lb } = build(list);
  const pickAll = (excludePriorities: ReadonlySet<number>): Set<string> => {
    const out = new Set<string>();
    for (let i = 0; i < 200; i++) out.add(lb.pick({ attempt: 0, excludePriorities })?.place.locality ?? 'none');
    return out;
  };
  assert.deepEqual(pickAll(new Set()), new Set(['a']));
  assert.deepEqual(pickAll(new Set([0])), new Set(['b']));
  assert.deepEqual(pickAll(new Set([0, 1])), new Set(['c']));
  assert.deepEqual(pickAll(new Set([0, 1, 2])), new Set(['a']), 'every level skipped: back to the usual loads');
  // Hashing balancers pick the level from the cluster's loads only, as Envoy's do.
  const hashed = build(list, 0, { policy: 'RING_HASH', minimumRingSize: 64 }).lb;
  assert.equal(hashed.pick({ attempt: 0, hash: 5n, excludePriorities: new Set([0]) })?.place.locality, 'a');
});

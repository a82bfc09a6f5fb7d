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

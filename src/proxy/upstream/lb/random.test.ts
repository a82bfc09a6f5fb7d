import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBalancer } from './random.js';
import { seededRandom } from '../fixtures.js';

const host = (key: string, weight = 1) => ({ key, weight, activeRequests: 0 });

test('picks in proportion to weight (20,000 picks, within 2 percentage points)', () => {
  const lb = randomBalancer([host('a', 1), host('b', 3)], seededRandom(7));
  let a = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) if (lb.pick({ attempt: 0 })?.key === 'a') a++;
  assert.ok(Math.abs(a / n - 0.25) < 0.02, `a got ${a / n}`);
});

test('equal weights are uniform (30,000 picks over 3 hosts, within 2 points)', () => {
  const lb = randomBalancer([host('a'), host('b'), host('c')], seededRandom(3));
  const counts = new Map<string, number>();
  for (let i = 0; i < 30_000; i++) {
    const k = lb.pick({ attempt: 0 })?.key ?? '';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  for (const c of counts.values()) assert.ok(Math.abs(c / 30_000 - 1 / 3) < 0.02);
});

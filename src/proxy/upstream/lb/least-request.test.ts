import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leastRequest } from './least-request.js';
import { seededRandom } from '../fixtures.js';

const host = (key: string, activeRequests: number, weight = 1) => ({ key, weight, activeRequests });

test('two hosts: always the one with fewer active requests (full scan)', () => {
  const lb = leastRequest([host('busy', 4), host('idle', 0)], seededRandom(1));
  for (let i = 0; i < 100; i++) assert.equal(lb.pick({ attempt: 0 })?.key, 'idle');
});

test('two hosts tied: both chosen about equally (reservoir sampling)', () => {
  const lb = leastRequest([host('a', 0), host('b', 0)], seededRandom(2));
  let a = 0;
  for (let i = 0; i < 10_000; i++) if (lb.pick({ attempt: 0 })?.key === 'a') a++;
  assert.ok(Math.abs(a / 10_000 - 0.5) < 0.03, `a got ${a}`);
});

test('power of two choices: the idle host wins whenever sampled, 1-(2/3)^2 = 5/9 of picks', () => {
  const lb = leastRequest([host('idle', 0), host('b', 5), host('c', 5)], seededRandom(3));
  let idle = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) if (lb.pick({ attempt: 0 })?.key === 'idle') idle++;
  assert.ok(Math.abs(idle / n - 5 / 9) < 0.02, `idle got ${idle / n}`);
});

test('unequal weights: weight / (active + 1) decides (EDF)', () => {
  const hosts = [host('heavy', 0, 4), host('light', 0, 1)];
  const lb = leastRequest(hosts, seededRandom(4));
  const counts: Record<string, number> = {};
  for (let i = 0; i < 500; i++) {
    const k = lb.pick({ attempt: 0 })?.key ?? '';
    counts[k] = (counts[k] ?? 0) + 1;
  }
  assert.deepEqual(counts, { heavy: 400, light: 100 });
});

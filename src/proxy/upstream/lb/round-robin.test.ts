import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roundRobin } from './round-robin.js';
import { seededRandom } from '../fixtures.js';

const host = (key: string, weight = 1) => ({ key, weight, activeRequests: 0 });

function count(keys: (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) if (k) out[k] = (out[k] ?? 0) + 1;
  return out;
}

test('equal weights rotate through every host in turn', () => {
  const lb = roundRobin([host('a'), host('b'), host('c')], seededRandom(1));
  const picks = Array.from({ length: 9 }, () => lb.pick({ attempt: 0 })?.key);
  assert.deepEqual(count(picks), { a: 3, b: 3, c: 3 });
  assert.notEqual(picks[0], picks[1]);
  assert.equal(picks[0], picks[3]);
});

test('unequal weights are served exactly in proportion, interleaved (EDF)', () => {
  const lb = roundRobin([host('a', 1), host('b', 2), host('c', 3)], seededRandom(1));
  const picks = Array.from({ length: 600 }, () => lb.pick({ attempt: 0 })?.key);
  assert.deepEqual(count(picks), { a: 100, b: 200, c: 300 });
  // Interleaved: the heaviest host never takes more than 3 picks in a row.
  assert.ok(!picks.join('').includes('cccc'));
});

test('no hosts, no pick', () => {
  assert.equal(roundRobin([], seededRandom(1)).pick({ attempt: 0 }), undefined);
});

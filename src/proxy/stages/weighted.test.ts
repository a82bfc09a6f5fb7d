import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickWeighted } from './weighted.js';

const fixed = (r: number) => () => r;

test('weights are proportional: each item owns weight/sum of the [0, 1) range', () => {
  const items = [{ name: 'v1', weight: 75 }, { name: 'v2', weight: 25 }];
  const cases: [number, string][] = [[0, 'v1'], [0.5, 'v1'], [0.7499, 'v1'], [0.75, 'v2'], [0.9999, 'v2'], [1, 'v2']];
  for (const [r, expected] of cases) assert.equal(pickWeighted(items, fixed(r))?.name, expected, `random ${r}`);
});

test('a weight of 0 is never picked when others exist; a single item always is', () => {
  const items = [{ name: 'zero', weight: 0 }, { name: 'a', weight: 1 }, { name: 'zero2', weight: 0 }, { name: 'b', weight: 1 }];
  for (const r of [0, 0.25, 0.4999, 0.5, 0.99, 1]) assert.notEqual(pickWeighted(items, fixed(r))?.name.startsWith('zero'), true, `random ${r}`);
  assert.equal(pickWeighted([{ name: 'only', weight: 0 }], fixed(0.9))?.name, 'only');
  assert.equal(pickWeighted([{ name: 'only', weight: 30 }], fixed(0.9))?.name, 'only');
  assert.equal(pickWeighted([], fixed(0)), undefined);
});

test('the empirical split follows the weights', () => {
  let seed = 42;
  const lcg = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const items = [{ name: 'a', weight: 10 }, { name: 'b', weight: 30 }, { name: 'c', weight: 60 }];
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 100_000; i++) {
    const name = pickWeighted(items, lcg)?.name ?? '';
    counts[name] = (counts[name] ?? 0) + 1;
  }
  assert.ok(Math.abs((counts.a ?? 0) / 1000 - 10) < 1, JSON.stringify(counts));
  assert.ok(Math.abs((counts.b ?? 0) / 1000 - 30) < 1, JSON.stringify(counts));
  assert.ok(Math.abs((counts.c ?? 0) / 1000 - 60) < 1, JSON.stringify(counts));
});

test('bad weights and bad randomness do not break the choice', () => {
  const items = [{ name: 'neg', weight: -5 }, { name: 'nan', weight: Number.NaN }, { name: 'ok', weight: 1 }];
  for (const r of [0, 0.5, 1, -1, 7, Number.NaN]) assert.equal(pickWeighted(items, fixed(r))?.name, 'ok');
  const allZero = [{ name: 'a', weight: 0 }, { name: 'b', weight: 0 }];
  assert.equal(pickWeighted(allZero, fixed(0.1))?.name, 'a');
  assert.equal(pickWeighted(allZero, fixed(0.9))?.name, 'b');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { IdleCollectionPolicy, collectGarbage, startIdleCollector } from './idle-gc.js';

const MB = 1024 * 1024;

test('policy: collects only after a quiet interval and enough growth, then measures growth from the new level', () => {
  const policy = new IdleCollectionPolicy(0, 10 * MB, 2 * MB);
  assert.equal(policy.tick(5, 20 * MB), false, 'traffic during the interval: V8 is left alone');
  assert.equal(policy.tick(5, 11 * MB), false, 'quiet, but the heap barely grew');
  assert.equal(policy.tick(5, 13 * MB), true, 'quiet and grown by 3 MB');
  policy.collected(8 * MB);
  assert.equal(policy.tick(5, 9 * MB), false, 'growth counts from the level after the collection');
  assert.equal(policy.tick(9, 12 * MB), false);
  assert.equal(policy.tick(9, 12 * MB), true);
});

test('collectGarbage frees garbage the heap still holds', () => {
  let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }));
  const before = getHeapStatistics().used_heap_size;
  assert.ok(garbage.length > 0);
  garbage = undefined;
  collectGarbage();
  const after = getHeapStatistics().used_heap_size;
  assert.ok(after < before - 5 * MB, `used heap ${before} -> ${after}`);
});

test('the collector runs the collection on its timer once quiet, and stops', async (t) => {
  let heap = 10 * MB;
  let collections = 0;
  let activity = 0;
  const stop = startIdleCollector({ activity: () => activity, intervalMs: 5, usedHeap: () => heap, collect: () => { collections++; heap = 9 * MB; } });
  t.after(stop);
  heap = 14 * MB;
  activity = 3;
  while (collections === 0) await new Promise((r) => setTimeout(r, 5));
  stop();
  heap = 30 * MB;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(collections, 1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer } from './debounce.js';
import { FakeClock } from './testing.js';

function debouncer(clock: FakeClock, quietMs: number, maxMs: number): { add: (n: number) => void; fired: string[] } {
  const fired: string[] = [];
  const d = new Debouncer<number[]>({
    quietMs, maxMs, now: clock.now, setTimer: clock.setTimer,
    merge: (a, b) => [...a, ...b],
    fire: (merged, firstAt) => fired.push(`${merged.join(',')} first@${firstAt - start} fired@${clock.now() - start}`),
  });
  const start = clock.now();
  return { add: (n) => d.add([n]), fired };
}

test('a burst is merged and fires once, quietMs after the last change', () => {
  const clock = new FakeClock();
  const { add, fired } = debouncer(clock, 100, 10_000);
  for (let i = 1; i <= 10; i++) {
    add(i);
    clock.advance(30);
  }
  // The last change came at 270; now is 300.
  clock.advance(69);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ['1,2,3,4,5,6,7,8,9,10 first@0 fired@370']);
  clock.advance(10_000);
  assert.equal(fired.length, 1, 'nothing more without new changes');
});

test('a steady trickle fires at maxMs after its first change, then starts a new window', () => {
  const clock = new FakeClock();
  const { add, fired } = debouncer(clock, 100, 500);
  for (let i = 0; i < 10; i++) {
    add(i);
    clock.advance(80);
  }
  clock.advance(100);
  assert.deepEqual(fired, ['0,1,2,3,4,5,6 first@0 fired@500', '7,8,9 first@560 fired@820']);
});

test('quietMs 0 pushes on every change', () => {
  const clock = new FakeClock();
  const { add, fired } = debouncer(clock, 0, 0);
  add(1);
  add(2);
  assert.deepEqual(fired, ['1 first@0 fired@0', '2 first@0 fired@0']);
});
